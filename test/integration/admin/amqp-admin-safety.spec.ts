import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { DeadLetterError, MessagingAdminService } from '../../../lib/index.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { closedPort } from '../../support/ports.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, type AdminHttpApp } from './admin-app.js';

const prefix = `${uniqueName('ads')}.`;
const REFUSED_TOPIC = 'order.refused';
const consumedQueue = uniqueName('ads-consumed');

@Controller()
class RefusingController {
  @EventPattern(REFUSED_TOPIC, { queueName: consumedQueue })
  refuse(@Payload() order: { n: number }) {
    throw new DeadLetterError(`order ${order.n} has no customer`);
  }
}

const track = cleanUpBrokerAfterAll();
let http: AdminHttpApp;
let raw: ChannelModel;

beforeAll(async () => {
  track(consumedQueue);
  raw = await rawConnection();
  http = await startAdminApp(rabbitMqOptions({ serviceName: 'admin-safety', topicPrefix: prefix }), undefined, {
    controllers: [RefusingController],
  });
});

afterAll(async () => {
  await http?.close();
  await raw?.close();
});

const info = async (queue: string) => (await http.call('GET', `/queues/${queue}`)).json as { messages: number };
const adminQueue = async (options: Record<string, unknown> = {}) => {
  const name = track(uniqueName('ads-q'));
  expect((await http.call('POST', '/queues', { name, ...options })).status).toBe(201);
  return name;
};
const fill = async (queue: string, count: number) => {
  for (let n = 1; n <= count; n++)
    expect((await http.call('POST', `/queues/${queue}/messages`, { data: { n }, topic: 'order-failed' })).status).toBe(201);
};

describe('admin API safety on AMQP (RabbitMQ)', () => {
  it('answers 409 when a queue exists with another dead-letter setting', async () => {
    const queue = await adminQueue();
    const other = await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    expect(other.status).toBe(409);
    expect(other.json.message).toContain(`its dead-letter queue is "${queue}-dlq", not none`);
    expect((await http.call('POST', '/queues', { name: queue })).json).toEqual({ name: queue, created: false });
  });

  it('refuses a dead-letter queue name no consumer or redrive would use', async () => {
    const queue = uniqueName('ads-q');
    const refused = await http.call('POST', '/queues', { name: queue, deadLetterQueue: `${queue}-graveyard` });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain(`Invalid deadLetterQueue: on AMQP a queue's dead-letter queue is "${queue}-dlq"`);
    expect((await http.call('GET', `/queues/${queue}`)).status).toBe(404);
  });

  it('refuses to peek a queue with a dead-letter queue unless spendReceive is given, and peeks the dead-letter queue freely', async () => {
    const queue = await adminQueue();
    await fill(queue, 1);
    const refused = await http.call('POST', `/queues/${queue}/peek`, {});
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain('spendReceive: true');
    await fill(`${queue}-dlq`, 1);
    expect((await http.call('POST', `/queues/${queue}-dlq/peek`, {})).status).toBe(200);
  });

  it("shows a dead-lettered message's reason when its dead-letter queue is peeked", async () => {
    expect((await http.call('POST', `/topics/${REFUSED_TOPIC}/messages`, { data: { n: 7 }, attributes: { region: 'eu' } })).status).toBe(
      201,
    );
    await waitFor(async () => (await info(`${consumedQueue}-dlq`)).messages === 1, {
      what: 'the refused message in the dead-letter queue',
    });
    const peeked = await http.call('POST', `/queues/${consumedQueue}-dlq/peek`, {});
    expect(peeked.json).toEqual([
      expect.objectContaining({
        topic: REFUSED_TOPIC,
        data: { n: 7 },
        attributes: expect.objectContaining({ region: 'eu' }),
        deadLetterReason: expect.stringContaining('order 7 has no customer'),
      }),
    ]);
  });

  it('stops a redrive when its signal is aborted, leaving the messages in the dead-letter queue', async () => {
    const queue = await adminQueue();
    await fill(`${queue}-dlq`, 2);
    const admin = http.app.get(MessagingAdminService);
    expect(await admin.redrive(`${queue}-dlq`, { signal: AbortSignal.abort() })).toEqual({ from: `${queue}-dlq`, to: queue, moved: 0 });
    expect((await info(`${queue}-dlq`)).messages).toBe(2);
  });

  it('moves only the messages that were there when it started, even when the target sends every message back', async () => {
    const queue = await adminQueue();
    const dlq = `${queue}-dlq`;
    const bounce = track(uniqueName('ads-bounce'));
    const channel = await raw.createChannel();
    // every message put into the target expires at once and is dead-lettered straight back into the DLQ
    await channel.assertQueue(bounce, {
      arguments: { 'x-message-ttl': 0, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq },
    });
    await channel.close();
    await fill(dlq, 3);

    const started = Date.now();
    const moved = await http.call('POST', `/queues/${dlq}/redrive`, { to: bounce });
    expect(moved.json).toEqual({ from: dlq, to: bounce, moved: 3 });
    expect(Date.now() - started).toBeLessThan(10_000);
    await waitFor(async () => (await info(dlq)).messages === 3, { what: 'the bounced messages back in the DLQ' });
  });

  it('answers 409 with the broker reason for a full target queue, and the message stays in the dead-letter queue', async () => {
    const queue = await adminQueue();
    const full = track(uniqueName('ads-full'));
    const channel = await raw.createChannel();
    await channel.assertQueue(full, { arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } });
    channel.sendToQueue(full, Buffer.from('{}'));
    await channel.close();
    await waitFor(async () => (await info(full)).messages === 1, { what: 'the target queue full' });
    await fill(`${queue}-dlq`, 2);

    const refused = await http.call('POST', `/queues/${queue}-dlq/redrive`, { to: full });
    expect(refused.status).toBe(409);
    expect(refused.json.message).toContain(`"${full}" did not accept the next one`);
    await waitFor(async () => (await info(`${queue}-dlq`)).messages === 2, { what: 'both messages back in the dead-letter queue' });
  });

  it('answers 409 for a queue another connection holds exclusively (RESOURCE_LOCKED)', async () => {
    const locked = track(uniqueName('ads-locked'));
    const owner = await rawConnection();
    try {
      const channel = await owner.createChannel();
      await channel.assertQueue(locked, { exclusive: true });
      const answer = await http.call('POST', `/queues/${locked}/purge`);
      expect(answer.status).toBe(409);
      expect(answer.json.message).toContain('RESOURCE_LOCKED');
    } finally {
      await owner.close();
    }
  });
});

describe('admin API on AMQP when the broker cannot be reached', () => {
  it('answers 503 naming the broker as unavailable, in bounded time', async () => {
    const down = await startAdminApp(
      rabbitMqOptions({ serviceName: 'admin-down', amqp: { url: `amqp://127.0.0.1:${await closedPort()}` } }),
    );
    try {
      const started = Date.now();
      const answer = await down.call('GET', `/queues/${uniqueName('down')}`);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(answer.status).toBe(503);
      expect(answer.json.message).toContain('the broker is unavailable');
    } finally {
      await down.close();
    }
  });
});
