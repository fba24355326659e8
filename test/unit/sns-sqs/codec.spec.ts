import { MessagingOptionsError } from '../../../lib/errors.js';
import { fromNotificationAttributes, toSnsAttributes } from '../../../lib/sns-sqs/attributes.js';
import { topicFromArn, topicName, validateQueuePlans } from '../../../lib/sns-sqs/naming.js';
import { parseNotification } from '../../../lib/sns-sqs/notification.js';
import { queuePolicy, sameJson, subscribeGrant } from '../../../lib/sns-sqs/policy.js';
import { kmsValue } from '../../../lib/sns-sqs/kms.js';
import type { QueuePlan } from '../../../lib/transport/broker.js';

const plan = (overrides: Partial<QueuePlan> = {}): QueuePlan => ({
  name: 'billing',
  competing: true,
  fifo: false,
  visibilityTimeout: 30,
  deadLetter: { name: 'billing-dlq' },
  maxReceiveCount: 5,
  retryBackoff: 1,
  concurrency: 10,
  subscriptions: [{ pattern: 'order-paid' }],
  ...overrides,
});

describe('SNS+SQS attributes', () => {
  it('types outbound attributes as tomodachi does', () => {
    expect(toSnsAttributes({ s: 'EUR', n: 1.5, b: Buffer.from('hi'), t: true, z: null, a: ['x', 1] })).toEqual({
      s: { DataType: 'String', StringValue: 'EUR' },
      n: { DataType: 'Number', StringValue: '1.5' },
      b: { DataType: 'Binary', BinaryValue: Buffer.from('hi') },
      t: { DataType: 'String.Array', StringValue: 'true' },
      z: { DataType: 'String.Array', StringValue: 'null' },
      a: { DataType: 'String.Array', StringValue: '["x",1]' },
    });
  });

  it('reads inbound notification attributes back to values', () => {
    expect(
      fromNotificationAttributes({
        s: { Type: 'String', Value: 'EUR' },
        n: { Type: 'Number', Value: '42' },
        b: { Type: 'Binary', Value: Buffer.from('hi').toString('base64') },
        a: { Type: 'String.Array', Value: '["x",1]' },
        bad: { Type: 'String.Array', Value: '[' },
      }),
    ).toEqual({ s: 'EUR', n: 42, b: Buffer.from('hi'), a: ['x', 1], bad: '[' });
  });
});

describe('SNS+SQS notification parsing', () => {
  it('accepts an SNS notification and turns anything else into a reason, never a throw', () => {
    const ok = parseNotification(
      JSON.stringify({
        Type: 'Notification',
        MessageId: 'm',
        TopicArn: 'arn:aws:sns:us-east-1:1:t',
        Message: 'x',
        MessageAttributes: { a: { Type: 'Number', Value: '1' } },
      }),
    );
    expect(ok).toEqual({
      ok: true,
      notification: { topicArn: 'arn:aws:sns:us-east-1:1:t', message: 'x', messageId: 'm', attributes: { a: 1 } },
    });
    for (const body of [
      undefined,
      '',
      'garbage',
      '[1]',
      '"s"',
      '{"a":1}',
      JSON.stringify({ Type: 'SubscriptionConfirmation', TopicArn: 'x', Message: 'y' }),
    ]) {
      const parsed = parseNotification(body);
      expect(parsed.ok).toBe(false);
      expect((parsed as { reason: string }).reason).toEqual(expect.any(String));
    }
  });
});

describe('SNS+SQS naming', () => {
  it('encodes topic names reversibly and strips the prefix back off', () => {
    expect(topicName('prod-', 'order.paid', false)).toBe('prod-order___2e_paid');
    expect(topicName('', 'orders', true)).toBe('orders.fifo');
    expect(topicFromArn('arn:aws:sns:us-east-1:1:prod-order___2e_paid', 'prod-')).toBe('order.paid');
    expect(topicFromArn('arn:aws:sns:us-east-1:1:prod-orders.fifo', 'prod-')).toBe('orders');
    expect(topicFromArn('arn:aws:sns:us-east-1:1:other', 'prod-')).toBeUndefined();
  });

  it('accepts valid plans and names the option of a name SQS would reject', () => {
    expect(() => validateQueuePlans([plan(), plan({ name: 'x'.repeat(75), fifo: true, deadLetter: null })], '')).not.toThrow();
    const cases: Array<[Partial<QueuePlan>, RegExp]> = [
      [{ name: 'bad.name' }, /queueName.*only A-Z/],
      [{ name: 'x'.repeat(81), deadLetter: null }, /queueName.*at most 80/],
      [{ name: 'x'.repeat(76), fifo: true, deadLetter: null }, /queueName.*'.fifo'.*at most 80/],
      [{ name: 'ok', deadLetter: { name: 'bad dlq' } }, /deadLetterQueueName/],
      [{ name: 'q.fifo', deadLetter: null }, /only for a FIFO/],
      [{ subscriptions: [{ pattern: 'y'.repeat(257) }] }, /at most 256/],
      [
        { subscriptions: [{ pattern: 'order.*', topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders' }] },
        /topicArn.*may not hold wildcards/,
      ],
    ];
    for (const [overrides, message] of cases) {
      let error: unknown;
      try {
        validateQueuePlans([plan(overrides)], '');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect(`${(error as MessagingOptionsError).option}: ${(error as Error).message}`).toMatch(message);
    }
  });
});

describe('SNS+SQS provisioning helpers', () => {
  it('KMS settings: undefined/null leave as is, false or empty disable, a string sets', () => {
    expect(kmsValue(undefined)).toBeUndefined();
    expect(kmsValue(null)).toBeUndefined();
    expect(kmsValue(false)).toBe('');
    expect(kmsValue('')).toBe('');
    expect(kmsValue('alias/x')).toBe('alias/x');
  });

  it('the queue policy allows exactly the topic ARNs, compared regardless of order', () => {
    const a = queuePolicy('arn:q', ['arn:t2', 'arn:t1']);
    const b = queuePolicy('arn:q', ['arn:t1', 'arn:t2']);
    expect(sameJson(a, b)).toBe(true);
    expect(sameJson(a, queuePolicy('arn:q', ['arn:t1']))).toBe(false);
    expect(JSON.parse(a).Statement[0].Condition.ArnEquals['aws:SourceArn']).toEqual(['arn:t1', 'arn:t2']);
    expect(sameJson('{"maxReceiveCount":"5","deadLetterTargetArn":"a"}', '{"deadLetterTargetArn":"a","maxReceiveCount":5}')).toBe(true);
  });
});

describe('subscribeGrant', () => {
  it("lets the queue's account subscribe exactly that queue, over sqs, to exactly that topic", () => {
    const topicArn = 'arn:aws:sns:us-east-2:222222222222:orders';
    const queueArn = 'arn:aws:sqs:eu-west-1:111111111111:billing';
    expect(JSON.parse(subscribeGrant(topicArn, queueArn))).toEqual({
      Sid: 'AllowSqsSubscribeFrom111111111111',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::111111111111:root' },
      Action: 'sns:Subscribe',
      Resource: topicArn,
      Condition: { StringEquals: { 'sns:Protocol': 'sqs', 'sns:Endpoint': queueArn } },
    });
  });
});
