import * as amqp from 'amqplib';
import { MessagingModule } from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { deleteSnsSqsResources } from '../../support/emulators.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { AMQP_URL, queueInfo, rabbitMqOptions } from '../../support/rabbitmq.js';
import { rabbitmqctl } from '../../support/rabbitmq-run.mjs';
import { uniqueName } from '../../support/wait-for.js';
import { startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

const MANAGEMENT_URL = process.env.RABBITMQ_MANAGEMENT_URL ?? 'http://guest:guest@127.0.0.1:15672';

/**
 * One app, connections on both transports: SNS+SQS on fauxqs (the default) and 'rabbit', RabbitMQ on a vhost of its
 * own (listing through the management API). Each admin call is checked against its connection's transport and acts
 * on that connection only.
 */
let fauxqs: Fauxqs;
let http: AdminHttpApp;
let vhost: string | undefined;
let raw: amqp.ChannelModel | undefined;
const prefix = uniqueName('conn-mixed');
const snsQueue = `${prefix}-sns-billing`;
const rabbitQueue = `${prefix}-rabbit-billing`;

function vhostUrl(): string {
  const url = new URL(AMQP_URL);
  url.pathname = `/${encodeURIComponent(vhost!)}`;
  return url.toString();
}

beforeAll(async () => {
  fauxqs = await startFauxqs();
  vhost = uniqueName('admin-connections');
  await rabbitmqctl(['add_vhost', vhost]);
  await rabbitmqctl(['set_permissions', '-p', vhost, decodeURIComponent(new URL(AMQP_URL).username), '.*', '.*', '.*']);
  raw = await amqp.connect(vhostUrl());
  const controller = controllerFor([
    { pattern: `${prefix}-paid`, extras: { queueName: snsQueue }, handle: () => undefined },
    { pattern: `${prefix}-paid`, extras: { queueName: rabbitQueue, connection: 'rabbit' }, handle: () => undefined },
  ]);
  http = await startAdminApp(
    fauxqsOptions(fauxqs, { serviceName: 'conn-mixed' }),
    { guard: TokenGuard },
    {
      controllers: [controller],
      imports: [
        MessagingModule.forRoot({
          name: 'rabbit',
          ...rabbitMqOptions({ serviceName: 'conn-mixed', drainTimeout: 5000, amqp: { url: vhostUrl(), managementUrl: MANAGEMENT_URL } }),
        }),
      ],
    },
  );
}, 60_000);

afterAll(async () => {
  await http?.close();
  await raw?.close();
  if (vhost) await rabbitmqctl(['delete_vhost', vhost]);
  if (fauxqs) await deleteSnsSqsResources(fauxqs, prefix);
  await fauxqs?.stop();
});

describe('the admin API of an app on SNS+SQS and RabbitMQ (fauxqs and a vhost)', () => {
  it('lists both connections with their transports, and documents the arguments of both in openapi.json', async () => {
    expect((await http.call('GET', '/connections')).json).toEqual([
      { name: 'default', transport: 'sns-sqs' },
      { name: 'rabbit', transport: 'amqp' },
    ]);
    const document = (await http.call('GET', '/openapi.json')).json;
    expect(document.info.description).toContain('Connections: default (sns-sqs), rabbit (amqp)');
    const subscribe = document.paths['/messaging/subscriptions'].post.requestBody.content['application/json'].schema.properties;
    expect([subscribe.filterPolicy.description, subscribe.exchange.description]).toEqual([
      expect.stringMatching(/\(sns-sqs connections only\)$/),
      expect.stringMatching(/\(amqp connections only\)$/),
    ]);
  });

  it("checks each request against its connection's transport", async () => {
    const fifo = `${prefix}-orders`;
    const refused = await http.call('POST', '/queues?connection=rabbit', { name: fifo, fifo: true });
    expect([refused.status, refused.json.message]).toEqual([
      400,
      expect.stringMatching(/^Invalid fifo: is not supported on transport 'amqp'/),
    ]);
    expect(await queueInfo(raw!, fifo)).toBeUndefined();
    const created = await http.call('POST', '/queues', { name: fifo, fifo: true, deadLetterQueue: false });
    expect([created.status, created.json.name]).toEqual([201, `${fifo}.fifo`]);
    expect((await http.call('DELETE', `/queues/${fifo}.fifo`)).status).toBe(204);
  });

  it("lists, creates and deletes on the RabbitMQ vhost only, and the overview shows each connection's consumed queue", async () => {
    const names = async (query: string) =>
      ((await http.call('GET', `/queues?prefix=${prefix}${query}`)).json as Array<{ name: string }>).map((q) => q.name).sort();
    expect(await names('')).toEqual([snsQueue, `${snsQueue}-dlq`]);
    expect(await names('&connection=rabbit')).toEqual([rabbitQueue, `${rabbitQueue}-dlq`, `${rabbitQueue}-retry`]);

    const queue = `${prefix}-made-on-rabbit`;
    expect((await http.call('POST', '/queues?connection=rabbit', { name: queue, deadLetterQueue: false })).status).toBe(201);
    expect(await queueInfo(raw!, queue)).toEqual({ messageCount: 0, consumerCount: 0 });
    expect(await names('')).toEqual([snsQueue, `${snsQueue}-dlq`]);
    expect((await http.call('POST', `/queues/${queue}/messages?connection=rabbit`, { data: { n: 1 } })).status).toBe(201);
    expect((await http.call('GET', `/queues/${queue}?connection=rabbit`)).json).toMatchObject({ transport: 'amqp', messages: 1 });
    expect((await http.call('GET', `/queues/${queue}`)).status).toBe(404); // not on SNS+SQS
    expect((await http.call('DELETE', `/queues/${queue}?connection=rabbit`)).status).toBe(204);
    expect(await queueInfo(raw!, queue)).toBeUndefined();

    const overview = async (query: string) => {
      const { connection, transport, queues } = (await http.call('GET', `/overview${query}`)).json;
      return [connection, transport, queues.map((q: { name: string; consumed: boolean }) => [q.name, q.consumed])];
    };
    expect(await overview('')).toEqual(['default', 'sns-sqs', [[snsQueue, true]]]);
    expect(await overview('?connection=rabbit')).toEqual(['rabbit', 'amqp', [[rabbitQueue, true]]]);
  });
});
