import type { MessageHandler } from '@nestjs/microservices';
import { JsonEnvelope, RawEnvelope, type MessagingModuleOptions } from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { amqpTransport } from '../../../lib/amqp/definition.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { Person } from '../../support/proto-person.js';

const handler = (extras: Record<string, unknown> = {}): MessageHandler =>
  Object.assign(async () => undefined, { isEventHandler: true, extras }) as unknown as MessageHandler;
const options = (overrides: Partial<MessagingModuleOptions> = {}) =>
  resolveModuleOptions({ transport: 'sns-sqs', serviceName: 'billing', ...overrides });
const INSTANCE_A = '3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1e';
const INSTANCE_B = '8d1c0b7a-2e3f-4a5b-8c9d-0e1f2a3b4c5d';
const plan = (
  extras: Record<string, unknown>,
  overrides: Partial<MessagingModuleOptions> = {},
  pattern = 'order.paid',
  instance = INSTANCE_A,
) => planQueues(new Map([[pattern, handler(extras)]]), options(overrides), snsSqsTransport, instance)[0].plan;

describe('planQueues: queue names', () => {
  it('generates a readable competing name from service and encoded topic, the same for every call and every instance', () => {
    const a = plan({});
    expect(a.name).toBe('billing--order___2e_paid');
    expect(a.competing).toBe(true);
    expect(plan({}).name).toBe(a.name);
    expect(plan({}, {}, 'order.paid', INSTANCE_B).name).toBe(a.name);
    expect(plan({ competing: true }).name).toBe(a.name);
  });

  it('gives a non-competing subscription a name unique to the instance id, stable within it', () => {
    const a = plan({ competing: false });
    const b = plan({ competing: false }, {}, 'order.paid', INSTANCE_B);
    expect(a.competing).toBe(false);
    expect(a.name).toBe('billing--order___2e_paid--3f2b9c1e7a4d');
    expect(b.name).toBe('billing--order___2e_paid--8d1c0b7a2e3f');
    expect(plan({ competing: false }).name).toBe(a.name);
    expect(a.name).not.toBe(plan({}).name);
  });

  it('applies queueNamePrefix to generated, explicit and dead-letter names, once', () => {
    const prefix = { queueNamePrefix: 'prod-' };
    expect(plan({}, prefix).name).toBe('prod-billing--order___2e_paid');
    expect(plan({}, prefix).deadLetter).toEqual({ name: 'prod-billing--order___2e_paid-dlq' });
    expect(plan({ competing: false }, prefix).name).toBe('prod-billing--order___2e_paid--3f2b9c1e7a4d');
    expect(plan({ queueName: 'billing-orders' }, prefix).name).toBe('prod-billing-orders');
    expect(plan({ queueName: 'billing-orders' }, prefix).deadLetter).toEqual({ name: 'prod-billing-orders-dlq' });
    expect(plan({ queueName: 'billing-orders', deadLetterQueueName: 'dead' }, prefix).deadLetter).toEqual({ name: 'prod-dead' });
  });

  it('does not put topicPrefix into queue names (the broker applies it to topics)', () => {
    expect(plan({}, { topicPrefix: 'prod-' }).name).toBe('billing--order___2e_paid');
  });

  it('encodes service names SQS would refuse', () => {
    expect(
      planQueues(new Map([['t', handler()]]), options({ serviceName: 'billing.eu ✓' }), snsSqsTransport, INSTANCE_A)[0].plan.name,
    ).toBe('billing___2e_eu___20____e29c93_--t');
  });

  it("fits long generated names with their -dlq and .fifo suffixes within SQS's 80 characters, stable and distinct", () => {
    const longTopic = (end: string) => `${'inventory.adjustment.requested.'.repeat(4)}${end}`;
    for (const competing of [true, false]) {
      const one = plan({ competing, fifo: true }, { queueNamePrefix: 'staging-eu-west-1-' }, longTopic('one'));
      const two = plan({ competing, fifo: true }, { queueNamePrefix: 'staging-eu-west-1-' }, longTopic('two'));
      expect(`${one.deadLetter!.name}.fifo`.length).toBeLessThanOrEqual(80);
      expect(`${one.name}.fifo`.length).toBeLessThanOrEqual(80);
      expect(one.name).toMatch(/^staging-eu-west-1-billing--inventory/);
      expect(one.name).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(one.name).not.toBe(two.name);
      expect(plan({ competing, fifo: true }, { queueNamePrefix: 'staging-eu-west-1-' }, longTopic('one')).name).toBe(one.name);
    }
  });
});

