import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { firstValueFrom, filter } from 'rxjs';
import type { BrokerStatus } from '../../lib/index.js';
import { closeConnectionFromBroker, shareBroker } from '../support/rabbitmq.js';
import { numberIn, numbers, publishNumbered } from './support/apps.js';
import { createRabbitMqUser } from '../support/rabbitmq-users.js';
import { deleteAmqpObjects, drainQueue } from './support/rabbit.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { startRecordingPair } from './support/interruption.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';

/**
 * AMQP connection loss during publish and consume: the broker closes the consumer's and the publisher's own
 * connections (rabbitmqctl close_connection, only ours). Emits either confirm or reject; consumers re-attach.
 */
const COUNT = 2000;

shareBroker();

describe('faults: AMQP connection loss', () => {
  let amqpUser: Awaited<ReturnType<typeof createRabbitMqUser>>;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];
  const exchange = uniqueName('f-ex');
  const topic = uniqueName('f-conn');

  beforeAll(async () => {
    amqpUser = await createRabbitMqUser('faults');
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await deleteAmqpObjects([topic, `${topic}-retry`, `${topic}-dlq`], exchange);
    await amqpUser?.remove();
    expect(linesWithSecrets(logger.lines, [amqpUser.password])).toEqual([]);
  }, 30_000);

  it('5a. connections closed by the broker mid-stream: every emit confirmed or rejected, consumers re-attach, nothing lost', async () => {
    const serviceName = uniqueName('svc');
    const amqp = {
      url: amqpUser.url,
      exchange,
      prefetch: 50,
      heartbeat: 5,
      publishTimeout: 10_000,
      reconnectDelay: { initial: 200, max: 1000 },
    };
    const { handled, publisher, server, client } = await startRecordingPair({ transport: 'amqp', serviceName, amqp }, topic, logger, apps);
    const connected = (status: { status: import('rxjs').Observable<BrokerStatus> }) =>
      firstValueFrom(status.status.pipe(filter((s) => s === 'connected')));
    // closes our own connection once it is up (between a loss and the reconnect there is none)
    const closeOwn = async (owner: { unwrap<T>(): T }, reason: string) => {
      const model = await waitFor(() => owner.unwrap<import('amqplib').ChannelModel | undefined>(), {
        timeoutMs: 30_000,
        what: 'a live connection',
      });
      await closeConnectionFromBroker(model, reason);
    };
    const publishing = publishNumbered(publisher, topic, numbers(COUNT), { concurrency: 4, pauseMs: 10 });
    const progress = () => new Set(handled).size;
    await waitFor(() => progress() >= 300, { timeoutMs: 30_000, what: '300 handled' });
    await closeOwn(server, 'fault suite: consumer connection');
    await waitFor(() => progress() >= 700, { timeoutMs: 30_000, what: '700 handled after the consumer reconnected' });
    await closeOwn(client, 'fault suite: publisher connection');
    await waitFor(() => progress() >= 1100, { timeoutMs: 30_000, what: '1100 handled after the publisher reconnected' });
    await Promise.all([closeOwn(server, 'fault suite: both'), closeOwn(client, 'fault suite: both')]);
    const { confirmed, rejected } = await publishing;
    await Promise.all([connected(server as never), connected(client as never)]);
    await waitFor(
      () => {
        const h = new Set(handled);
        return [...confirmed].every((n) => h.has(n));
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every confirmed message handled' },
    ).catch(() => undefined);
    await server.close();
    const dead = (await drainQueue(`${topic}-dlq`)).map((m) => numberIn(m.content.toString())!);
    const reconnects = logger.count('WARN', /AMQP connection to .* lost/);
    const result = account('amqp 5a broker closes connections', {
      published: COUNT,
      confirmed,
      handled,
      deadLettered: dead,
      rejected: rejected.size,
      note: `4 connections closed by the broker (consumer, publisher, both), ${reconnects} losses logged; rejected handled anyway ${[...rejected.keys()].filter((n) => handled.includes(n)).length}`,
    });
    expect(result.lost).toEqual([]);
    expect(confirmed.size + rejected.size).toBe(COUNT);
    expect(reconnects).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
