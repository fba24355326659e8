/**
 * Peer: @ssut/nestjs-sqs 3 (Nest 11, sqs-consumer underneath) consuming the same topic -> queue setup the
 * baseline uses; messages are published with the baseline's PublishBatch loop (the peer's producer sends to SQS
 * only, not to a topic). `batch: false` is the per-message handler (sqs-consumer deletes each with DeleteMessage),
 * `batch: true` the batch handler (DeleteMessageBatch).
 */
import { Countdown, Meter, uniqueName, waitUntil, withTimeout } from '../support/common.js';
import { loadNest11, peerRequire, type Any } from '../support/peers.js';
import {
  awsClients,
  CallCounter,
  createTopicQueue,
  CREDENTIALS,
  deleteByPrefix,
  endpoint,
  publishBatches,
  REGION,
} from '../support/sqs.js';

const { common, core } = loadNest11();
const { Injectable, Module } = common;
const { SqsModule, SqsMessageHandler } = peerRequire('@ssut/nestjs-sqs');
const { SQSClient } = peerRequire('@aws-sdk/client-sqs');

const CONSUMER = 'bench-consumer';
const BATCH = process.env.BENCH_SSUT_BATCH === '1';
const sink: { onMessage: (data: Any) => void } = { onMessage: () => undefined };

function handle(message: Any): void {
  const notification = JSON.parse(message.Body) as { Message: string };
  sink.onMessage((JSON.parse(notification.Message) as { data: unknown }).data);
}

@Injectable()
class Handler {
  @SqsMessageHandler(CONSUMER, BATCH)
  async onMessage(input: Any) {
    if (Array.isArray(input)) input.forEach(handle);
    else handle(input);
  }
}

export async function throughput(p: { n: number; window: number }) {
  const { sns, sqs } = awsClients();
  const name = uniqueName('bench-sqs-ssut');
  const tq = await createTopicQueue(sns, sqs, name);
  const consumerSqs = new SQSClient({ region: REGION, endpoint: endpoint(), credentials: CREDENTIALS });
  const counter = new CallCounter().attach(sns).attach(consumerSqs);
  @Module({
    imports: [
      SqsModule.register({
        consumers: [{ name: CONSUMER, queueUrl: tq.queueUrl, region: REGION, sqs: consumerSqs, batchSize: 10, waitTimeSeconds: 20 }],
      }),
    ],
    providers: [Handler],
  })
  class SsutAppModule {}
  const app = await core.NestFactory.createApplicationContext(SsutAppModule, { logger: ['error'] });
  await app.init();
  const handled = new Countdown(p.n);
  sink.onMessage = (data) => {
    if (typeof data.i !== 'number') throw new Error('bad message');
    handled.hit();
  };
  const meter = new Meter();
  meter.start();
  await publishBatches(sns, tq.topicArn, p.n, p.window);
  await withTimeout(handled.done, 300_000, `${p.n} messages handled`);
  await waitUntil(`${p.n} deletes`, () => counter.deleted >= p.n, 60_000);
  const m = meter.stop();
  const cost = counter.snapshot();
  await app.close();
  await deleteByPrefix(sns, sqs, name);
  return { n: p.n, batch: BATCH, ...m, ...cost };
}
