import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingContext, MessagingRecord } from '../../../lib/index.js';
import { rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { readVector } from '../../support/vectors.js';

interface Seen {
  handler: string;
  data: unknown;
  topic: string;
  attributes: Record<string, unknown>;
  contentType?: string;
  receiveCount: number;
  sender?: string;
}

function makeController(seen: Seen[]) {
  const record = (handler: string, data: unknown, ctx: MessagingContext) =>
    seen.push({
      handler,
      data,
      topic: ctx.getTopic(),
      attributes: ctx.getAttributes(),
      receiveCount: ctx.getReceiveCount(),
      contentType: ctx.getRawMessage<ConsumeMessage>().properties.contentType,
      sender: ctx.getEnvelope().service?.name,
    });
  @Controller()
  class OrdersController {
    @EventPattern('order-paid', { queueName: 'orders' })
    paid(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
      record('paid', data, ctx);
    }

    @EventPattern('order.*.shipped', { queueName: 'orders' })
    shipped(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
      record('shipped', data, ctx);
    }

    @EventPattern('audit.#', { queueName: 'orders' })
    audit(@Payload() data: unknown, @Ctx() ctx: MessagingContext) {
      record('audit', data, ctx);
    }
  }
  return OrdersController;
}

shareBroker();

describe('AMQP delivery end to end', () => {
  const seen: Seen[] = [];
  const exchange = uniqueName('ex-delivery');
  const prefix = `${uniqueName('p')}.`;
  const queuePrefix = `${uniqueName('q')}-`;
  let app: INestApplication;
  let raw: ChannelModel;

  beforeAll(async () => {
    raw = await rawConnection();
    app = await startTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('billing'),
        topicPrefix: prefix,
        queueNamePrefix: queuePrefix,
        retryBackoff: 0,
        amqp: { exchange },
      }),
      [makeController(seen)],
    );
  });

  afterAll(async () => {
    await app?.close();
    const ch = await raw.createChannel();
    for (const q of ['orders', 'orders-retry', 'orders-dlq']) await ch.deleteQueue(`${queuePrefix}${q}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  beforeEach(() => seen.splice(0));

  it('delivers an emitted message with its attributes as headers, json content type and the envelope', async () => {
    const client = app.get(MessagingClient);
    await lastValueFrom(
      client.emit(
        'order-paid',
        new MessagingRecord(
          { orderId: 'o-1', amount: 100 },
          { attributes: { currency: 'EUR', amount: 100, rate: 1.5, vip: true, tags: ['a', 'b'] } },
        ),
      ),
    );
    const msg = await waitFor(() => seen.find((s) => s.handler === 'paid'), { what: 'order-paid delivery' });
    expect(msg.data).toEqual({ orderId: 'o-1', amount: 100 });
    expect(msg.topic).toBe('order-paid');
    expect(msg.attributes).toEqual({ currency: 'EUR', amount: 100, rate: 1.5, vip: true, tags: ['a', 'b'] });
    expect(msg.contentType).toBe('application/json');
    expect(msg.receiveCount).toBe(1);
  });

  it('routes wildcard patterns * and # to the matching handler among several on one queue, never round-robin', async () => {
    const client = app.get(MessagingClient);
    const emits = [
      ['order.eu.shipped', 'shipped'],
      ['order.us.shipped', 'shipped'],
      ['audit.x', 'audit'],
      ['audit.x.y.z', 'audit'],
      ['order-paid', 'paid'],
      ['order-paid', 'paid'],
      ['order.eu.shipped', 'shipped'],
      ['audit', 'audit'],
    ] as const;
    await Promise.all(emits.map(([topic], i) => lastValueFrom(client.emit(topic, { i }))));
    await waitFor(() => seen.length >= emits.length, { what: `${emits.length} deliveries` });
    for (const [i, [topic, handler]] of emits.entries()) {
      const hit = seen.filter((s) => (s.data as { i: number }).i === i);
      expect(hit).toHaveLength(1);
      expect(hit[0]).toMatchObject({ handler, topic });
    }
  });

  it('decodes the tomodachi wire vector published raw to the exchange', async () => {
    const body = Buffer.from(readVector('json-small.envelope.json'));
    const expected = JSON.parse(readVector('json-small.expected.json'));
    const ch = await raw.createConfirmChannel();
    ch.publish(exchange, `${prefix}order-paid`, body, { persistent: true, contentType: 'application/json' });
    await ch.waitForConfirms();
    await ch.close();
    const msg = await waitFor(() => seen.find((s) => s.handler === 'paid'), { what: 'tomodachi message' });
    expect(msg.data).toEqual(expected.data);
    expect(msg.sender).toBe(expected.service.name);
    expect(msg.topic).toBe('order-paid');
  });
});
