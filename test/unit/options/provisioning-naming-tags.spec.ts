import type { MessageHandler } from '@nestjs/microservices';
import { MessagingOptionsError, type MessagingModuleOptions } from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { amqpTransport } from '../../../lib/amqp/definition.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';

const base: MessagingModuleOptions = { transport: 'sns-sqs', serviceName: 'billing' };

function rejected(run: () => unknown, option: string, rule: RegExp): MessagingOptionsError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(MessagingOptionsError);
  const error = caught as MessagingOptionsError;
  expect(error.option).toBe(option);
  expect(error.message).toContain(`"${option}"`);
  expect(error.message).toMatch(rule);
  return error;
}

const resolve = (options: Record<string, unknown>) => () => resolveModuleOptions({ ...base, ...options } as MessagingModuleOptions);
const handler = (extras: Record<string, unknown> = {}): MessageHandler =>
  Object.assign(async () => undefined, { isEventHandler: true, extras }) as unknown as MessageHandler;

describe('provisioning option', () => {
  it("defaults to 'create' and keeps 'verify' and 'off'", () => {
    expect(resolveModuleOptions(base).provisioning).toBe('create');
    expect(resolveModuleOptions({ ...base, provisioning: 'verify' }).provisioning).toBe('verify');
    expect(resolveModuleOptions({ ...base, transport: 'amqp', provisioning: 'off' }).provisioning).toBe('off');
  });

  it.each([
    ['true', true],
    ['an unknown mode', 'check'],
    ['the wrong case', 'Verify'],
  ])('rejects %s, naming the three modes', (_label, value) => {
    rejected(resolve({ provisioning: value }), 'provisioning', /must be one of 'create', 'verify', 'off'/);
  });

  it.each(['verify', 'off'] as const)(
    "refuses a competing: false handler under '%s': only 'create' can make per-process queues",
    (mode) => {
      const options = resolveModuleOptions({ ...base, provisioning: mode });
      const error = rejected(
        () => planQueues(new Map([['order-paid', handler({ competing: false })]]), options, snsSqsTransport, 'uuid'),
        "@EventPattern('order-paid').competing",
        /only provisioning 'create' can make/,
      );
      expect(error.message).toContain(`provisioning is '${mode}'`);
    },
  );
});

describe('queueNaming option', () => {
  it("defaults to 'readable' and keeps 'tomodachi'", () => {
    expect(resolveModuleOptions(base).queueNaming).toBe('readable');
    expect(resolveModuleOptions({ ...base, queueNaming: 'tomodachi' }).queueNaming).toBe('tomodachi');
  });

  it.each([
    ['a number', 1],
    ['an unknown scheme', 'sha256'],
    ['null', null],
  ])('rejects %s', (_label, value) => {
    rejected(resolve({ queueNaming: value }), 'queueNaming', /must be one of 'readable', 'tomodachi'/);
  });

  it('planner: tomodachi names on SNS+SQS (fifo suffix left to the broker) and AMQP, explicit queueName unchanged', () => {
    const sns = resolveModuleOptions({ ...base, queueNaming: 'tomodachi', queueNamePrefix: 'prod-' });
    const [paid, fifo, named] = planQueues(
      new Map([
        ['order.paid', handler()],
        ['order.shipped', handler({ fifo: true })],
        ['order.refunded', handler({ queueName: 'refunds' })],
      ]),
      sns,
      snsSqsTransport,
      'uuid',
    );
    expect(paid.plan.name).toBe('prod-dd7c45482b1cbfef5af39c6c1ad75a61e833fba6daeda029225fd2e13b0f19df');
    expect(paid.plan.deadLetter).toEqual({ name: 'prod-dd7c45482b1cbfef5af39c6c1ad75a61e833fba6daeda029225fd2e13b0f19df-dlq' });
    expect(fifo.plan.name).toMatch(/^prod-[0-9a-f]{64}$/);
    expect(named.plan.name).toBe('prod-refunds');
    const amqp = resolveModuleOptions({ ...base, transport: 'amqp', queueNaming: 'tomodachi', queueNamePrefix: 'prod-' });
    expect(planQueues(new Map([['order.*', handler()]]), amqp, amqpTransport, 'uuid')[0].plan.name).toBe(
      'prod-bacc3b7f0351b055922c2af3cb2eeb98159159546e18b8e4c83cf6c2a72737e2',
    );
  });

  it('planner: a non-competing tomodachi name hashes the handler method name and the instance uuid', () => {
    const options = resolveModuleOptions({ ...base, queueNaming: 'tomodachi' });
    const uuid = '00000000-0000-4000-8000-000000000000';
    const [queue] = planQueues(new Map([['order.paid', handler({ competing: false })]]), options, snsSqsTransport, uuid, (p) =>
      p === 'order.paid' ? 'handler' : undefined,
    );
    expect(queue.plan.name).toBe('1ec0ce5e0629de118fab07edde5577a7a7ab450d15977d76dd2c38d5685b5b6b');
    rejected(
      () => planQueues(new Map([['order.paid', handler({ competing: false })]]), options, snsSqsTransport, uuid),
      "@EventPattern('order.paid').competing",
      /after its handler method.*give it a queueName/,
    );
  });
});

describe('snsSqs.tags option', () => {
  it('is unset by default and kept as given', () => {
    expect(resolveModuleOptions(base).snsSqs.tags).toBeUndefined();
    expect(resolveModuleOptions({ ...base, snsSqs: { tags: { team: 'billing', empty: '' } } }).snsSqs.tags).toEqual({
      team: 'billing',
      empty: '',
    });
  });

  it('must be an object of strings', () => {
    rejected(resolve({ snsSqs: { tags: ['team'] } }), 'snsSqs.tags', /must be an object of string values/);
    rejected(resolve({ snsSqs: { tags: 'team=billing' } }), 'snsSqs.tags', /must be an object of string values/);
    rejected(resolve({ snsSqs: { tags: { team: 1 } } }), 'snsSqs.tags.team', /tag values must be strings/);
  });

  it('follows the AWS limits: 50 tags, key 1-128, value up to 256, no aws: prefix, no library prefix', () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));
    rejected(resolve({ snsSqs: { tags: many } }), 'snsSqs.tags', /at most 50 tags.*it has 51/);
    rejected(resolve({ snsSqs: { tags: { ['k'.repeat(129)]: 'v' } } }), `snsSqs.tags.${'k'.repeat(129)}`, /1 to 128 characters/);
    rejected(resolve({ snsSqs: { tags: { '': 'v' } } }), 'snsSqs.tags.', /1 to 128 characters/);
    rejected(resolve({ snsSqs: { tags: { team: 'v'.repeat(257) } } }), 'snsSqs.tags.team', /at most 256 characters; it has 257/);
    rejected(resolve({ snsSqs: { tags: { 'aws:cloudformation': 'x' } } }), 'snsSqs.tags.aws:cloudformation', /reserved by AWS/);
    rejected(
      resolve({ snsSqs: { tags: { 'nestjs-messaging:alive-at': '1' } } }),
      'snsSqs.tags.nestjs-messaging:alive-at',
      /per-process tags/,
    );
    expect(resolveModuleOptions({ ...base, snsSqs: { tags: { ['k'.repeat(128)]: 'v'.repeat(256) } } }).snsSqs.tags).toBeDefined();
  });
});
