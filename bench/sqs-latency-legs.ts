/**
 * Where the publish → handler time goes on SNS+SQS at 100 msg/s, the library against the plain SDK loop of
 * `npm run bench -- latency` (PublishBatch of one, one long-polling poller), each in turn against one fauxqs process.
 * Three legs per message, timed on the clients' middleware stacks (the last step before the HTTP request):
 *   publish: from the emit (or the plain loop's send) until its PublishBatch request leaves the process, signed;
 *   wire:    from there until the ReceiveMessage response that brings it back is read and parsed by the SDK (network,
 *            the emulator's fan-out, the SDK's deserialising: alike on both sides);
 *   receive: from that parsed response until the handler starts (decoding, routing, Nest's pipeline).
 * At 100 msg/s with one poll in flight each response carries one message: the latest response is the one that brought
 * the message being handled.
 * Compile with the bench (tsconfig.sample.json), then
 *   node dist-sample/bench/sqs-latency-legs.js [rounds=3] [messages=1000]
 * A recorded run: bench/results/sqs-latency-legs.txt.
 */
import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handEnvelope, payload, percentile, sleep, uniqueName } from './support/common.js';
import { createOursApp, sink, TOPIC } from './support/ours-app.js';
import { startFauxqsProcess } from './support/spawn.js';
import { awsClients, createTopicQueue, deleteByPrefix } from './support/sqs.js';
import { options as oursOptions } from './subjects/sqs-ours.js';
import { paced } from './subjects/amqp-baseline.js';
import { startPollers } from './subjects/sqs-baseline.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const MESSAGES = Number(process.argv[3] ?? 1000);
const RATE = 100;

interface Timings {
  emitted: number[];
  sent: number[];
  arrived: number[];
  handled: number[];
}

const now = () => performance.now();

/** Records when each PublishBatch leaves (by the `i` in its entry's body) and when each ReceiveMessage response arrives. */
function timeCalls(sns: SNSClient, sqs: SQSClient, t: Timings): { lastArrival: () => number } {
  let lastArrival = 0;
  sns.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'PublishBatchCommand') {
        const entries = (args.input as { PublishBatchRequestEntries: { Message: string }[] }).PublishBatchRequestEntries;
        for (const entry of entries) t.sent[Number(/"i":(\d+)/.exec(entry.Message)![1])] = now();
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'legs-publish' },
  );
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'ReceiveMessageCommand') lastArrival = now();
      return result;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'legs-receive' },
  );
  return { lastArrival: () => lastArrival };
}

async function plainLoop(t: Timings): Promise<void> {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-legs-base');
  const tq = await createTopicQueue(sns, sqs, name);
  const calls = timeCalls(sns, sqs, t);
  const pollers = startPollers(sqs, tq.queueUrl, 1, (data) => {
    t.handled[data.i] = now();
    t.arrived[data.i] = calls.lastArrival();
  });
  try {
    await paced(MESSAGES, RATE, (i) => {
      t.emitted[i] = now();
      return sns.send(
        new PublishBatchCommand({
          TopicArn: tq.topicArn,
          PublishBatchRequestEntries: [{ Id: '0', Message: handEnvelope(TOPIC, payload(i)) }],
        }),
      );
    });
    await waitForAll(t);
  } finally {
    await pollers.stop();
    await deleteByPrefix(sns, sqs, name);
  }
}

async function library(t: Timings): Promise<void> {
  const prefix = uniqueName('bench-legs-ours');
  const ours = await createOursApp(oursOptions(prefix, 10));
  const { sqs } = ours.server.unwrap<{ sqs: SQSClient }>();
  const { sns } = ours.client.unwrap<{ sns: SNSClient }>();
  const calls = timeCalls(sns, sqs, t);
  sink.onMessage = (data) => {
    t.handled[data.i] = now();
    t.arrived[data.i] = calls.lastArrival();
  };
  try {
    await ours.listen();
    await paced(MESSAGES, RATE, (i) => {
      t.emitted[i] = now();
      return ours.emit(payload(i));
    });
    await waitForAll(t);
  } finally {
    await ours.close();
    const { sns: plainSns, sqs: plainSqs } = awsClients();
    await deleteByPrefix(plainSns, plainSqs, prefix);
  }
}

async function waitForAll(t: Timings): Promise<void> {
  const deadline = now() + 30_000;
  while (t.handled.filter((x) => x !== undefined).length < MESSAGES) {
    if (now() > deadline) throw new Error('not every message reached its handler within 30 s');
    await sleep(20);
  }
}

function legs(t: Timings) {
  const leg = (from: number[], to: number[]) => from.map((f, i) => to[i] - f).sort((a, b) => a - b);
  const fmt = (values: number[]) => `${percentile(values, 50).toFixed(2)} / ${percentile(values, 99).toFixed(2)}`;
  return {
    publish: fmt(leg(t.emitted, t.sent)),
    wire: fmt(leg(t.sent, t.arrived)),
    receive: fmt(leg(t.arrived, t.handled)),
    total: fmt(leg(t.emitted, t.handled)),
  };
}

const fresh = (): Timings => ({ emitted: [], sent: [], arrived: [], handled: [] });
const aws = await startFauxqsProcess();
process.env.BENCH_AWS_ENDPOINT = aws.endpoint;
try {
  console.log('ms, p50 / p99 | publish | wire + emulator | receive → handler | total');
  for (let round = 0; round < ROUNDS; round++) {
    for (const [label, run] of [
      ['plain SDK loop', plainLoop],
      ['nestjs-messaging', library],
    ] as const) {
      const t = fresh();
      await run(t);
      const l = legs(t);
      console.log(`round ${round + 1}, ${label.padEnd(16)} | ${l.publish} | ${l.wire} | ${l.receive} | ${l.total}`);
    }
  }
} finally {
  await aws.stop();
}
