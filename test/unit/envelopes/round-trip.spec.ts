import { inflateSync } from 'node:zlib';
import { EnvelopeDecodeError, JsonEnvelope, ProtobufEnvelope, PublishError, RawEnvelope } from '../../../lib/index.js';
import { SnsSqsMessageType } from '../../../lib/envelopes/protobuf-schema.js';
import { Person } from '../../support/proto-person.js';
import { synchronous } from '../../support/synchronous.js';

const service = { name: 'billing', uuid: '0f5e2b2c-1d7b-4a5e-9a0e-3c1f6f0b7d21' };
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function expectTomodachiMessageUuid(messageUuid: unknown): void {
  expect(typeof messageUuid).toBe('string');
  const [serviceUuid, fresh, ...rest] = (messageUuid as string).split('.');
  expect(rest).toEqual([]);
  expect(serviceUuid).toBe(service.uuid);
  expect(fresh).toMatch(UUID4);
}

describe('JsonEnvelope encode → decode', () => {
  const envelope = new JsonEnvelope();

  it('writes the tomodachi JsonBase layout field for field (small data stays raw)', () => {
    const before = Date.now() / 1000;
    const data = { orderId: 'o-1', amount: 100, tags: ['a', 'b'], nested: { ok: true, none: null }, text: 'åäö ✓' };
    const body = envelope.encode(data, { topic: 'order-paid', service });
    const after = Date.now() / 1000;
    expect(typeof body).toBe('string');
    const wire = JSON.parse(body as string);
    expect(Object.keys(wire)).toEqual(['service', 'metadata', 'data']);
    expect(wire.service).toEqual({ name: 'billing', uuid: service.uuid });
    expect(Object.keys(wire.metadata).sort()).toEqual([
      'compatible_protocol_versions',
      'data_encoding',
      'message_uuid',
      'protocol_version',
      'timestamp',
      'topic',
    ]);
    expect(wire.metadata).toMatchObject({
      protocol_version: 'tomodachi-json-base--1.0.0',
      compatible_protocol_versions: ['json_base-wip'],
      topic: 'order-paid',
      data_encoding: 'raw',
    });
    expectTomodachiMessageUuid(wire.metadata.message_uuid);
    expect(typeof wire.metadata.timestamp).toBe('number');
    expect(wire.metadata.timestamp).toBeGreaterThanOrEqual(before - 0.001);
    expect(wire.metadata.timestamp).toBeLessThanOrEqual(after + 0.001);
    expect(wire.metadata.timestamp).toBeLessThan(1e11); // seconds, not milliseconds
    expect(wire.data).toEqual(data);

    const decoded = envelope.decode(body);
    expect(decoded.data).toEqual(data);
    expect(decoded.metadata).toEqual({
      service,
      messageUuid: wire.metadata.message_uuid,
      protocolVersion: 'tomodachi-json-base--1.0.0',
      compatibleProtocolVersions: ['json_base-wip'],
      timestamp: wire.metadata.timestamp,
      topic: 'order-paid',
      dataEncoding: 'raw',
    });
  });

  it('gives every message a fresh message_uuid', () => {
    const a = JSON.parse(envelope.encode(1, { topic: 't', service }) as string).metadata.message_uuid;
    const b = JSON.parse(envelope.encode(1, { topic: 't', service }) as string).metadata.message_uuid;
    expect(a).not.toBe(b);
  });

  it.each([
    ['a string', 'hello world'],
    ['a number', 42.5],
    ['false', false],
    ['null', null],
    ['an array', [1, 'two', { three: 3 }]],
    ['an empty object', {}],
  ])('round-trips %s as data', (_label, data) => {
    const body = envelope.encode(data, { topic: 't', service });
    expect(JSON.parse(body as string).metadata.data_encoding).toBe('raw');
    expect(envelope.decode(body).data).toEqual(data);
  });

  it('sends undefined data as null, as Python would see None', () => {
    const body = envelope.encode(undefined, { topic: 't', service });
    expect(JSON.parse(body as string).data).toBeNull();
    expect(envelope.decode(body).data).toBeNull();
  });

  it('switches to base64_gzip_json (base64 of zlib deflate) when the data JSON reaches 60000 characters', () => {
    const data = {
      rows: Array.from({ length: 2000 }, (_, i) => ({ i, name: `row-${String(i).padStart(6, '0')}`, v: i * 1.5, text: 'å✓' })),
    };
    expect(JSON.stringify(data).length).toBeGreaterThanOrEqual(60_000);
    const body = envelope.encode(data, { topic: 'bulk-import', service }) as string;
    const wire = JSON.parse(body);
    expect(Object.keys(wire)).toEqual(['service', 'metadata', 'data']);
    expect(wire.metadata.data_encoding).toBe('base64_gzip_json');
    expect(wire.metadata.protocol_version).toBe('tomodachi-json-base--1.0.0');
    expect(typeof wire.data).toBe('string');
    expect(wire.data).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const zlib = Buffer.from(wire.data, 'base64');
    expect(zlib[0]).toBe(0x78); // a zlib stream (what Python's zlib.compress writes), not a gzip file
    expect(JSON.parse(inflateSync(zlib).toString('utf8'))).toEqual(data);
    expect(body.length).toBeLessThan(JSON.stringify(data).length);
    const decoded = envelope.decode(body);
    expect(decoded.data).toEqual(data);
    expect(decoded.metadata.dataEncoding).toBe('base64_gzip_json');
  });

  it('keeps data just under the threshold raw and compresses it from exactly 60000 characters', () => {
    const under = 'x'.repeat(60_000 - 3); // JSON adds the two quotes: 59999 characters
    const exact = 'x'.repeat(60_000 - 2);
    expect(JSON.parse(envelope.encode(under, { topic: 't', service }) as string).metadata.data_encoding).toBe('raw');
    const body = envelope.encode(exact, { topic: 't', service });
    expect(JSON.parse(body as string).metadata.data_encoding).toBe('base64_gzip_json');
    expect(envelope.decode(body).data).toBe(exact);
  });
});

