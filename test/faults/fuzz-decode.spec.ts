import type { LoggerService } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { of } from 'rxjs';
import { EnvelopeDecodeError, JsonEnvelope, ProtobufEnvelope, type DecodedMessage, type MessageEnvelope } from '../../lib/index.js';
import { DEFAULTS } from '../../lib/messaging.options.js';
import { SnsSqsMessageType } from '../../lib/envelopes/protobuf-schema.js';
import { createDeliveryDispatcher, type ResolvedRoute } from '../../lib/server/delivery-dispatcher.js';
import { parseNotification } from '../../lib/sns-sqs/notification.js';
import { topicFromArn } from '../../lib/sns-sqs/naming.js';
import type { DeliveryOutcome, InboundDelivery } from '../../lib/transport/broker.js';
import { Person } from '../support/proto-person.js';
import { TOMODACHI_VECTORS } from '../support/vectors.js';
import { synchronous } from '../support/synchronous.js';

/**
 * Seeded fuzz of the decode path: random and mutated bodies go to JsonEnvelope.decode, ProtobufEnvelope.decode, the
 * SNS notification parser and the delivery dispatcher. Nothing may throw past the dispatcher, a body the envelope
 * cannot read must become a dead-letter outcome with a reason, and the envelopes may only throw EnvelopeDecodeError.
 * Change SEED to explore; a failure prints the seed and the case index, which reproduce it exactly.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed_2026);
const JSON_CASES = 10_000;
const PROTO_CASES = 5_000;
const SNS_CASES = 4_000;
const VECTORS = process.env.TOMODACHI_VECTORS ?? TOMODACHI_VECTORS;

/** mulberry32: small, fast, deterministic. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = (n: number) =>
    Array.from({ length: n }, () =>
      pick(['a', 'Z', '0', ' ', '"', '\\', '{', '}', '[', ']', ':', ',', '\u0000', 'å', '✓', '😀', '\ud800', '\n', '=', '+', '/']),
    ).join('');
  return { next, int, pick, bytes, text };
}
type Random = ReturnType<typeof prng>;

const service = { name: 'fuzzer', uuid: '00000000-0000-4000-8000-000000000000' };
const json = new JsonEnvelope();
const protobuf = new ProtobufEnvelope();
await protobuf.prepare();
const goodJson = [
  json.encode({ orderId: 'o-1', amount: 100, nested: { list: [1, 2, 3] } }, { topic: 'fuzz', service }) as string,
  json.encode('plain', { topic: 'fuzz', service }) as string,
  readFileSync(`${VECTORS}/json-small.envelope.json`, 'utf8'),
  readFileSync(`${VECTORS}/json-large.envelope.json`, 'utf8'),
];
const goodProto = [
  synchronous(protobuf.encode(Person.create({ id: 'p-1', name: 'Ada' }), { topic: 'fuzz', service })),
  synchronous(protobuf.encode(Person.create({ id: 'p-2', name: 'z'.repeat(70_000) }), { topic: 'fuzz', service })),
  readFileSync(`${VECTORS}/proto-small.envelope.b64`, 'utf8').trim(),
  readFileSync(`${VECTORS}/proto-large.envelope.b64`, 'utf8').trim(),
];

function randomValue(r: Random, depth = 0): unknown {
  switch (r.int(depth > 2 ? 8 : 10)) {
    case 0:
      return null;
    case 1:
      return r.next() < 0.5;
    case 2:
      return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]);
    case 3:
      return r.text(r.int(20));
    case 4:
      return '';
    case 5:
      return r.pick([
        'raw',
        'base64_gzip_json',
        'proto',
        'gzip_proto',
        'RAW',
        'tomodachi-json-base--1.0.0',
        'tomodachi-protobuf-base--1.0.0',
      ]);
    case 6:
      return r.bytes(r.int(12)).toString('base64');
    case 7:
      return undefined;
    case 8:
      return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [
          r.pick(['name', 'uuid', 'topic', '__proto__', 'constructor', 'x']),
          randomValue(r, depth + 1),
        ]),
      );
  }
}

const POLLUTERS = [
  '{"__proto__":{"polluted":"yes"},"metadata":{"protocol_version":"tomodachi-json-base--1.0.0","__proto__":{"polluted":"yes"}},"data":{"__proto__":{"polluted":"yes"}}}',
  '{"constructor":{"prototype":{"polluted":"yes"}},"metadata":{"protocol_version":"tomodachi-json-base--1.0.0","data_encoding":"raw"},"data":1}',
  '{"service":{"__proto__":{"name":"evil"}},"metadata":{"protocol_version":"tomodachi-json-base--1.0.0","topic":{"__proto__":"x"}},"data":null}',
  '{"metadata":{"__proto__":{"protocol_version":"tomodachi-json-base--1.0.0"}},"data":1}',
  '{"metadata":{"protocol_version":"tomodachi-json-base--1.0.0","data_encoding":{"toString":"raw"}},"data":1}',
];

/** One JSON-ish body: the kind says whether it is certainly undecodable. */
function jsonCase(r: Random, i: number): { body: string | Buffer; certainlyBad: boolean } {
  // the large (compressed) envelope costs a millisecond per decode: use it in one case out of 25
  const good = i % 25 === 0 ? goodJson[goodJson.length - 1] : r.pick(goodJson.slice(0, -1));
  switch (i % 12) {
    case 0:
      return { body: r.bytes(r.int(300)), certainlyBad: true };
    case 1:
      return { body: good.slice(0, r.int(good.length - 1)), certainlyBad: true }; // truncated
    case 2: {
      // wrong types in envelope fields
      const envelope = JSON.parse(good);
      const field = r.pick([
        'service',
        'metadata',
        'data',
        'metadata.protocol_version',
        'metadata.data_encoding',
        'metadata.topic',
        'metadata.timestamp',
        'metadata.message_uuid',
        'metadata.compatible_protocol_versions',
        'service.name',
        'service.uuid',
      ]);
      const [head, tail] = field.split('.');
      const value = randomValue(r);
      if (tail && typeof envelope[head] === 'object' && envelope[head] !== null) envelope[head][tail] = value;
      else envelope[head] = value;
      return { body: JSON.stringify(envelope), certainlyBad: false };
    }
    case 3: {
      // invalid base64 / zlib data in base64_gzip_json
      const data = r.pick([
        () => r.text(r.int(200)),
        () => r.bytes(r.int(200)).toString('base64'),
        () => deflateSync(Buffer.from('{"a":')).toString('base64'),
        () => deflateSync(Buffer.from('not json')).toString('base64'),
        () =>
          deflateSync(Buffer.from(JSON.stringify({ ok: r.int(9) })))
            .toString('base64')
            .slice(0, 10),
        () => '!!!!',
      ])();
      const body = JSON.stringify({
        service,
        metadata: { protocol_version: 'tomodachi-json-base--1.0.0', data_encoding: 'base64_gzip_json', topic: 'fuzz' },
        data,
      });
      return { body, certainlyBad: false };
    }
    case 4: {
      // flip, insert or delete characters in a good envelope
      const chars = [...good.slice(0, 4000)];
      for (let k = 0; k < 1 + r.int(5); k++) {
        const at = r.int(chars.length);
        const op = r.int(3);
        if (op === 0) chars[at] = r.text(1);
        else if (op === 1) chars.splice(at, 0, r.text(1 + r.int(3)));
        else chars.splice(at, 1);
      }
      return { body: chars.join(''), certainlyBad: false };
    }
    case 5: // huge strings, now and then (they cost time)
      if (i % 1200 === 5)
        return {
          body: JSON.stringify({
            service,
            metadata: { protocol_version: 'tomodachi-json-base--1.0.0', topic: 'x'.repeat(100_000) },
            data: 'y'.repeat(600_000),
          }),
          certainlyBad: false,
        };
      if (i % 1200 === 17) return { body: 'x'.repeat(300_000 + r.int(10)), certainlyBad: true };
      return { body: `"${r.text(r.int(2000))}"`, certainlyBad: true };
    case 6: {
      // deeply nested JSON, valid and invalid
      const depth = i % 1200 === 6 ? 100_000 : r.pick([10, 100, 1000, 5000]);
      return r.next() < 0.5
        ? { body: `${'['.repeat(depth)}${']'.repeat(depth - r.int(2))}`, certainlyBad: true }
        : {
            body: `{"metadata":{"protocol_version":"tomodachi-json-base--1.0.0"},"data":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`,
            certainlyBad: false,
          };
    }
    case 7:
      return { body: r.pick(POLLUTERS), certainlyBad: false };
    case 8:
      return {
        body: r.pick([
          '',
          ' ',
          'null',
          'true',
          '0',
          '[]',
          '{}',
          '"x"',
          '[{"metadata":{}}]',
          '{"metadata":null,"data":1}',
          '{"metadata":{},"data":1}',
          '{"metadata":{"protocol_version":"tomodachi-json-base--1.0.0"}}',
        ]),
        certainlyBad: true,
      };
    case 9:
      return { body: Buffer.from(good, r.pick(['utf16le', 'latin1', 'base64'] as const)), certainlyBad: false };
    case 10:
      return { body: r.pick(goodProto), certainlyBad: true }; // the wrong envelope
    default:
      return { body: JSON.stringify(randomValue(r)) ?? 'undefined', certainlyBad: false };
  }
}

