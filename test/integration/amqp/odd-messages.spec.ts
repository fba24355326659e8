import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel, GetMessage } from 'amqplib';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { MessagingContext } from '../../../lib/index.js';
import { queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/** Messages from other producers that the library used to loop on or misread (issue 9, findings 7 and 8). */
const MAX_RECEIVE = 3;
const received: { topic: string; data: unknown; count: number }[] = [];

@Controller()
class OddController {
  @EventPattern('big-headers', { queueName: 'big-headers', maxReceiveCount: MAX_RECEIVE })
  fails(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
    received.push({ topic: ctx.getTopic(), data, count: ctx.getReceiveCount() });
    throw new Error('ledger down');
  }

  @EventPattern('encoded.*', { queueName: 'encoded' })
  encoded(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
    received.push({ topic: ctx.getTopic(), data, count: ctx.getReceiveCount() });
  }
}

function envelope(topic: string, data: unknown): Buffer {
  return Buffer.from(
    JSON.stringify({
      service: { name: 'other-producer', uuid: 'u-1' },
      metadata: {
        message_uuid: 'u-1.m',
        protocol_version: 'tomodachi-json-base--1.0.0',
        compatible_protocol_versions: ['json_base-wip'],
        timestamp: 1,
        topic,
        data_encoding: 'raw',
      },
      data,
    }),
  );
}

shareBroker();

describe('AMQP messages with odd properties', () => {
  let raw: ChannelModel;
  let app: INestApplication;
  const exchange = uniqueName('odd-ex');
  const prefix = `${uniqueName('odd')}-`;

  beforeAll(async () => {
    raw = await rawConnection();
    app = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: prefix, retryBackoff: 0.2, amqp: { exchange } }),
      [OddController],
    );
  });
  afterAll(async () => {
    await app.close();
    const ch = await raw.createChannel();
    for (const q of ['big-headers', 'encoded']) for (const s of ['', '-retry', '-dlq']) await ch.deleteQueue(`${prefix}${q}${s}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  const dlqMessage = (queue: string) => async (): Promise<GetMessage | undefined> => {
    const ch = await raw.createChannel();
    try {
      return (await ch.get(`${prefix}${queue}-dlq`, { noAck: true })) || undefined;
    } finally {
      await ch.close();
    }
  };

  it('7. a failing message with ~64 KB of headers reaches the DLQ with a reason instead of looping', async () => {
    const headers: Record<string, string> = {};
    for (let i = 0; i < 16; i++) headers[`h${String(i).padStart(2, '0')}`] = 'x'.repeat(4080);
    const ch = await raw.createChannel();
    ch.publish(exchange, 'big-headers', envelope('big-headers', { id: 'poison' }), { headers, contentType: 'application/json' });
    await ch.close();

    const started = Date.now();
    const dead = await waitFor(dlqMessage('big-headers'), { timeoutMs: 15_000, intervalMs: 100, what: 'the message in the DLQ' });
    const attempts = received.filter((r) => r.topic === 'big-headers');
    console.log(
      `big headers: dead-lettered after ${attempts.length} attempt(s) in ${Date.now() - started} ms; reason: ${String(dead.properties.headers?.['x-dead-letter-reason']).slice(0, 300)}`,
    );
    expect(JSON.parse(dead.content.toString()).data).toEqual({ id: 'poison' });
    expect(dead.properties.headers?.['x-dead-letter-reason']).toMatch(
      /cannot be moved to the retry queue .*Encoded field table.*ledger down/,
    );
    expect(String(dead.properties.headers?.['x-dropped-headers']).split(',').length).toBeGreaterThan(0);
    expect(attempts.length).toBeGreaterThanOrEqual(1);
    expect(attempts.length).toBeLessThanOrEqual(MAX_RECEIVE);
    // nothing left to loop on
    expect((await queueInfo(raw, `${prefix}big-headers`))?.messageCount).toBe(0);
    expect((await queueInfo(raw, `${prefix}big-headers-retry`))?.messageCount).toBe(0);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
  ] as const)('8. a %s body (content-encoding) is inflated before the envelope decodes it', async (encoding, compress) => {
    const topic = `encoded.${uniqueName(encoding)}`;
    const ch = await raw.createChannel();
    ch.publish(exchange, topic, compress(envelope(topic, { encoding, items: [1, 2, 3] })), {
      contentEncoding: encoding,
      contentType: 'application/json',
    });
    await ch.close();
    const got = await waitFor(() => received.find((r) => r.topic === topic), { what: `the ${encoding} message handled` });
    expect(got.data).toEqual({ encoding, items: [1, 2, 3] });
  });

  it('8. an unsupported content-encoding goes to the DLQ with a reason naming it', async () => {
    const topic = `encoded.${uniqueName('br')}`;
    const ch = await raw.createChannel();
    ch.publish(exchange, topic, Buffer.from('not really brotli'), { contentEncoding: 'br', contentType: 'application/json' });
    await ch.close();
    const dead = await waitFor(dlqMessage('encoded'), { what: 'the br message in the DLQ' });
    expect(dead.properties.headers?.['x-dead-letter-reason']).toMatch(/unsupported content-encoding "br"/);
    expect(dead.properties.contentEncoding).toBe('br');
    expect(received.find((r) => r.topic === topic)).toBeUndefined();
  });
});