describe('ProtobufEnvelope encode → decode', () => {
  const envelope = new ProtobufEnvelope();
  beforeAll(() => envelope.prepare());

  function wireOf(body: string | Buffer) {
    expect(typeof body).toBe('string');
    expect(body).toMatch(/^[A-Za-z0-9+/]*={0,2}$/);
    return SnsSqsMessageType.toObject(SnsSqsMessageType.decode(Buffer.from(body as string, 'base64'))) as {
      service: { name: string; uuid: string };
      metadata: { message_uuid: string; protocol_version: string; timestamp: number; topic: string; data_encoding: string };
      data: Uint8Array;
    };
  }

  it('writes a base64 SNSSQSMessage with data_encoding proto and decodes it with the protoClass', () => {
    const person = Person.create({ id: 'p-1', name: 'Ada Lovelace' });
    const body = synchronous(envelope.encode(person, { topic: 'person-created', service }));
    const wire = wireOf(body);
    expect(wire.service).toEqual(service);
    expect(wire.metadata).toMatchObject({
      protocol_version: 'tomodachi-protobuf-base--1.0.0',
      topic: 'person-created',
      data_encoding: 'proto',
    });
    expectTomodachiMessageUuid(wire.metadata.message_uuid);
    expect(Math.abs(wire.metadata.timestamp - Date.now() / 1000)).toBeLessThan(60);
    expect({ ...(Person.decode(wire.data) as object) }).toEqual({ id: 'p-1', name: 'Ada Lovelace' });

    const decoded = synchronous(envelope.decode(body, { topic: 'person-created', protoClass: Person }));
    expect({ ...(decoded.data as object) }).toEqual({ id: 'p-1', name: 'Ada Lovelace' });
    expect(decoded.metadata).toMatchObject({
      service,
      topic: 'person-created',
      dataEncoding: 'proto',
      protocolVersion: 'tomodachi-protobuf-base--1.0.0',
      messageUuid: wire.metadata.message_uuid,
    });
  });

  it('encodes a plain object through an explicit protoClass, and raw bytes as they are', () => {
    const viaClass = synchronous(envelope.encode({ id: 'p-2', name: 'Grace' }, { topic: 't', service, protoClass: Person }));
    expect({ ...(synchronous(envelope.decode(viaClass, { topic: 't', protoClass: Person })).data as object) }).toEqual({
      id: 'p-2',
      name: 'Grace',
    });
    const bytes = Person.encode(Person.create({ id: 'p-3', name: 'Linus' })).finish();
    const viaBytes = synchronous(envelope.encode(bytes, { topic: 't', service }));
    expect(Buffer.from(synchronous(envelope.decode(viaBytes, { topic: 't' })).data as Buffer)).toEqual(Buffer.from(bytes));
  });

  it('compresses serialized data over 60000 bytes as gzip_proto (zlib) and decodes it back', () => {
    const person = Person.create({ id: 'p-big', name: 'y'.repeat(70_000) });
    const body = synchronous(envelope.encode(person, { topic: 'person-created', service }));
    const wire = wireOf(body);
    expect(wire.metadata.data_encoding).toBe('gzip_proto');
    expect(wire.data[0]).toBe(0x78);
    expect({ ...(Person.decode(inflateSync(wire.data)) as object) }).toEqual({ id: 'p-big', name: 'y'.repeat(70_000) });
    const decoded = synchronous(envelope.decode(body, { topic: 'person-created', protoClass: Person }));
    expect((decoded.data as { name: string }).name).toHaveLength(70_000);
    expect(decoded.metadata.dataEncoding).toBe('gzip_proto');
  });

  it('refuses to encode data that is neither a protobuf message nor bytes', () => {
    expect(() => synchronous(envelope.encode({ id: 'x' }, { topic: 't', service }))).toThrow(PublishError);
    expect(() => synchronous(envelope.encode('text', { topic: 't', service }))).toThrow(/protoClass/);
  });

  it('rejects data that the protoClass cannot parse with EnvelopeDecodeError', () => {
    const body = synchronous(envelope.encode(Buffer.from([0x0a, 0xff, 0xff, 0xff]), { topic: 't', service }));
    expect(() => synchronous(envelope.decode(body, { topic: 't', protoClass: Person }))).toThrow(EnvelopeDecodeError);
  });
});

