import type { INestApplication } from '@nestjs/common';
import { PublishError } from '../../../lib/errors.js';
import { MessagingRecord } from '../../../lib/index.js';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { countingBroker } from './counting-broker.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName } from '../../support/wait-for.js';

/**
 * Issue 9, finding 13: data JSON cannot carry, an attribute SNS cannot carry and a topic name over SNS's limit fail
 * the emit with a PublishError naming the topic and the offending field, before any SNS call.
 */
describe('SNS+SQS publish errors name the topic and the field (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  let calls: string[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
    const counted = countingBroker(fauxqs, { serviceName: uniqueName('svc') });
    calls = counted.calls;
    apps.push(await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [], { broker: counted.broker }));
  });
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await fauxqs.stop();
  });

  const rejection = async (topic: string, data: unknown) => {
    const before = calls.length;
    const error = await emit(apps[0], topic, data).then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, snsCalls: calls.slice(before) };
  };

  it.each([
    ['a function', () => 1, /data is a function \(anonymous\)/],
    ['a Symbol', Symbol('order'), /data is a Symbol \(order\)/],
    ['a nested BigInt', { order: { lines: [{ amount: 10n }] } }, /data\.order\.lines\[0\]\.amount is a BigInt \(10n\)/],
    [
      'a circular structure',
      (() => {
        const o: Record<string, unknown> = { id: 1 };
        o.self = o;
        return o;
      })(),
      /data\.self is a circular reference/,
    ],
  ])('data that is %s', async (_, data, field) => {
    const topic = uniqueName('bad-data');
    const { error, snsCalls } = await rejection(topic, data);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`topic "${topic}"`);
    expect((error as Error).message).toMatch(field);
    expect(snsCalls).toEqual([]);
  });

  it.each([
    ['a BigInt', { amount: 100n }, /attribute "amount" is a BigInt \(100n\)/],
    ['NaN', { ratio: Number.NaN }, /attribute "ratio" is NaN/],
    ['a function', { cb: () => 1 }, /attribute "cb" is a function/],
    ['an array holding a BigInt', { ids: [1n] }, /attribute "ids" cannot be sent as JSON/],
  ])('an attribute that is %s', async (_, attributes, field) => {
    const topic = uniqueName('bad-attr');
    const { error, snsCalls } = await rejection(topic, new MessagingRecord({ ok: true }, { attributes: attributes as never }));
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`topic "${topic}"`);
    expect((error as Error).message).toMatch(field);
    expect(snsCalls).toEqual([]);
  });

  it('a topic whose encoded SNS name is over 256 characters', async () => {
    const topic = `${uniqueName('long')}.${'x.'.repeat(60)}`; // each "." encodes to 6 characters
    const { error, snsCalls } = await rejection(topic, { ok: true });
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(
      /its SNS topic name \(topicPrefix \+ topic, encoded\) has \d+ characters, over the 256-character limit/,
    );
    expect((error as Error).message).toContain(`topic "${topic}"`);
    expect(snsCalls).toEqual([]);
  });
});
