import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord, PublishError, RawEnvelope } from '../../../lib/index.js';
import { AmqpConnection } from '../../../lib/amqp/connection.js';
import { AmqpPublisher } from '../../../lib/amqp/publisher.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { AMQP_URL, queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const silent = { log: () => undefined, warn: () => undefined, error: () => undefined };

shareBroker();

describe('AMQP publishing', () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  const exchange = uniqueName('ex-pub');
  const queue = uniqueName('q-pub');

  beforeAll(async () => {
    raw = await rawConnection();
    const ch = await raw.createChannel();
    await ch.assertExchange(exchange, 'topic', { durable: false, autoDelete: false });
    await ch.assertQueue(queue, { durable: false });
    await ch.bindQueue(queue, exchange, 'pub.#');
    await ch.close();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    const ch = await raw.createChannel();
    await ch.deleteQueue(queue);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  it('resolves on the broker confirm with a persistent message, content type, headers and message id; unroutable is not an error', async () => {
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('pub'), topicPrefix: 'pub.', amqp: { exchange } }), [], {
      listen: false,
    });
    apps.push(app);
    const client = app.get(MessagingClient);
    await lastValueFrom(client.emit('order-paid', new MessagingRecord({ a: 1 }, { attributes: { currency: 'EUR', n: 3 } })));
    await lastValueFrom(client.emit('text', new MessagingRecord('plain text', { envelope: RawEnvelope })));
    await lastValueFrom(client.emit('bytes', new MessagingRecord(Buffer.from([1, 2, 3]), { envelope: RawEnvelope })));
    const ch = await raw.createChannel();
    const first = await waitFor(async () => (await ch.get(queue, { noAck: true })) || undefined, { what: 'first message' });
    expect(first.fields.routingKey).toBe('pub.order-paid');
    expect(first.properties).toMatchObject({ deliveryMode: 2, contentType: 'application/json', headers: { currency: 'EUR', n: 3 } });
    expect(first.properties.messageId).toEqual(expect.any(String));
    expect(JSON.parse(first.content.toString())).toMatchObject({ data: { a: 1 }, metadata: { topic: 'order-paid' } });
    const second = await waitFor(async () => (await ch.get(queue, { noAck: true })) || undefined, { what: 'second message' });
    expect(second.properties.contentType).toBe('text/plain');
    const third = await waitFor(async () => (await ch.get(queue, { noAck: true })) || undefined, { what: 'third message' });
    expect(third.properties.contentType).toBe('application/octet-stream');
    expect([...third.content]).toEqual([1, 2, 3]);
    await ch.close();

    // a topic exchange drops what no queue is bound for: that is normal pub/sub, not an error
    const other = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('pub'), topicPrefix: 'nobody-listens.', amqp: { exchange } }),
      [],
      { listen: false },
    );
    apps.push(other);
    await expect(lastValueFrom(other.get(MessagingClient).emit('x', { b: 2 }))).resolves.toBeUndefined();
  });

  it('rejects with PublishError when the exchange does not exist, and the client keeps working afterwards', async () => {
    const missing = uniqueName('ex-missing');
    const bad = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('pub'), topicPrefix: 'pub.', amqp: { exchange: missing } }),
      [],
      { listen: false },
    );
    apps.push(bad);
    const client = bad.get(MessagingClient);
    const error = await lastValueFrom(client.emit('order-paid', { c: 3 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toMatch(new RegExp(`exchange "${missing}" does not exist`));
    // several at once: all rejected, none hangs
    const results = await Promise.allSettled([1, 2, 3].map((i) => lastValueFrom(client.emit('order-paid', { i }))));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);

    // the channel was recovered: once the exchange exists, the same client publishes fine
    const ch = await raw.createChannel();
    await ch.assertExchange(missing, 'topic', { durable: false });
    await ch.bindQueue(queue, missing, 'pub.#');
    await ch.purgeQueue(queue);
    await lastValueFrom(client.emit('order-paid', { d: 4 }));
    await waitFor(async () => (await queueInfo(raw, queue))?.messageCount === 1, { what: 'message via the recovered channel' });
    await ch.deleteExchange(missing);
    await ch.purgeQueue(queue);
    await ch.close();
  });

  it('a publish to a missing exchange does not fail concurrent publishes on the same channel (they are resent)', async () => {
    const options = resolveModuleOptions({ transport: 'amqp', serviceName: 'pub', amqp: { url: AMQP_URL, exchange } });
    const connection = new AmqpConnection(options.amqp, silent, 'publish-test');
    const publisher = new AmqpPublisher(connection, options.amqp.publishTimeout, silent);
    try {
      const missing = uniqueName('ex-missing');
      const good = Array.from({ length: 300 }, (_, i) => publisher.publish(exchange, 'pub.mixed', JSON.stringify({ i }), {}));
      const bad = publisher.publish(missing, 'pub.mixed', '{}', {});
      const more = Array.from({ length: 300 }, (_, i) => publisher.publish(exchange, 'pub.mixed', JSON.stringify({ i: i + 300 }), {}));
      await expect(bad).rejects.toThrow(PublishError);
      const results = await Promise.allSettled([...good, ...more]);
      expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
      await waitFor(async () => ((await queueInfo(raw, queue))?.messageCount ?? 0) >= 600, { what: '600 messages' });
    } finally {
      await connection.close();
      const ch = await raw.createChannel();
      await ch.purgeQueue(queue);
      await ch.close();
    }
  });

  it('rejects with PublishError when no connection comes within amqp.publishTimeout', async () => {
    const app = await startTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('pub'),
        amqp: { url: 'amqp://guest:secret-password@127.0.0.1:1', publishTimeout: 400, reconnectDelay: { initial: 50, max: 100 } },
      }),
      [],
      { listen: false },
    );
    apps.push(app);
    const started = Date.now();
    const error = await lastValueFrom(app.get(MessagingClient).emit('x', {})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect((error as Error).message).toMatch(/within the 400 ms publish timeout/);
    expect((error as Error).message).not.toMatch(/secret-password/);
  });
});