describe('planQueues: dead-letter queue', () => {
  it('defaults to <queue>-dlq with the module maxReceiveCount (5)', () => {
    expect(plan({ queueName: 'billing' })).toMatchObject({ deadLetter: { name: 'billing-dlq' }, maxReceiveCount: 5 });
    expect(plan({}).deadLetter).toEqual({ name: 'billing--order___2e_paid-dlq' });
  });

  it('deadLetterQueueName: false turns it off for that handler', () => {
    expect(plan({ queueName: 'billing', deadLetterQueueName: false }).deadLetter).toBeNull();
  });

  it('module deadLetterQueue: false turns it off for every handler without an explicit name', () => {
    expect(plan({ queueName: 'billing' }, { deadLetterQueue: false }).deadLetter).toBeNull();
    expect(plan({}, { deadLetterQueue: false }).deadLetter).toBeNull();
    expect(plan({ queueName: 'billing', deadLetterQueueName: 'billing-dead' }, { deadLetterQueue: false }).deadLetter).toEqual({
      name: 'billing-dead',
    });
  });

  it('takes maxReceiveCount from the handler over the module', () => {
    expect(plan({ maxReceiveCount: 2 }, { maxReceiveCount: 9 }).maxReceiveCount).toBe(2);
    expect(plan({}, { maxReceiveCount: 9 }).maxReceiveCount).toBe(9);
  });
});

describe('planQueues: other settings', () => {
  it('fills defaults and carries extras into the plan and the route', () => {
    const h = handler({
      filterPolicy: { currency: ['EUR'] },
      filterPolicyScope: 'MessageBody',
      envelope: RawEnvelope,
      protoClass: Person,
    });
    const [queue] = planQueues(new Map([['order-paid', h]]), options({ retryBackoff: 2, concurrency: 4 }), snsSqsTransport, INSTANCE_A);
    expect(queue.plan).toMatchObject({ fifo: false, visibilityTimeout: 30, retryBackoff: 2, concurrency: 4 });
    expect(queue.plan.subscriptions).toEqual([
      { pattern: 'order-paid', filterPolicy: { currency: ['EUR'] }, filterPolicyScope: 'MessageBody' },
    ]);
    expect(queue.routes).toEqual([{ pattern: 'order-paid', handler: h, envelope: RawEnvelope, protoClass: Person }]);
  });

  it('gives handlers without a shared queueName a queue each, and groups the ones that share one', () => {
    const queues = planQueues(
      new Map([
        ['a', handler()],
        ['b', handler()],
        ['c', handler({ queueName: 'shared', envelope: JsonEnvelope })],
        ['d', handler({ queueName: 'shared' })],
      ]),
      options(),
      snsSqsTransport,
      INSTANCE_A,
    );
    expect(queues.map((q) => [q.plan.name, q.routes.map((r) => r.pattern)])).toEqual([
      ['billing--a', ['a']],
      ['billing--b', ['b']],
      ['shared', ['c', 'd']],
    ]);
  });

  it('returns no queues for no handlers', () => {
    expect(planQueues(new Map(), options(), snsSqsTransport, INSTANCE_A)).toEqual([]);
  });
});

describe('planQueues: handlers running at once per queue (concurrency)', () => {
  const amqpPlan = (extras: Record<string, unknown>, amqp: Record<string, unknown> = {}) =>
    planQueues(
      new Map([['order.paid', handler(extras)]]),
      resolveModuleOptions({ transport: 'amqp', serviceName: 'billing', amqp }),
      amqpTransport,
      INSTANCE_A,
    )[0].plan;

  it("SNS+SQS: the extra, else the module's concurrency", () => {
    expect(plan({ concurrency: 3 }).concurrency).toBe(3);
    expect(plan({}).concurrency).toBe(10);
    expect(plan({}, { concurrency: 25 }).concurrency).toBe(25);
  });

  it("AMQP: the extra, else amqp.prefetch (the prefetch of the queue's consumer channel)", () => {
    expect(amqpPlan({ concurrency: 3 }).concurrency).toBe(3);
    expect(amqpPlan({}).concurrency).toBe(100);
    expect(amqpPlan({}, { prefetch: 7 }).concurrency).toBe(7);
  });
});
