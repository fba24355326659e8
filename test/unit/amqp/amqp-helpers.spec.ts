import { AmqpBroker } from '../../../lib/amqp/amqp.broker.js';
import { toHeaders } from '../../../lib/amqp/headers.js';
import { amqpMessageId, contentTypeOf } from '../../../lib/amqp/publisher.js';
import { newMessageUuid } from '../../../lib/envelopes/envelope-fields.js';
import { MessagingOptionsError } from '../../../lib/errors.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import type { QueuePlan } from '../../../lib/transport/broker.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };
const plan = (over: Partial<QueuePlan> = {}): QueuePlan => ({
  name: 'billing',
  competing: true,
  fifo: false,
  visibilityTimeout: 30,
  deadLetter: { name: 'billing-dlq' },
  maxReceiveCount: 5,
  retryBackoff: 1,
  concurrency: 10,
  subscriptions: [{ pattern: 'order.*' }],
  ...over,
});

describe('AMQP helpers', () => {
  it('content type follows the body', () => {
    expect(contentTypeOf('{"a":1}')).toBe('application/json');
    expect(contentTypeOf('CgR0ZXN0')).toBe('text/plain');
    expect(contentTypeOf(Buffer.from([1]))).toBe('application/octet-stream');
    expect(toHeaders({})).toBeUndefined();
    expect(toHeaders({ a: 'x', b: new Uint8Array([1]) })).toEqual({ a: 'x', b: Buffer.from([1]) });
  });

  it('validate() names the option for names RabbitMQ would reject, without I/O', () => {
    const broker = new AmqpBroker(resolveModuleOptions({ transport: 'amqp', serviceName: 'billing' }), silent);
    expect(() => broker.validate([plan()])).not.toThrow();
    expect(() => broker.validate([plan({ name: 'amq.billing' })])).toThrow(/queueName.*amq\./);
    expect(() => broker.validate([plan({ name: 'x'.repeat(250) })])).toThrow(MessagingOptionsError);
    expect(() => broker.validate([plan({ deadLetter: { name: 'é'.repeat(130) } })])).toThrow(/deadLetterQueueName/);
    expect(() => broker.validate([plan({ subscriptions: [{ pattern: 'a', exchange: '' }] })])).toThrow(/exchange/);
    expect(() => broker.validate([plan({ fifo: true })])).toThrow(/fifo/);
    expect(() => broker.validate([plan({ subscriptions: [{ pattern: 'a', filterPolicy: { x: ['y'] } }] })])).not.toThrow();
    expect(() => broker.validate([plan({ subscriptions: [{ pattern: 'a', filterPolicy: { x: [{ cidr: '10.0.0.0/8' }] } }] })])).toThrow(
      /filterPolicy\.x\[0\].*"cidr" is not supported/,
    );
    expect(() =>
      broker.validate([plan({ subscriptions: [{ pattern: 'a', filterPolicy: { x: ['y'] }, filterPolicyScope: 'MessageBody' }] })]),
    ).toThrow(/filterPolicyScope/);
  });
});

describe('amqpMessageId', () => {
  it("is the message uuid's own uuid4, short enough to keep the properties in RabbitMQ's cheap path", () => {
    const service = '0b7a41c3-6f1e-4a9c-9d2e-2f5c8e1d7a44';
    const messageUuid = newMessageUuid(service);
    const id = amqpMessageId(messageUuid);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(`${service}.${id}`).toBe(messageUuid);
  });

  it('keeps a uuid without a service part whole', () => {
    expect(amqpMessageId('6f632879-8941-42dd-85b7-cb0f0abcc538')).toBe('6f632879-8941-42dd-85b7-cb0f0abcc538');
  });
});