describe('RawEnvelope', () => {
  const envelope = new RawEnvelope();

  it('passes strings and Buffers through and decodes to a string', () => {
    expect(synchronous(envelope.encode('plain text ✓', { topic: 't' }))).toBe('plain text ✓');
    const buffer = Buffer.from('bytes ✓');
    expect(synchronous(envelope.encode(buffer, { topic: 't' }))).toBe(buffer);
    expect(synchronous(envelope.encode(new Uint8Array([104, 105]), { topic: 't' }))).toEqual(Buffer.from('hi'));
    expect(synchronous(envelope.decode('plain text ✓'))).toEqual({ data: 'plain text ✓', metadata: {} });
    expect(synchronous(envelope.decode(Buffer.from('bytes ✓')))).toEqual({ data: 'bytes ✓', metadata: {} });
    expect(synchronous(envelope.decode(envelope.encode('{"not":"parsed"}', { topic: 't' })))).toEqual({
      data: '{"not":"parsed"}',
      metadata: {},
    });
  });

  it.each([[{ a: 1 }], [42], [null], [undefined]])('refuses to encode %p with a PublishError that names the topic', (data) => {
    expect(() => synchronous(envelope.encode(data, { topic: 'raw-topic' }))).toThrow(PublishError);
    expect(() => synchronous(envelope.encode(data, { topic: 'raw-topic' }))).toThrow(/raw-topic/);
  });
});
