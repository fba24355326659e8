import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { TopologyVerificationError } from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp, tryStartTestApp } from '../../support/apps.js';
import { exchangeExists, queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

shareBroker();

describe("AMQP provisioning 'verify' and 'off' (RabbitMQ)", () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  const cleanup: Array<{ queues: string[]; exchange: string }> = [];
  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    const channel = await raw.createChannel();
    for (const { queues, exchange } of cleanup) {
      for (const q of queues) await channel.deleteQueue(q);
      await channel.deleteExchange(exchange);
    }
    await channel.close();
    await raw.close();
  });

  /** A queue on its own exchange, provisioned by a 'create' run that is closed again. */
  async function provisioned() {
    const exchange = uniqueName('ex-modes');
    const queue = uniqueName('q-modes');
    cleanup.push({ queues: [queue, `${queue}-retry`, `${queue}-dlq`], exchange });
    const received: unknown[] = [];
    const controller = controllerFor([
      {
        pattern: 'order-paid',
        extras: { queueName: queue },
        handle: (data) => {
          received.push(data);
        },
      },
    ]);
    const options = { serviceName: uniqueName('svc'), amqp: { exchange } };
    apps.push(await startTestApp(rabbitMqOptions(options), [controller]));
    await apps.pop()!.close();
    return { exchange, queue, received, controller, options };
  }

  const channel = async <T>(work: (ch: Awaited<ReturnType<ChannelModel['createChannel']>>) => Promise<T>) => {
    const ch = await raw.createChannel();
    try {
      return await work(ch);
    } finally {
      await ch.close();
    }
  };

  it("'verify' accepts what 'create' declared (passive checks) and consumes", async () => {
    const s = await provisioned();
    const app = await startTestApp(rabbitMqOptions({ ...s.options, provisioning: 'verify' }), [s.controller]);
    apps.push(app);
    await emit(app, 'order-paid', { id: 1 });
    await waitFor(() => s.received.length === 1, { what: 'the message through a verified topology' });
  });

  it("'verify' fails listing the missing exchange, queue and retry queue, and declares none of them", async () => {
    const s = await provisioned();
    await channel(async (ch) => {
      await ch.deleteQueue(s.queue);
      await ch.deleteQueue(`${s.queue}-retry`);
      await ch.deleteExchange(s.exchange);
    });
    const { app, error } = await tryStartTestApp(rabbitMqOptions({ ...s.options, provisioning: 'verify' }), [s.controller]);
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    expect((error as TopologyVerificationError).mismatches).toEqual([
      { kind: 'exchange', resource: s.exchange, expected: 'a durable topic exchange', found: 'no such exchange' },
      { kind: 'queue', resource: s.queue, expected: `a durable queue bound to ${s.exchange}:order-paid`, found: 'no such queue' },
      {
        kind: 'retry queue',
        resource: `${s.queue}-retry`,
        expected: expect.stringContaining(`dead-lettering to "${s.queue}"`),
        found: 'no such queue',
      },
    ]);
    expect((error as Error).message).toContain(
      `queue ${s.queue}: missing (expected a durable queue bound to ${s.exchange}:order-paid; found no such queue)`,
    );
    expect(await queueInfo(raw, s.queue)).toBeUndefined();
    expect(await exchangeExists(raw, s.exchange)).toBe(false);
  });

  it("'off' declares nothing: a deleted exchange stays deleted, and the existing queue is consumed", async () => {
    const s = await provisioned();
    await channel((ch) => ch.deleteExchange(s.exchange));
    const app = await startTestApp(rabbitMqOptions({ ...s.options, provisioning: 'off' }), [s.controller]);
    apps.push(app);
    expect(await exchangeExists(raw, s.exchange)).toBe(false);
    expect(await queueInfo(raw, s.queue)).toMatchObject({ consumerCount: 1 });
    // routed by hand (the exchange is gone): the default exchange delivers straight to the queue; the header carries the
    // topic, as it does for a message coming back from the retry queue
    const envelope = JSON.stringify({
      service: { name: 'x', uuid: 'u' },
      metadata: {
        message_uuid: 'u.1',
        protocol_version: 'tomodachi-json-base--1.0.0',
        compatible_protocol_versions: ['json_base-wip'],
        timestamp: 1,
        topic: 'order-paid',
        data_encoding: 'raw',
      },
      data: { id: 2 },
    });
    await channel(async (ch) => {
      ch.sendToQueue(s.queue, Buffer.from(envelope), { headers: { 'x-original-routing-key': 'order-paid' } });
    });
    await waitFor(() => s.received.length === 1, { what: 'the message on the queue that off did not declare' });
    expect(s.received).toEqual([{ id: 2 }]);
  });
});