function protoCase(r: Random, i: number): { body: string | Buffer; certainlyBad: boolean } {
  const good = r.pick(goodProto);
  const bytes = Buffer.from(good, 'base64');
  const message = (fields: Record<string, unknown>) =>
    Buffer.from(SnsSqsMessageType.encode(SnsSqsMessageType.fromObject(fields)).finish()).toString('base64');
  switch (i % 8) {
    case 0:
      return { body: r.bytes(r.int(300)), certainlyBad: false };
    case 1:
      return { body: r.bytes(r.int(300)).toString('base64'), certainlyBad: false };
    case 2:
      return { body: bytes.subarray(0, r.int(bytes.length)).toString('base64'), certainlyBad: false }; // truncated
    case 3: {
      // bit flips in the serialized message
      const copy = Buffer.from(bytes);
      for (let k = 0; k < 1 + r.int(4); k++) copy[r.int(copy.length)] ^= 1 << r.int(8);
      return { body: copy.toString('base64'), certainlyBad: false };
    }
    case 4: // invalid zlib data under gzip_proto, or an unknown encoding
      return {
        body: message({
          service,
          data: r.pick([r.bytes(r.int(100)), deflateSync(Buffer.from([0x0a, 0x03])).subarray(0, 4), Buffer.alloc(0)]),
          metadata: {
            protocol_version: 'tomodachi-protobuf-base--1.0.0',
            topic: 'fuzz',
            data_encoding: r.pick(['gzip_proto', 'gzip_proto', 'zstd', 'base64_gzip_json']),
          },
        }),
        certainlyBad: true,
      };
    case 5:
      return {
        body: r.pick(['', '====', 'not base64!', '\u0000', `${good}!`, `${good.slice(0, 10)}\n${good.slice(10)}`, goodJson[0]]),
        certainlyBad: false,
      };
    case 6: // valid envelope around data that is not a Person
      return {
        body: message({
          service,
          data: r.bytes(1 + r.int(60)),
          metadata: { protocol_version: 'tomodachi-protobuf-base--1.0.0', data_encoding: 'proto' },
        }),
        certainlyBad: false,
      };
    default:
      return { body: good.slice(0, r.int(good.length)), certainlyBad: false };
  }
}

