import 'reflect-metadata';
import { type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import {
  ConnectionStartError,
  MessagingClient,
  MessagingHealthIndicator,
  MessagingModule,
  type MessagingContext,
} from '../../../lib/index.js';
import { Registry } from 'prom-client';
import { controllerFor } from '../../support/controllers.js';
import { tryStartModuleApp } from '../../support/apps.js';
import { sample } from '../observability/http-app.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { createVhost, Publishers } from './connection-support.js';

/** The value of the one sample of `name` whose labels include `labels` (the queue label left out). */
function sampleWith(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  const lines = exposition.split('\n').filter((line) => line.startsWith(`${name}{`));
  const matching = lines.filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)));
  return matching.length === 1 ? Number(matching[0].split(' ').pop()) : undefined;
}

const publish = (client: MessagingClient, topic: string, data: unknown) =>
  lastValueFrom(client.emit(topic, data), { defaultValue: undefined });

/**
 * One app, three connections: SNS+SQS on one emulator (the default), SNS+SQS on a second emulator in another region
 * ('partner'), RabbitMQ on a vhost of its own on the shared broker ('rabbit', through forRootAsync).
 */
describe('named connections: one app on two SNS+SQS emulators and RabbitMQ', () => {
  let home: Fauxqs | undefined;
  let partner: Fauxqs | undefined;
  let partnerStopped = false;
  let vhost: Awaited<ReturnType<typeof createVhost>> | undefined;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    [home, partner] = await Promise.all([startFauxqs(), startFauxqs()]);
    vhost = await createVhost('connections');
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(async () => {
    await vhost?.remove();
    await Promise.all([home?.stop(), partnerStopped ? undefined : partner?.stop()]);
  });

  const vhostUrl = () => vhost!.url;

  /** The three connections; `rabbitUrl` replaces the RabbitMQ URL (a closed port, to fail its start). */
  function imports(service: string, rabbitUrl = vhostUrl(), registry?: Registry): ModuleMetadata['imports'] {
    return [
      MessagingModule.forRoot(fauxqsOptions(home!, { serviceName: service, ...(registry ? { metrics: { registry } } : {}) })),
      MessagingModule.forRoot({ name: 'partner', ...fauxqsOptions(partner!, { serviceName: service, snsSqs: { region: 'eu-west-1' } }) }),
      MessagingModule.forRootAsync({
        name: 'rabbit',
        useFactory: () => rabbitMqOptions({ serviceName: service, drainTimeout: 5000, amqp: { url: rabbitUrl, connectTimeout: 2000 } }),
      }),
    ];
  }

  async function start(metadata: ModuleMetadata): Promise<{ app: INestApplication; error?: unknown }> {
    const started = await tryStartModuleApp(metadata);
    apps.push(started.app);
    return started;
  }

  it("delivers each named client's emit to exactly its connection's handler, and health reports each connection", async () => {
    const service = uniqueName('conn');
    const topic = uniqueName('order-paid');
    const got: Record<string, Array<{ data: unknown; topic: string }>> = { default: [], partner: [], rabbit: [] };
    const handler = (connection: string) => (data: unknown, ctx: MessagingContext) => {
      got[connection].push({ data, topic: ctx.getTopic() });
    };
    // the same topic on every connection: only the connection tells the handlers apart
    const controller = controllerFor([
      { pattern: topic, handle: handler('default') },
      { pattern: topic, extras: { connection: 'partner' }, handle: handler('partner') },
      { pattern: topic, extras: { connection: 'rabbit' }, handle: handler('rabbit') },
    ]);
    const registry = new Registry();
    const { app, error } = await start({
      imports: imports(service, vhostUrl(), registry),
      controllers: [controller],
      providers: [Publishers],
    });
    expect(error).toBeUndefined();

    const publishers = app.get(Publishers);
    await publish(publishers.own, topic, { via: 'default' });
    await publish(publishers.partner, topic, { via: 'partner' });
    await publish(publishers.rabbit, topic, { via: 'rabbit' });
    await waitFor(() => got.default.length > 0 && got.partner.length > 0 && got.rabbit.length > 0, {
      what: 'a delivery on each connection',
    });
    expect(got).toEqual({
      default: [{ data: { via: 'default' }, topic }],
      partner: [{ data: { via: 'partner' }, topic }],
      rabbit: [{ data: { via: 'rabbit' }, topic }],
    });

    // one set of metrics, each connection under its own label
    const exposition = await registry.metrics();
    for (const [connection, transport] of [
      ['default', 'sns-sqs'],
      ['partner', 'sns-sqs'],
      ['rabbit', 'amqp'],
    ]) {
      const labels = { connection, transport, topic };
      expect([connection, sample(exposition, 'messaging_messages_published_total', { ...labels, outcome: 'success' })]).toEqual([
        connection,
        1,
      ]);
      expect([connection, sampleWith(exposition, 'messaging_messages_handled_total', { ...labels, outcome: 'success' })]).toEqual([
        connection,
        1,
      ]);
      expect([connection, sample(exposition, 'messaging_broker_connected', { connection, transport })]).toEqual([connection, 1]);
    }

    const health = app.get(MessagingHealthIndicator);
    expect(await health.isHealthy('messaging')).toEqual({
      messaging: {
        status: 'up',
        transport: 'sns-sqs',
        consumers: 1,
        connections: {
          default: { status: 'up', transport: 'sns-sqs', consumers: 1 },
          partner: { status: 'up', transport: 'sns-sqs', consumers: 1 },
          rabbit: { status: 'up', transport: 'amqp', consumers: 1 },
        },
      },
    });

    // the partner's emulator goes away: that connection is down, the others stay up
    partnerStopped = true;
    await partner!.stop();
    const down = await waitFor(
      async () => {
        const result = await health.isHealthy('messaging', { receiveFailureThreshold: 1 });
        return result.messaging.status === 'down' ? result.messaging : undefined;
      },
      { timeoutMs: 30_000, what: 'health to report the partner connection down' },
    );
    const connections = down.connections as Record<string, { status: string; reason?: string }>;
    expect(connections.default.status).toBe('up');
    expect(connections.rabbit.status).toBe('up');
    expect(connections.partner.status).toBe('down');
    expect(down.reason).toBe(`connection 'partner': ${connections.partner.reason}`);
    expect(connections.partner.reason).toContain('failed 1 times in a row');
  });

  it('fails the start naming the connection that could not start', async () => {
    const service = uniqueName('conn-fail');
    const topic = uniqueName('order-paid');
    const controller = controllerFor([
      { pattern: topic, handle: () => undefined },
      { pattern: topic, extras: { connection: 'rabbit' }, handle: () => undefined },
    ]);
    const closedPort = 'amqp://guest:guest@127.0.0.1:1';
    const { error } = await start({ imports: imports(service, closedPort), controllers: [controller] });
    expect(error).toBeInstanceOf(ConnectionStartError);
    expect((error as ConnectionStartError).connection).toBe('rabbit');
    expect((error as Error).message).toMatch(
      /^Messaging connection 'rabbit' failed to start: amqp: no connection to amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/,
    );
  });
});
