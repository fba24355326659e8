import type { ChannelModel } from 'amqplib';
import { MessagingAdminService } from '../../../lib/index.js';
import { exchangeExists, queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, type AdminHttpApp } from './admin-app.js';

shareBroker();

let http: AdminHttpApp;
let raw: ChannelModel;
const created: string[] = [];
const exchanges: string[] = [];
const prefix = `${uniqueName('adm')}.`;

beforeAll(async () => {
  raw = await rawConnection();
  http = await startAdminApp(rabbitMqOptions({ serviceName: 'admin-amqp', topicPrefix: prefix }));
});

afterAll(async () => {
  await http?.close();
  if (raw) {
    const channel = await raw.createChannel();
    for (const q of created) for (const name of [q, `${q}-retry`, `${q}-dlq`]) await channel.deleteQueue(name);
    for (const e of exchanges) await channel.deleteExchange(e);
    await channel.close();
    await raw.close();
  }
});

const queueName = () => {
  const name = uniqueName('admin-q');
  created.push(name);
  return name;
};
const depth = async (queue: string) => (await http.call('GET', `/queues/${queue}`)).json.messages as number;

describe('MessagingAdminModule REST API over AMQP (RabbitMQ)', () => {
  it('declares a queue with its -retry and -dlq queues (idempotent) and describes it by passive declare', async () => {
    const name = queueName();
    expect((await http.call('POST', '/queues', { name })).json).toEqual({ name, created: true });
    expect((await http.call('POST', '/queues', { name })).json).toEqual({ name, created: false });
    expect(await queueInfo(raw, `${name}-retry`)).toBeDefined();
    expect((await http.call('GET', `/queues/${name}`)).json).toEqual({
      transport: 'amqp',
      name,
      messages: 0,
      consumers: 0,
      deadLetterQueue: { name: `${name}-dlq`, messages: 0 },
      maxReceiveCount: 5,
    });
    expect((await http.call('GET', `/queues/${uniqueName('missing')}`)).status).toBe(404);
    expect((await http.call('POST', '/queues', { name: 'amq.mine' })).status).toBe(400);
  });

  it('binds a queue, publishes through the envelope, peeks (get + requeue) and purges', async () => {
    const queue = queueName();
    await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    const bound = await http.call('POST', '/subscriptions', { topic: 'order.paid', queue });
    expect(bound.status).toBe(201);
    expect(bound.json).toMatchObject({ topic: `${prefix}order.paid`, queue, id: expect.stringMatching(/^amqp-binding:/) });

    expect((await http.call('POST', '/topics/order.paid/messages', { data: { n: 7 }, attributes: { color: 'red' } })).status).toBe(201);
    await waitFor(async () => (await depth(queue)) === 1, { what: 'the published message in the queue' });
    const peeked = await http.call('POST', `/queues/${queue}/peek`, { max: 5 });
    expect(peeked.json).toEqual([
      expect.objectContaining({ topic: 'order.paid', data: { n: 7 }, attributes: { color: 'red' }, receiveCount: 1 }),
    ]);
    expect(await depth(queue)).toBe(1);

    expect((await http.call('DELETE', `/subscriptions/${bound.json.id}`)).status).toBe(204);
    await http.call('POST', '/topics/order.paid/messages', { data: { n: 8 } });
    expect((await http.call('POST', `/queues/${queue}/purge`)).status).toBe(204);
    expect(await depth(queue)).toBe(0);
    expect((await http.call('DELETE', `/queues/${queue}`)).status).toBe(204);
    expect(await queueInfo(raw, queue)).toBeUndefined();
  });

  it('redrives a -dlq back to its queue, N then the rest, counted, with the original routing key', async () => {
    const queue = queueName();
    const dlq = `${queue}-dlq`;
    await http.call('POST', '/queues', { name: queue });
    for (const n of [1, 2, 3]) await http.call('POST', `/queues/${dlq}/messages`, { data: { n }, topic: 'order-failed' });
    expect(await depth(dlq)).toBe(3);
    expect((await http.call('POST', `/queues/${dlq}/redrive`, { max: 2 })).json).toEqual({ from: dlq, to: queue, moved: 2 });
    expect(await depth(dlq)).toBe(1);
    expect(await depth(queue)).toBe(2);
    expect((await http.call('POST', `/queues/${dlq}/redrive`, {})).json).toEqual({ from: dlq, to: queue, moved: 1 });
    const moved = (await http.call('POST', `/queues/${queue}/peek`, { max: 10, spendReceive: true })).json as Array<{
      data: { n: number };
      topic: string;
    }>;
    expect(moved.map((m) => m.data.n)).toEqual([1, 2, 3]);
    expect(moved.every((m) => m.topic === 'order-failed')).toBe(true);
  });

  it('declares and deletes exchanges as topics; listing answers 501 naming the management API', async () => {
    const exchange = uniqueName('admin-x');
    exchanges.push(exchange);
    expect((await http.call('POST', '/topics', { name: exchange })).json).toEqual({ name: exchange, created: true });
    expect(await exchangeExists(raw, exchange)).toBe(true);
    expect((await http.call('GET', `/topics/${exchange}`)).json).toEqual({ transport: 'amqp', name: exchange });
    expect((await http.call('DELETE', `/topics/${exchange}`)).status).toBe(204);
    expect(await exchangeExists(raw, exchange)).toBe(false);
    expect((await http.call('DELETE', `/topics/${exchange}`)).status).toBe(404);

    const listing = await http.call('GET', '/queues');
    expect(listing.status).toBe(501);
    expect(listing.json.message).toContain('management');
    await expect(http.app.get(MessagingAdminService).listTopics()).rejects.toThrow(/listTopics is not available on transport 'amqp'/);
  });
});