function snsCase(r: Random, i: number): string {
  const message = r.pick([...goodJson.slice(0, 2), 'garbage', '{}']);
  const arn = r.pick([
    'arn:aws:sns:us-east-1:000000000000:fuzz',
    'arn:aws:sns:us-east-1:000000000000:prod-fuzz',
    'fuzz',
    '',
    ':::',
    'arn:aws:sns:us-east-1:000000000000:fuzz___2e_x.fifo',
  ]);
  switch (i % 6) {
    case 0:
      return JSON.stringify({ Type: 'Notification', TopicArn: arn, Message: message, MessageId: 'm' });
    case 1:
      return JSON.stringify({
        Type: r.pick(['SubscriptionConfirmation', 'UnsubscribeConfirmation', 42, null, '']),
        TopicArn: arn,
        Message: message,
        SubscribeURL: 'http://x',
      });
    case 2:
      return JSON.stringify({ Type: 'Notification', TopicArn: randomValue(r), Message: randomValue(r), MessageId: randomValue(r) });
    case 3:
      return JSON.stringify({
        Type: 'Notification',
        TopicArn: arn,
        Message: message,
        MessageAttributes: r.pick([
          null,
          [],
          'x',
          7,
          { a: null },
          { a: 'x' },
          { a: { Type: 'Binary', Value: 123 } },
          { a: { Type: 'Number', Value: { x: 1 } } },
          { a: { Type: 'String.Array', Value: '[1' } },
          { a: { Type: 'Binary', Value: '!!' } },
          Object.fromEntries([[r.text(5), randomValue(r)]]),
        ]),
      });
    case 4:
      return r.pick(['', 'null', '[]', '"Notification"', '{"Type":"Notification"}', r.text(r.int(100))]);
    default:
      return JSON.stringify(message);
  }
}

