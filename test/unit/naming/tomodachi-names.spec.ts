import { readFileSync } from 'node:fs';
import { topicName } from '../../../lib/sns-sqs/naming.js';
import {
  encodeTomodachiRoutingKey,
  encodeTomodachiTopic,
  tomodachiAmqpQueueName,
  tomodachiSqsQueueName,
  tomodachiTopicName,
} from '../../../lib/naming/tomodachi-names.js';
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
  )('SNS+SQS %s: topic and queue name', (_label, c) => {
    expect(tomodachiTopicName(c.topicPrefix, c.topic, c.fifo)).toBe(c.topicName);
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
    expect(encodeTomodachiRoutingKey('order.paid #* a/b')).toBe('order.paid #* a/b');
    expect(encodeTomodachiRoutingKey('ä')).toBe('___c3a4_');
  });

  it('a non-competing name without function name or instance uuid is refused', () => {
    expect(() => tomodachiSqsQueueName({ topic: 't', queueNamePrefix: '', fifo: false, competing: false })).toThrow(
      /function name and the service instance uuid/,
    );
  });
});
