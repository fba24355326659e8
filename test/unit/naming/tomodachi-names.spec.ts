import { readFileSync } from 'node:fs';
import { decodeRoutingKey, encodeName, encodeRoutingKey } from '../../../lib/naming.js';
import { routingKeyOf, topicOfRoutingKey } from '../../../lib/amqp/naming.js';
import { topicName } from '../../../lib/sns-sqs/naming.js';
import { encodeTomodachiTopic, tomodachiAmqpQueueName, tomodachiSqsQueueName } from '../../../lib/naming/tomodachi-names.js';
import { TOMODACHI_VECTORS } from '../../support/vectors.js';

interface SnsCase {
  transport: 'sns-sqs';
  topic: string;
  topicPrefix: string;
  queueNamePrefix: string;
  fifo: boolean;
  competing: boolean;
  funcName?: string;
  serviceUuid?: string;
  topicName: string;
  queueName: string;
}
interface AmqpCase {
  transport: 'amqp';
  routingKey: string;
  queueNamePrefix: string;
  competing: boolean;
  funcName?: string;
  serviceUuid?: string;
  queueName: string;
}

const vectors = JSON.parse(readFileSync(`${TOMODACHI_VECTORS}/queue-names.json`, 'utf8')) as {
  source: string;
  cases: Array<SnsCase | AmqpCase>;
};
const snsCases = vectors.cases.filter((c): c is SnsCase => c.transport === 'sns-sqs');
const amqpCases = vectors.cases.filter((c): c is AmqpCase => c.transport === 'amqp');

describe('tomodachi queue names: every vector in test/fixtures/tomodachi/queue-names.json', () => {
  it('has SNS+SQS and AMQP cases, competing and not, FIFO and not', () => {
    expect(vectors.cases).toHaveLength(snsCases.length + amqpCases.length);
    expect(snsCases.some((c) => c.fifo)).toBe(true);
    expect(snsCases.some((c) => !c.competing)).toBe(true);
    expect(amqpCases.length).toBeGreaterThan(0);
  });

  it.each(
    snsCases.map(
      (c) => [`${c.topicPrefix}${c.topic}${c.fifo ? ' fifo' : ''}${c.competing ? '' : ` ${c.funcName}/${c.serviceUuid}`}`, c] as const,
    ),
  )('SNS+SQS %s: queue name', (_label, c) => {
    expect(
      tomodachiSqsQueueName({
        topic: c.topic,
        queueNamePrefix: c.queueNamePrefix,
        fifo: c.fifo,
        competing: c.competing,
        funcName: c.funcName,
        serviceUuid: c.serviceUuid,
      }),
    ).toBe(c.queueName);
  });

  it.each(amqpCases.map((c) => [`${c.queueNamePrefix}${c.routingKey}`, c] as const))('AMQP %s: queue name', (_label, c) => {
    expect(
      tomodachiAmqpQueueName({
        topic: c.routingKey,
        queueNamePrefix: c.queueNamePrefix,
        competing: c.competing,
        funcName: c.funcName,
        serviceUuid: c.serviceUuid,
      }),
    ).toBe(c.queueName);
  });

  it("the library's own SNS topic names equal tomodachi's for every non-wildcard vector", () => {
    for (const c of snsCases.filter((v) => !/[*#]/.test(v.topic))) expect(topicName(c.topicPrefix, c.topic, c.fifo)).toBe(c.topicName);
  });
});

describe('tomodachi encodings', () => {
  it('encode_topic keeps [A-Za-z0-9_*#-] and the dot of a trailing .fifo, hex-escapes the rest as UTF-8', () => {
    expect(encodeTomodachiTopic('a.b.fifo')).toBe('a___2e_b.fifo');
    expect(encodeTomodachiTopic('x#*_-Z9')).toBe('x#*_-Z9');
    expect(encodeTomodachiTopic('🎉')).toBe('___f09f8e89_');
  });

  it('encode_routing_key keeps printable ASCII punctuation and space, escapes the rest', () => {
    expect(encodeRoutingKey('order.paid #* a/b')).toBe('order.paid #* a/b');
    expect(encodeRoutingKey('ä')).toBe('___c3a4_');
  });

  it('the SNS topic encoding and the routing-key encoding are one escape: they agree wherever both escape a character', () => {
    for (const text of ['café', '日本', '🎉', 'tab\there', '€']) {
      const escapedByBoth = [...text].filter((ch) => encodeRoutingKey(ch) !== ch);
      for (const ch of escapedByBoth) expect(encodeRoutingKey(ch)).toBe(encodeName(ch));
    }
  });

  it('a non-competing name without function name or instance uuid is refused', () => {
    expect(() => tomodachiSqsQueueName({ topic: 't', queueNamePrefix: '', fifo: false, competing: false })).toThrow(
      /function name and the service instance uuid/,
    );
  });
});

const routingKeys = JSON.parse(readFileSync(`${TOMODACHI_VECTORS}/routing-keys.json`, 'utf8')) as {
  source: string;
  vectors: Array<{ routingKey: string; encoded: string; decodedBack: string }>;
};

describe('AMQP routing keys: every vector in test/fixtures/tomodachi/routing-keys.json (tomodachi encode_routing_key / decode_routing_key)', () => {
  it('has non-ASCII, control-character and wildcard keys', () => {
    expect(routingKeys.vectors.some((v) => v.encoded !== v.routingKey)).toBe(true);
    expect(routingKeys.vectors.some((v) => /[*#]/.test(v.routingKey))).toBe(true);
  });

  it.each(routingKeys.vectors.map((v) => [JSON.stringify(v.routingKey), v] as const))(
    '%s encodes and decodes back as tomodachi does',
    (_l, v) => {
      expect(encodeRoutingKey(v.routingKey)).toBe(v.encoded);
      expect(decodeRoutingKey(v.encoded)).toBe(v.decodedBack);
      expect(decodeRoutingKey(encodeRoutingKey(v.routingKey))).toBe(v.routingKey);
    },
  );

  it('the transport publishes and binds topicPrefix + topic encoded, and hands handlers the topic decoded without prefix', () => {
    expect(routingKeyOf('t1.', 'menu.café')).toBe('t1.menu.caf___c3a9_');
    expect(routingKeyOf('prod-', 'prix.*')).toBe('prod-prix.*');
    expect(topicOfRoutingKey('t1.menu.caf___c3a9_', 't1.')).toBe('menu.café');
    expect(topicOfRoutingKey('other.caf___c3a9_', 't1.')).toBe('other.café');
    expect(topicOfRoutingKey('plain', '')).toBe('plain');
  });
});