/** A logger that keeps nothing but a count, so that the run stays fast and quiet. */
const logger: LoggerService & { errors: number } = {
  errors: 0,
  log() {},
  warn() {},
  error() {
    logger.errors += 1;
  },
};
const handler = (async () => undefined) as unknown as MessageHandler;
const route = (pattern: string, envelopeInstance: MessageEnvelope, protoClass?: typeof Person): ResolvedRoute => ({
  pattern,
  handler,
  envelopeInstance,
  protoClass,
});
const jsonDispatch = createDeliveryDispatcher('fuzz-json', [route('fuzz', json), route('order.*', json)], (x) => of(x), logger);
const protoDispatch = createDeliveryDispatcher('fuzz-proto', [route('fuzz', protobuf, Person)], (x) => of(x), logger);
const delivery = (topic: string, body: string | Buffer): InboundDelivery => ({
  topic,
  body,
  attributes: {},
  messageId: 'fuzz',
  receiveCount: 1,
  raw: {},
});

/** Runs `decode`; returns whether it read the body, failing the test on any throw other than EnvelopeDecodeError. */
function tryDecode(decode: () => DecodedMessage, where: string): boolean {
  try {
    decode();
    return true;
  } catch (error) {
    if (!(error instanceof EnvelopeDecodeError))
      throw new Error(
        `${where}: decode threw ${(error as Error)?.name ?? typeof error} instead of EnvelopeDecodeError: ${String((error as Error)?.message ?? error)}`,
        { cause: error },
      );
    expect(error.message.length).toBeGreaterThan(0);
    return false;
  }
}

async function dispatchSafely(dispatch: typeof jsonDispatch, input: InboundDelivery, where: string): Promise<DeliveryOutcome> {
  let outcome: DeliveryOutcome;
  try {
    outcome = await dispatch(input);
  } catch (error) {
    throw new Error(`${where}: the dispatcher threw: ${String(error)}`, { cause: error });
  }
  return outcome;
}

function expectDeadLetter(outcome: DeliveryOutcome, where: string, reason: RegExp): void {
  if (outcome.kind !== 'dead-letter' || !reason.test(outcome.reason))
    throw new Error(`${where}: expected a dead-letter outcome matching ${reason}, got ${JSON.stringify(outcome).slice(0, 300)}`);
}

