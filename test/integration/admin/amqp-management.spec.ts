import { createServer, type AddressInfo, type Server } from 'node:net';
import type { ChannelModel } from 'amqplib';
import { BrokerConnectionError, MessagingAdminService, MessagingOptionsError, type AdminEvent } from '../../../lib/index.js';
import { RabbitMqManagement } from '../../../lib/amqp/admin/rabbitmq-management.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { AMQP_URL, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

shareBroker();

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';
const prefix = `${uniqueName('mgmt')}.`;
let http: AdminHttpApp;
let raw: ChannelModel;
let stalled: Server | undefined;

beforeAll(async () => {
  raw = await rawConnection();
  http = await startAdminApp(rabbitMqOptions({ serviceName: 'admin-mgmt', topicPrefix: prefix, amqp: { managementUrl: MANAGEMENT_URL } }), {
    guard: TokenGuard,
    watch: { intervalMs: 200, prefix },
  });
});

afterAll(async () => {
  await http?.close();
  stalled?.close();
  if (raw) {
    const channel = await raw.createChannel();
    for (const suffix of ['q', 'q-retry', 'q-dlq']) await channel.deleteQueue(`${prefix}${suffix}`);
    await channel.deleteExchange(`${prefix}exchange`);
    await channel.close();
    await raw.close();
  }
});

describe('AMQP listing through the RabbitMQ management API (amqp.managementUrl)', () => {
  it('lists queues and exchanges by prefix, and an exchange with its bindings', async () => {
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      const queue = `${prefix}q`;
      const exchange = `${prefix}exchange`;
      expect((await http.call('POST', '/queues', { name: queue })).status).toBe(201);
      expect((await http.call('POST', '/topics', { name: exchange })).status).toBe(201);

      const queues = await http.call('GET', `/queues?prefix=${encodeURIComponent(prefix)}`);
      expect(queues.status).toBe(200);
      expect(queues.json).toEqual([{ name: queue }, { name: `${queue}-dlq` }, { name: `${queue}-retry` }]);
      const topics = await http.call('GET', `/topics?prefix=${encodeURIComponent(prefix)}`);
      expect(topics.json).toEqual([{ name: exchange }]);
      const all = await http.call('GET', '/topics');
      expect(all.json.map((t: { name: string }) => t.name)).toEqual(expect.arrayContaining(['amq.topic', exchange]));
      expect(all.json.some((t: { name: string }) => t.name === '')).toBe(false);

      const bound = await http.call('POST', '/subscriptions', { topic: 'order.paid', queue, exchange });
      expect(bound.status).toBe(201);
      const info = await http.call('GET', `/topics/${encodeURIComponent(exchange)}`);
      expect(info.json).toEqual({
        transport: 'amqp',
        name: exchange,
        subscriptions: [{ id: bound.json.id, topic: `${prefix}order.paid`, queue }],
      });
      expect((await http.call('DELETE', `/subscriptions/${encodeURIComponent(bound.json.id)}`)).status).toBe(204);
      expect((await http.call('GET', `/topics/${encodeURIComponent(exchange)}`)).json.subscriptions).toEqual([]);

      // the watcher lists through the same API
      await waitFor(() => events.some((e) => e.type === 'resource.appeared' && e.resource === queue), { what: 'resource.appeared' });
      const overview = await http.call('GET', '/overview');
      expect(overview.json.queues).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: queue, consumed: false, messages: 0, consumers: 0 })]),
      );
    } finally {
      subscription.unsubscribe();
    }
  });

  it('says what is wrong: refused credentials, a stalled endpoint (timeout), an invalid URL', async () => {
    const wrong = new URL(MANAGEMENT_URL);
    wrong.password = 'not-the-password';
    await expect(new RabbitMqManagement(wrong.href, AMQP_URL).queues()).rejects.toThrow(
      /refused the credentials of amqp\.managementUrl \(HTTP 401\)/,
    );

    stalled = createServer(() => undefined);
    await new Promise<void>((resolve) => stalled!.listen(0, '127.0.0.1', resolve));
    const { port } = stalled.address() as AddressInfo;
    const started = Date.now();
    const failure = new RabbitMqManagement(`http://guest:secret@127.0.0.1:${port}`, AMQP_URL, 300).exchanges();
    await expect(failure).rejects.toThrow(BrokerConnectionError);
    await expect(failure).rejects.toThrow(/no answer within 300 ms/);
    await expect(failure).rejects.not.toThrow(/secret/);
    expect(Date.now() - started).toBeLessThan(5000);

    expect(() => resolveModuleOptions(rabbitMqOptions({ serviceName: 'x', amqp: { managementUrl: 'ftp://host' } }))).toThrow(
      MessagingOptionsError,
    );
    expect(() => resolveModuleOptions(rabbitMqOptions({ serviceName: 'x', amqp: { managementUrl: 'http://' } }))).toThrow(
      /amqp\.managementUrl.*http:\/\/guest:guest@127\.0\.0\.1:15672/,
    );
  });
});
