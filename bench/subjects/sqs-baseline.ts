/**
 * The SNS+SQS baseline: a hand-written AWS SDK loop — PublishBatch (10 per call), several pollers doing
 * ReceiveMessage (10, long polling), parse the SNS notification and the envelope, DeleteMessageBatch per batch.
 */
import { CreateTopicCommand, PublishBatchCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand as SqsCreateQueue,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Countdown, Meter, payload, percentile, uniqueName, waitUntil, withTimeout, handEnvelope } from '../support/common.js';
import { DrainMemory } from '../support/drain-memory.js';
import { awsClients, CallCounter, createTopicQueue, deleteByPrefix, publishBatches, queuePolicy } from '../support/sqs.js';
import { paced } from './amqp-baseline.js';

/** Runs `pollers` receive loops until `stop` aborts; each received batch is handled, then deleted in one call. */
export function startPollers(
  sqs: SQSClient,
  queueUrl: string,
  pollers: number,
  onData: (data: { i: number }) => void,
  waitTimeSeconds = 20,
): { stop: () => Promise<void> } {
  const abort = new AbortController();
  const deletes = new Set<Promise<unknown>>();
  const loop = async () => {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitTimeSeconds }),
          { abortSignal: abort.signal },
        ));
      } catch (error) {
        if (abort.signal.aborted) return;
        throw error;
      }
      if (messages.length === 0) continue;
      for (const m of messages) {
        const notification = JSON.parse(m.Body!) as { Message: string };
        const envelope = JSON.parse(notification.Message) as { data: { i: number } };
        onData(envelope.data);
      }
      const d = sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, k) => ({ Id: String(k), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      deletes.add(d);
      void d.finally(() => deletes.delete(d));
    }
  };
  const running = Array.from({ length: pollers }, loop);
  return {
    stop: async () => {
      abort.abort();
      await Promise.allSettled(running);
      await Promise.allSettled([...deletes]);
    },
  };
}

export async function throughput(p: { n: number; pollers: number; window: number; waitTimeSeconds?: number }) {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-sqs-base');
  const tq = await createTopicQueue(sns, sqs, name);
  const counter = new CallCounter().attach(sns).attach(sqs);
  const handled = new Countdown(p.n);
  const pollers = startPollers(
    sqs,
    tq.queueUrl,
    p.pollers,
    (data) => {
      if (typeof data.i !== 'number') throw new Error('bad message');
      handled.hit();
    },
    p.waitTimeSeconds,
  );
  const meter = new Meter();
  meter.start();
  await publishBatches(sns, tq.topicArn, p.n, p.window);
  await withTimeout(handled.done, 300_000, `${p.n} messages handled`);
  await waitUntil(`${p.n} deletes`, () => counter.deleted >= p.n, 60_000);
  const m = meter.stop();
  const cost = counter.snapshot();
  await pollers.stop();
  await deleteByPrefix(sns, sqs, name);
  return { n: p.n, ...m, ...cost };
}

export async function latency(p: { rate: number; seconds: number; pollers: number }) {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-sqs-base-lat');
  const tq = await createTopicQueue(sns, sqs, name);
  const counter = new CallCounter().attach(sqs);
  const n = Math.round(p.rate * p.seconds);
  const sent = new Array<bigint>(n);
  const lat: number[] = [];
  const done = new Countdown(n);
  const pollers = startPollers(sqs, tq.queueUrl, p.pollers, (data) => {
    lat.push(Number(process.hrtime.bigint() - sent[data.i]) / 1e6);
    done.hit();
  });
  await paced(n, p.rate, async (i) => {
    sent[i] = process.hrtime.bigint();
    await sns.send(
      new PublishBatchCommand({
        TopicArn: tq.topicArn,
        PublishBatchRequestEntries: [{ Id: '0', Message: handEnvelope('bench-event', payload(i)) }],
      }),
    );
  });
  await withTimeout(done.done, 60_000, 'latency messages');
  const receives = counter.calls.ReceiveMessage ?? 0;
  await pollers.stop();
  await deleteByPrefix(sns, sqs, name);
  lat.sort((a, b) => a - b);
  return { n, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], receives };
}