describe(`fuzz: decode path (seed ${SEED})`, () => {
  afterAll(() => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it(`${JSON_CASES} JSON bodies: JsonEnvelope throws only EnvelopeDecodeError, the dispatcher dead-letters every undecodable one`, async () => {
    const r = prng(SEED);
    let bad = 0;
    for (let i = 0; i < JSON_CASES; i++) {
      const where = `seed ${SEED} json case ${i}`;
      const { body, certainlyBad } = jsonCase(r, i);
      const decoded = tryDecode(() => json.decode(body), where);
      if (certainlyBad && decoded) throw new Error(`${where}: decoded a body that is not a valid envelope: ${String(body).slice(0, 200)}`);
      if (!decoded) bad += 1;
      const topic = i % 50 === 0 ? r.pick(['order.paid.eur', '', 'nobody', '\u0000']) : r.pick(['fuzz', 'order.paid']);
      const outcome = await dispatchSafely(jsonDispatch, delivery(topic, body), where);
      if (topic !== 'fuzz' && topic !== 'order.paid') expectDeadLetter(outcome, where, /^no handler on queue "fuzz-json"/);
      else if (decoded) expect(outcome).toEqual({ kind: 'ack' });
      else expectDeadLetter(outcome, where, /^cannot decode message: .+/);
    }
    expect(bad).toBeGreaterThan(JSON_CASES / 2);
  });

  it(`${PROTO_CASES} protobuf bodies: ProtobufEnvelope throws only EnvelopeDecodeError, the dispatcher dead-letters every undecodable one`, async () => {
    const r = prng(SEED + 1);
    let bad = 0;
    for (let i = 0; i < PROTO_CASES; i++) {
      const where = `seed ${SEED + 1} proto case ${i}`;
      const { body, certainlyBad } = protoCase(r, i);
      const decoded = tryDecode(() => synchronous(protobuf.decode(body, { topic: 'fuzz', protoClass: Person })), where);
      tryDecode(() => synchronous(protobuf.decode(body, { topic: 'fuzz' })), `${where} (no protoClass)`);
      if (certainlyBad && decoded) throw new Error(`${where}: decoded a body that is not a valid envelope`);
      if (!decoded) bad += 1;
      const outcome = await dispatchSafely(protoDispatch, delivery('fuzz', body), where);
      if (decoded) expect(outcome).toEqual({ kind: 'ack' });
      else expectDeadLetter(outcome, where, /^cannot decode message: .+/);
    }
    expect(bad).toBeGreaterThan(PROTO_CASES / 2);
  });

  it(`${SNS_CASES} SQS bodies through parseNotification and the dispatcher: never a throw, a reason for every refusal`, async () => {
    const r = prng(SEED + 2);
    let refused = 0;
    for (let i = 0; i < SNS_CASES; i++) {
      const where = `seed ${SEED + 2} sns case ${i}`;
      const body = snsCase(r, i);
      let parsed: ReturnType<typeof parseNotification>;
      try {
        parsed = parseNotification(body);
      } catch (error) {
        throw new Error(`${where}: parseNotification threw: ${String(error)}`, { cause: error });
      }
      if (!parsed.ok) {
        if (typeof parsed.reason !== 'string' || parsed.reason.length === 0) throw new Error(`${where}: refusal without a reason`);
        refused += 1;
        continue;
      }
      expect(typeof parsed.notification.message).toBe('string');
      expect(typeof parsed.notification.topicArn).toBe('string');
      const attributes = parsed.notification.attributes;
      if (Object.getPrototypeOf(attributes) !== Object.prototype)
        throw new Error(`${where}: MessageAttributes changed the attributes object's prototype`);
      const topic = topicFromArn(parsed.notification.topicArn, '') ?? '';
      const outcome = await dispatchSafely(jsonDispatch, delivery(topic, parsed.notification.message), where);
      expect(['ack', 'dead-letter']).toContain(outcome.kind);
      if (outcome.kind === 'dead-letter') expect(outcome.reason.length).toBeGreaterThan(0);
    }
    expect(refused).toBeGreaterThan(SNS_CASES / 4);
  });

  it('a custom envelope that throws something other than an Error still only dead-letters', async () => {
    const hostile = (thrown: unknown): MessageEnvelope => ({
      encode: () => '',
      decode: () => {
        throw thrown;
      },
    });
    for (const thrown of [
      new TypeError('boom'),
      'a string',
      null,
      undefined,
      42,
      { message: 'shaped like an error' },
      Object.create(null),
    ]) {
      const dispatch = createDeliveryDispatcher('hostile', [route('fuzz', hostile(thrown))], (x) => of(x), logger);
      expectDeadLetter(
        await dispatchSafely(dispatch, delivery('fuzz', 'x'), `thrown ${typeof thrown}`),
        `thrown ${typeof thrown}`,
        /^cannot decode message: /,
      );
    }
  });

  it("a notification whose MessageAttributes use the key __proto__ cannot change the attributes' prototype", () => {
    const parsed = parseNotification(
      JSON.stringify({
        Type: 'Notification',
        TopicArn: 'arn:aws:sns:us-east-1:000000000000:fuzz',
        Message: goodJson[0],
        MessageAttributes: JSON.parse(
          '{"__proto__":{"Type":"String.Array","Value":"{\\"isAdmin\\":true}"},"currency":{"Type":"String","Value":"EUR"}}',
        ),
      }),
    );
    expect(parsed.ok).toBe(true);
    const attributes = (parsed as { ok: true; notification: { attributes: Record<string, unknown> } }).notification.attributes;
    expect(attributes.currency).toBe('EUR');
    expect(attributes.isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
  });

  it('a decompression bomb is refused with EnvelopeDecodeError naming maxDecodedBytes instead of inflating without bound', () => {
    const bomb = deflateSync(Buffer.alloc(DEFAULTS.maxDecodedBytes + 1024, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    const jsonBody = JSON.stringify({
      service,
      metadata: { protocol_version: 'tomodachi-json-base--1.0.0', data_encoding: 'base64_gzip_json' },
      data: bomb.toString('base64'),
    });
    expect(() => json.decode(jsonBody)).toThrow(EnvelopeDecodeError);
    expect(() => json.decode(jsonBody)).toThrow(
      `base64_gzip_json data inflates to more than ${DEFAULTS.maxDecodedBytes} bytes (maxDecodedBytes)`,
    );
    const protoBody = Buffer.from(
      SnsSqsMessageType.encode(
        SnsSqsMessageType.fromObject({
          service,
          data: bomb,
          metadata: { protocol_version: 'tomodachi-protobuf-base--1.0.0', data_encoding: 'gzip_proto' },
        }),
      ).finish(),
    ).toString('base64');
    expect(() => protobuf.decode(protoBody, { topic: 'fuzz', protoClass: Person })).toThrow(
      `gzip_proto data inflates to more than ${DEFAULTS.maxDecodedBytes} bytes (maxDecodedBytes)`,
    );
  });

  it('a lower maxDecodedBytes (the module option, passed in the decode context) is honoured', () => {
    const data = deflateSync(Buffer.from(JSON.stringify({ text: 'x'.repeat(5000) })));
    const body = JSON.stringify({
      service,
      metadata: { protocol_version: 'tomodachi-json-base--1.0.0', data_encoding: 'base64_gzip_json' },
      data: data.toString('base64'),
    });
    expect((json.decode(body, { topic: 'fuzz', maxDecodedBytes: 10_000 }).data as { text: string }).text).toHaveLength(5000);
    expect(() => json.decode(body, { topic: 'fuzz', maxDecodedBytes: 4096 })).toThrow(/inflates to more than 4096 bytes/);
  });

  it('the dispatcher dead-letters a body over maxDecodedBytes before decoding it', async () => {
    const dispatch = createDeliveryDispatcher('capped', [route('fuzz', json)], (x) => of(x), logger, 2048);
    const body = json.encode({ text: 'y'.repeat(3000) }, { topic: 'fuzz', service });
    const outcome = await dispatch(delivery('fuzz', body));
    expect(outcome).toEqual({
      kind: 'dead-letter',
      reason: `message body is ${Buffer.byteLength(body)} bytes, over maxDecodedBytes (2048)`,
    });
    expect(await dispatch(delivery('fuzz', json.encode({ text: 'small' }, { topic: 'fuzz', service })))).toEqual({ kind: 'ack' });
  });
});
