import { MessagingOptionsError } from '../../../lib/index.js';
import { checkSubscriptionExtras, resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { queueOnlyPlan } from '../../../lib/server/queue-only-plan.js';
import { parseQueueOnlyBody } from '../../../lib/sns-sqs/notification.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { parseQueueRef } from '../../../lib/transport/queue-ref.js';

describe('queue-only extra (queue)', () => {
  it('accepts a queue with envelope, protoClass, concurrency and competing: true', () => {
    expect(checkSubscriptionExtras({ queue: 'orders', concurrency: 3, competing: true }, 'order-paid')).toEqual({
      queue: 'orders',
      concurrency: 3,
      competing: true,
    });
  });

  it.each(['queueName', 'filterPolicy', 'visibilityTimeout', 'deadLetterQueueName', 'maxReceiveCount', 'fifo', 'exchange', 'topicArn'])(
    'refuses queue together with %s, saying what to remove',
    (key) => {
      const value =
        key === 'filterPolicy'
          ? { a: ['b'] }
          : key === 'fifo'
            ? true
            : key === 'visibilityTimeout' || key === 'maxReceiveCount'
              ? 5
              : key === 'topicArn'
                ? 'arn:aws:sns:eu-west-1:111122223333:orders'
                : 'x';
      const error = (() => {
        try {
          checkSubscriptionExtras({ queue: 'orders', [key]: value }, 'order-paid');
        } catch (e) {
          return e as MessagingOptionsError;
        }
        throw new Error('not refused');
      })();
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect(error.option).toBe(`@EventPattern('order-paid').${key}`);
      expect(error.message).toContain(`remove ${key}`);
    },
  );

  it('refuses competing: false and an empty queue', () => {
    expect(() => checkSubscriptionExtras({ queue: 'orders', competing: false }, 't')).toThrow(/cannot be combined with queue/);
    expect(() => checkSubscriptionExtras({ queue: '' }, 't')).toThrow(/queue.*non-empty string/);
  });

  it('plans the existing queue: queueNamePrefix on a bare name only, FIFO from the name, no dead-letter queue', () => {
    const options = resolveModuleOptions({ transport: 'sns-sqs', serviceName: 'svc', queueNamePrefix: 'prod-' });
    expect(queueOnlyPlan('t', { queue: 'orders' }, options, snsSqsTransport)).toMatchObject({
      name: 'prod-orders',
      existingQueue: 'prod-orders',
      deadLetter: null,
    });
    const url = 'http://sqs.us-east-1.localhost:4566/000000000000/other.fifo';
    expect(queueOnlyPlan('t', { queue: url }, options, snsSqsTransport)).toMatchObject({
      name: 'other.fifo',
      existingQueue: url,
      fifo: true,
    });
    const arn = 'arn:aws:sqs:eu-west-1:123456789012:by-arn';
    expect(parseQueueRef(arn)).toEqual({ kind: 'arn', name: 'by-arn', arn, region: 'eu-west-1', account: '123456789012' });
  });
});

describe('parseQueueOnlyBody', () => {
  const envelope = '{"metadata":{"topic":"t"},"data":1}';
  it('reads an SNS notification, a tomodachi queue body and a bare envelope', () => {
    const sns = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:000000000000:t',
      Message: envelope,
      MessageId: 'sns-id',
      MessageAttributes: { a: { Type: 'Number', Value: '2' } },
    });
    expect(parseQueueOnlyBody(sns, 'sqs-id', undefined)).toEqual({
      ok: true,
      body: { topicArn: 'arn:aws:sns:us-east-1:000000000000:t', message: envelope, messageId: 'sns-id', attributes: { a: 2 } },
    });
    const wrapped = JSON.stringify({
      Type: 'Message',
      QueueUrl: 'u',
      Version: '0',
      Message: envelope,
      MessageAttributes: { b: { Type: 'String', Value: 'x' } },
    });
    expect(parseQueueOnlyBody(wrapped, 'sqs-id', undefined)).toEqual({
      ok: true,
      body: { message: envelope, messageId: 'sqs-id', attributes: { b: 'x' } },
    });
    expect(parseQueueOnlyBody(envelope, 'sqs-id', { c: { DataType: 'Binary', BinaryValue: Buffer.from('hi') } })).toEqual({
      ok: true,
      body: { message: envelope, messageId: 'sqs-id', attributes: { c: Buffer.from('hi') } },
    });
    expect(parseQueueOnlyBody('', 'sqs-id', undefined)).toEqual({ ok: false, reason: 'SQS message has an empty body' });
  });
});
