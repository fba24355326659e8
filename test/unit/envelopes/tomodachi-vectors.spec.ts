import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EnvelopeDecodeError, JsonEnvelope, ProtobufEnvelope } from '../../../lib/index.js';
import { Person } from '../../support/proto-person.js';
import { synchronous } from '../../support/synchronous.js';
import { TOMODACHI_VECTORS } from '../../support/vectors.js';

/** Golden messages produced by tomodachi 0.28's own JsonBase / ProtobufBase (see the README next to them). */
const VECTORS = process.env.TOMODACHI_VECTORS ?? TOMODACHI_VECTORS;

interface Expected {
  topic: string;
  data: unknown;
  service: { name: string; uuid: string };
  data_encoding: string;
  message_uuid: string;
  proto_class?: string;
}

const read = (file: string) => readFileSync(join(VECTORS, file), 'utf8');
const expectedOf = (name: string) => JSON.parse(read(`${name}.expected.json`)) as Expected;

describe('tomodachi wire vectors', () => {
  it('has every vector the README lists, each with its expectation', () => {
    const files = readdirSync(VECTORS);
    for (const name of ['json-small', 'json-string-data', 'json-large', 'proto-small', 'proto-large']) {
      expect(files.filter((f) => f.startsWith(`${name}.`)).sort()).toEqual(
        [`${name}.envelope.${name.startsWith('proto') ? 'b64' : 'json'}`, `${name}.expected.json`].sort(),
      );
    }
  });

  describe.each(['json-small', 'json-string-data', 'json-large'])('JsonEnvelope decodes %s', (name) => {
    const expected = expectedOf(name);
    const body = read(`${name}.envelope.json`);

    it.each([
      ['a string', body],
      ['a Buffer', Buffer.from(body, 'utf8')],
    ])('given as %s', (_label, input) => {
      const decoded = new JsonEnvelope().decode(input);
      expect(decoded.data).toEqual(expected.data);
      expect(decoded.metadata.topic).toBe(expected.topic);
      expect(decoded.metadata.service).toEqual(expected.service);
      expect(decoded.metadata.dataEncoding).toBe(expected.data_encoding);
      expect(decoded.metadata.messageUuid).toBe(expected.message_uuid);
      expect(decoded.metadata.protocolVersion).toBe('tomodachi-json-base--1.0.0');
      expect(decoded.metadata.compatibleProtocolVersions).toEqual(['json_base-wip']);
      expect(typeof decoded.metadata.timestamp).toBe('number');
      expect(decoded.metadata.timestamp! % 1).not.toBe(0);
    });
  });

  it('json-large really is the compressed form and json-small the raw one', () => {
    expect(JSON.parse(read('json-large.envelope.json')).metadata.data_encoding).toBe('base64_gzip_json');
    expect(typeof JSON.parse(read('json-large.envelope.json')).data).toBe('string');
    expect(JSON.parse(read('json-small.envelope.json')).metadata.data_encoding).toBe('raw');
    expect(JSON.stringify(expectedOf('json-large').data).length).toBeGreaterThanOrEqual(60_000);
  });

  it('json-small keeps non-ASCII text that tomodachi escaped as \\uXXXX', () => {
    expect(read('json-small.envelope.json')).toContain('\\u00e5');
    expect((new JsonEnvelope().decode(read('json-small.envelope.json')).data as { text: string }).text).toBe('åäö ✓ "quoted" \\ slash');
  });

  beforeAll(() => new ProtobufEnvelope().prepare());

  describe.each(['proto-small', 'proto-large'])('ProtobufEnvelope decodes %s with protoClass proto.Person', (name) => {
    const expected = expectedOf(name);
    const body = read(`${name}.envelope.b64`);

    it.each([
      ['a string', body],
      ['a string with a trailing newline', `${body.trim()}\n`],
      ['a Buffer', Buffer.from(body, 'utf8')],
    ])('given as %s', (_label, input) => {
      expect(expected.proto_class).toBe('proto.Person');
      const decoded = synchronous(new ProtobufEnvelope().decode(input, { topic: expected.topic, protoClass: Person }));
      expect(decoded.data).toBeInstanceOf(Person as unknown as new () => unknown);
      expect({ ...(decoded.data as object) }).toEqual(expected.data);
      expect(decoded.metadata.topic).toBe(expected.topic);
      expect(decoded.metadata.service).toEqual(expected.service);
      expect(decoded.metadata.dataEncoding).toBe(expected.data_encoding);
      expect(decoded.metadata.messageUuid).toBe(expected.message_uuid);
      expect(decoded.metadata.protocolVersion).toBe('tomodachi-protobuf-base--1.0.0');
      expect(typeof decoded.metadata.timestamp).toBe('number');
    });

    it('without protoClass hands over the serialized (decompressed) bytes', () => {
      const decoded = synchronous(new ProtobufEnvelope().decode(body, { topic: expected.topic }));
      expect(Buffer.isBuffer(decoded.data)).toBe(true);
      expect({ ...(Person.decode(decoded.data as Buffer) as object) }).toEqual(expected.data);
    });
  });

  it('a JSON vector given to ProtobufEnvelope and a protobuf vector given to JsonEnvelope fail with EnvelopeDecodeError', () => {
    expect(() => new ProtobufEnvelope().decode(read('json-small.envelope.json'), { topic: 'order-paid', protoClass: Person })).toThrow(
      EnvelopeDecodeError,
    );
    expect(() => new JsonEnvelope().decode(read('proto-small.envelope.b64'))).toThrow(EnvelopeDecodeError);
  });
});
