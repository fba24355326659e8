import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsConsumer, stopBoundMs } from '../../../lib/sns-sqs/consumer.js';
import type { QueuePlan } from '../../../lib/transport/broker.js';
import { deferred } from '../../support/deferred.js';
import { waitFor } from '../../support/wait-for.js';

const plan: QueuePlan = {
  name: 'orders',
  competing: true,
  fifo: false,
  visibilityTimeout: 30,
  deadLetter: null,
  maxReceiveCount: 5,
  retryBackoff: 1,
  concurrency: 1,
  subscriptions: [],
};
const notification = JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:orders', Message: '{}', MessageId: 'm1' });
const DRAIN_MS = 0;
const WAIT_SECONDS = 0;
/** The stop bound here: 2000 ms. The cut-off before it came 1000 ms after the drain, here at once. */
const BOUND_MS = stopBoundMs(DRAIN_MS, WAIT_SECONDS);

/**
 * One message, handled at once; its DeleteMessageBatch answers when `answer` says (or rejects when its call is
 * aborted). Everything else an SQS client would do: an empty receive.
 */
function consumerWithStalledDelete(answer: () => Promise<void>) {
  const lines: string[] = [];
  const deletes = { called: 0, aborted: 0, done: 0 };
  let delivered = false;
  const sqs = {
    send(command: object, options: { abortSignal: AbortSignal }) {
      if (command instanceof ReceiveMessageCommand) {
        const messages = delivered
          ? []
          : [{ MessageId: 'm1', ReceiptHandle: 'h1', Body: notification, Attributes: { ApproximateReceiveCount: '1' } }];
        delivered = true;
        return Promise.resolve({ Messages: messages });
      }
      if (command instanceof DeleteMessageBatchCommand) {
        deletes.called += 1;
        const signal = options.abortSignal;
        return new Promise((resolve, reject) => {
          const aborted = () => {
            deletes.aborted += 1;
            reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
          };
          signal.addEventListener('abort', aborted, { once: true });
          void answer().then(() => {
            if (signal.aborted) return;
            signal.removeEventListener('abort', aborted);
            deletes.done += 1;
            resolve({ Successful: [{ Id: '0' }], Failed: [], $metadata: {} });
          });
        });
      }
      return Promise.reject(new Error(`unexpected ${command.constructor.name}`));
    },
  };
  const logger = { log() {}, warn: (line: string) => lines.push(`WARN ${line}`), error: (line: string) => lines.push(`ERROR ${line}`) };
  const consumer = new SqsConsumer(
    sqs as unknown as SQSClient,
    { plan, queueUrl: 'q', topicPrefix: '', waitTimeSeconds: WAIT_SECONDS, requestTimeout: 1000 },
    async () => ({ kind: 'ack' }),
    logger,
  );
  return { consumer, deletes, lines };
}

describe('SqsConsumer.stop: the deletes of handled messages', () => {
  it('a delete still in flight when stop begins is completed, not cut off, while the stop bound allows', async () => {
    // answered half-way between the old cut-off (1000 ms after the drain) and the bound (2000 ms after stop began)
    const answerAt = BOUND_MS - 500;
    const stopping = deferred();
    const { consumer, deletes, lines } = consumerWithStalledDelete(() =>
      stopping.promise.then(() => new Promise<void>((resolve) => setTimeout(resolve, answerAt))),
    );
    consumer.start();
    await waitFor(() => deletes.called === 1, { what: 'the delete of the handled message' });
    const stopStarted = Date.now();
    stopping.resolve();
    await consumer.stop(DRAIN_MS);
    expect(deletes).toEqual({ called: 1, aborted: 0, done: 1 });
    expect(Date.now() - stopStarted).toBeGreaterThanOrEqual(answerAt - 50);
    expect(lines).toEqual([]);
  });

  it('a delete still unanswered at the stop bound is cut off, with one line that says so', async () => {
    const { consumer, deletes, lines } = consumerWithStalledDelete(() => new Promise<void>(() => undefined));
    consumer.start();
    await waitFor(() => deletes.called === 1, { what: 'the delete of the handled message' });
    const stopStarted = Date.now();
    await consumer.stop(DRAIN_MS);
    expect(Date.now() - stopStarted).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(deletes).toEqual({ called: 1, aborted: 1, done: 0 });
    expect(lines).toEqual([
      `WARN Stopping the consumer of orders: 1 delete(s) of handled messages still unfinished after ${BOUND_MS} ms (the stop bound) were cut off; those messages will be delivered again`,
    ]);
  });
});