/** PublishBatch only, into the topic's subscribed queue that nobody consumes. */
export async function publishOnly(p: { n: number; window: number }) {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-sqs-base-pub');
  const tq = await createTopicQueue(sns, sqs, name);
  const counter = new CallCounter().attach(sns);
  const meter = new Meter();
  meter.start();
  await publishBatches(sns, tq.topicArn, p.n, p.window);
  const m = meter.stop();
  const cost = counter.snapshot();
  await deleteByPrefix(sns, sqs, name);
  return { n: p.n, ...m, ...cost };
}

/** The plain loop's drain of a backlog: `n` messages published into the topic's queue first, then `pollers` drain them. */
export async function backlogDrain(p: { n: number; pollers: number }) {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-sqs-base-backlog');
  const tq = await createTopicQueue(sns, sqs, name);
  await publishBatches(sns, tq.topicArn, p.n, 10);
  const counter = new CallCounter().attach(sqs);
  const done = new Countdown(p.n);
  const meter = new Meter();
  meter.start();
  const pollers = startPollers(sqs, tq.queueUrl, p.pollers, () => done.hit());
  await withTimeout(done.done, 600_000, 'backlog drained');
  await waitUntil(`${p.n} deletes`, () => counter.deleted >= p.n, 60_000);
  const m = meter.stop();
  const cost = counter.snapshot();
  await pollers.stop();
  await deleteByPrefix(sns, sqs, name);
  return { n: p.n, ...m, ...cost };
}

export async function prefill(p: { name: string; n: number }) {
  const { sns, sqs } = awsClients();
  const tq = await createTopicQueue(sns, sqs, p.name);
  await publishBatches(sns, tq.topicArn, p.n, 10);
  return { n: p.n };
}

export async function drain(p: { name: string; n: number; markAt: number; pollers: number }) {
  const memory = new DrainMemory(p.markAt, false);
  const { sns, sqs } = awsClients();
  const { QueueUrl } = await sqs.send(new SqsCreateQueue({ QueueName: p.name }));
  const done = new Countdown(p.n);
  const meter = new Meter();
  meter.start();
  const pollers = startPollers(sqs, QueueUrl!, p.pollers, () => {
    done.hit();
    memory.onHandled(done.count);
  });
  await withTimeout(done.done, 600_000, 'backlog drained');
  const m = meter.stop();
  const report = memory.finish();
  await pollers.stop();
  await deleteByPrefix(sns, sqs, p.name);
  return { n: p.n, ...m, ...report };
}

/**
 * Provisioning baseline: what a straightforward, non-diffing provisioner does for each subscription on every start
 * (create topic, create queue and its DLQ, read both ARNs, set policy + redrive, subscribe).
 */
export async function provision(p: { prefix: string; subs: number }) {
  const { sns, sqs } = awsClients();
  const counter = new CallCounter().attach(sns).attach(sqs);
  const meter = new Meter();
  meter.start();
  for (let k = 0; k < p.subs; k++) {
    const name = `${p.prefix}-t${k}`;
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    const { QueueUrl: dlqUrl } = await sqs.send(new SqsCreateQueue({ QueueName: `${name}-dlq` }));
    const { Attributes: dlq } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
    const { QueueUrl } = await sqs.send(new SqsCreateQueue({ QueueName: name }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: {
          Policy: queuePolicy(Attributes!.QueueArn!, [TopicArn!]),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq!.QueueArn, maxReceiveCount: 5 }),
          VisibilityTimeout: '30',
        },
      }),
    );
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn }));
  }
  return { subs: p.subs, ...meter.stop(), ...counter.snapshot() };
}

export async function cleanup(p: { prefix: string }) {
  const { sns, sqs } = awsClients();
  await deleteByPrefix(sns, sqs, p.prefix);
  return {};
}
