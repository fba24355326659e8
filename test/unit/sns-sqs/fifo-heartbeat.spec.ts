import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsConsumer } from '../../../lib/sns-sqs/consumer.js';
import type { InboundDelivery, QueuePlan } from '../../../lib/transport/broker.js';
import { deferred } from '../../support/deferred.js';
import { waitFor } from '../../support/wait-for.js';

const plan: QueuePlan = {
  name: 'orders.fifo',
  competing: true,
  fifo: true,
  visibilityTimeout: 1,
  deadLetter: null,
  maxReceiveCount: 5,
  retryBackoff: 1,
  concurrency: 10,
  subscriptions: [],
};
const notification = (id: string) =>
  JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:orders.fifo', Message: '{}', MessageId: id });

describe('SqsConsumer, FIFO: the messages of a group waiting their turn', () => {
  it("are extended while an earlier message of their group is handled, so they stay this process's", async () => {
    const extended = new Set<string>();
    let delivered = false;
    const sqs = {
      send(command: object) {
        if (command instanceof ReceiveMessageCommand) {
          // one receive with three messages of one group, as SQS hands them out
          const messages = delivered
            ? []
            : ['m1', 'm2', 'm3'].map((id) => ({
                MessageId: id,
                ReceiptHandle: `h-${id}`,
                Body: notification(id),
                Attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'g' },
              }));
          delivered = true;
          return Promise.resolve({ Messages: messages });
        }
        if (command instanceof ChangeMessageVisibilityBatchCommand) {
          for (const entry of command.input.Entries ?? []) if (entry.VisibilityTimeout! > 0) extended.add(entry.ReceiptHandle!);
          return Promise.resolve({ Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] });
        }
        if (command instanceof DeleteMessageBatchCommand)
          return Promise.resolve({ Successful: (command.input.Entries ?? []).map((e) => ({ Id: e.Id })), Failed: [] });
        return Promise.reject(new Error(`unexpected ${command.constructor.name}`));
      },
    };
    const firstRunning = deferred();
    const releaseFirst = deferred();
    const handled: string[] = [];
    const consumer = new SqsConsumer(
      sqs as unknown as SQSClient,
      { plan, queueUrl: 'q', topicPrefix: '', waitTimeSeconds: 0, requestTimeout: 1000 },
      async (delivery: InboundDelivery) => {
        if (delivery.messageId === 'm1') {
          firstRunning.resolve();
          await releaseFirst.promise;
        }
        handled.push(delivery.messageId);
        return { kind: 'ack' };
      },
      { log() {}, warn() {}, error() {} },
    );
    consumer.start();
    try {
      await firstRunning.promise;
      // m1's handler outlasts the visibility timeout: m2 and m3, not yet started, are extended all the same
      await waitFor(() => extended.has('h-m2') && extended.has('h-m3'), { timeoutMs: 5000, what: 'm2 and m3 extended while m1 runs' });
      expect(handled).toEqual([]);
      releaseFirst.resolve();
      await waitFor(() => handled.length === 3, { what: 'the group handled' });
      expect(handled).toEqual(['m1', 'm2', 'm3']);
    } finally {
      releaseFirst.resolve();
      await consumer.stop(0);
    }
  });
});
