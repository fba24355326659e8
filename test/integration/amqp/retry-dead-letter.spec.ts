import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel, GetMessage } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { DeadLetterError, MessagingClient, MessagingContext } from '../../../lib/index.js';
import { queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const BACKOFF_S = 0.2;
const MAX_RECEIVE = 3;

interface Attempt { id: string; count: number; at: number }

function makeController(attempts: Attempt[]) {
  @Controller()
  class FlakyController {
    @EventPattern('always-fails', { queueName: 'flaky', maxReceiveCount: MAX_RECEIVE })
    fails(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
      attempts.push({ id: data.id, count: ctx.getReceiveCount(), at: Date.now() });
      throw new Error(`database unavailable for ${data.id}`);
    }

    @EventPattern('fails-once', { queueName: 'flaky', maxReceiveCount: MAX_RECEIVE })
    once(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
      attempts.push({ id: data.id, count: ctx.getReceiveCount(), at: Date.now() });
      if (ctx.getReceiveCount() === 1) throw new Error('transient');
    }

    @EventPattern('poison', { queueName: 'flaky', maxReceiveCount: MAX_RECEIVE })
    poison(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
      attempts.push({ id: data.id, count: ctx.getReceiveCount(), at: Date.now() });
      throw new DeadLetterError('refund for unknown order');
    }

    @EventPattern('no-dlq', { queueName: 'no-dlq', deadLetterQueueName: false })
    noDlq(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
      attempts.push({ id: data.id, count: ctx.getReceiveCount(), at: Date.now() });
      throw new DeadLetterError('cannot be handled');
    }
  }
  return FlakyController;
}

shareBroker();

describe('AMQP retries and dead-lettering', () => {
  const attempts: Attempt[] = [];
  const exchange = uniqueName('ex-retry');
  const queuePrefix = `${uniqueName('q')}-`;
  const dlq = `${queuePrefix}flaky-dlq`;
  let app: INestApplication;
  let raw: ChannelModel;
  let client: MessagingClient;

  beforeAll(async () => {
    raw = await rawConnection();
    app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: queuePrefix, retryBackoff: BACKOFF_S, amqp: { exchange } }), [makeController(attempts)]);
    client = app.get(MessagingClient);
  });

  afterAll(async () => {
    await app?.close();
    const ch = await raw.createChannel();
    for (const q of ['flaky', 'flaky-retry', 'flaky-dlq', 'no-dlq', 'no-dlq-retry']) await ch.deleteQueue(`${queuePrefix}${q}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  async function getFromDlq(): Promise<GetMessage> {
    const ch = await raw.createChannel();
    try {
      return await waitFor(async () => (await ch.get(dlq, { noAck: true })) || undefined, { what: 'a message in the DLQ' });
    } finally {
      await ch.close();
    }
  }

  it('retries a throwing handler with growing delays through the retry queue, then dead-letters it with the reason', async () => {
    await lastValueFrom(client.emit('always-fails', { id: 'a1' }));
    const dead = await getFromDlq();
    const mine = attempts.filter((a) => a.id === 'a1');
    expect(mine.map((a) => a.count)).toEqual([1, 2, 3]);
    for (let i = 1; i < mine.length; i++) {
      const expected = BACKOFF_S * 1000 * 2 ** (i - 1);
      expect(mine[i].at - mine[i - 1].at).toBeGreaterThanOrEqual(expected - 15);
    }
    expect(JSON.parse(dead.content.toString()).data).toEqual({ id: 'a1' });
    const headers = dead.properties.headers ?? {};
    expect(headers['x-dead-letter-reason']).toMatch(/^failed 3 time\(s\), last: handler for "always-fails" failed/);
    expect(headers['x-original-routing-key']).toBe('always-fails');
    expect(headers['x-receive-count']).toBe(3);
    expect(dead.properties.contentType).toBe('application/json');
    console.log(`retry spacing (ms): ${mine.slice(1).map((a, i) => a.at - mine[i].at).join(', ')}; reason: ${headers['x-dead-letter-reason']}`);
  });

  it('reports the attempt number and acks once the retried handler succeeds', async () => {
    await lastValueFrom(client.emit('fails-once', { id: 'b1' }));
    await waitFor(() => attempts.filter((a) => a.id === 'b1').length === 2, { what: 'second attempt' });
    await waitFor(async () => {
      const [q, r] = await Promise.all([queueInfo(raw, `${queuePrefix}flaky`), queueInfo(raw, `${queuePrefix}flaky-retry`)]);
      return q?.messageCount === 0 && r?.messageCount === 0;
    }, { what: 'queues empty' });
    expect(attempts.filter((a) => a.id === 'b1').map((a) => a.count)).toEqual([1, 2]);
  });

  it('sends DeadLetterError and an undecodable body to the DLQ at once, with the reason', async () => {
    await lastValueFrom(client.emit('poison', { id: 'c1' }));
    const poisoned = await getFromDlq();
    expect(poisoned.properties.headers?.['x-dead-letter-reason']).toMatch(/refund for unknown order/);
    expect(attempts.filter((a) => a.id === 'c1')).toHaveLength(1);

    const ch = await raw.createConfirmChannel();
    ch.publish(exchange, 'always-fails', Buffer.from('{not json'), { persistent: true });
    await ch.waitForConfirms();
    await ch.close();
    const garbage = await getFromDlq();
    expect(garbage.content.toString()).toBe('{not json');
    expect(garbage.properties.headers?.['x-dead-letter-reason']).toMatch(/cannot decode message/);
    expect(garbage.properties.headers?.['x-receive-count']).toBe(1);
  });

  it('without a DLQ a message to dead-letter is kept and retried on the doubling backoff, as on SNS+SQS, never dropped', async () => {
    await lastValueFrom(client.emit('no-dlq', { id: 'd1' }));
    await waitFor(() => attempts.filter((a) => a.id === 'd1').length >= 3, { what: 'three attempts of the message without a DLQ' });
    const tries = attempts.filter((a) => a.id === 'd1');
    expect(tries.map((a) => a.count).slice(0, 3)).toEqual([1, 2, 3]);
    expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(BACKOFF_S * 1000 * 0.9);
    expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(BACKOFF_S * 2000 * 0.9);
    expect(await queueInfo(raw, `${queuePrefix}no-dlq-dlq`)).toBeUndefined();
  });
});
