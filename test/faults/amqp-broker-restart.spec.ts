import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { BrokerStatus } from '../../lib/index.js';
import { lockBrokerExclusively, startBrokerApp, stopBrokerApp } from '../support/rabbitmq.js';
import { numberIn, numbers, publishNumbered, sleep } from './support/apps.js';
import { createRabbitMqUser } from '../support/rabbitmq-users.js';
import { deleteAmqpObjects, drainQueue } from './support/rabbit.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { startRecordingPair } from './support/interruption.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';

/**
 * The one fault-suite file that restarts RabbitMQ (stop_app / start_app): it takes the broker lock exclusively, so no
 * other RabbitMQ suite (fault or integration) runs meanwhile, and keeps the outage short.
 */
const COUNT = 2000;

lockBrokerExclusively();

describe('faults: AMQP broker restart', () => {
  let amqpUser: Awaited<ReturnType<typeof createRabbitMqUser>>;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];
  const exchange = uniqueName('f-ex');
  const topic = uniqueName('f-restart');

  beforeAll(async () => {
    amqpUser = await createRabbitMqUser('faults');
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await startBrokerApp().catch(() => undefined); // never leave the broker stopped
    await deleteAmqpObjects([topic, `${topic}-retry`, `${topic}-dlq`], exchange);
    await amqpUser?.remove();
    expect(linesWithSecrets(logger.lines, [amqpUser.password])).toEqual([]);
  }, 90_000);

  it('5b. stop_app / start_app during publish and consume: every emit confirmed or rejected, consumers re-attach, nothing lost', async () => {
    const serviceName = uniqueName('svc');
    const amqp = {
      url: amqpUser.url,
      exchange,
      prefetch: 50,
      heartbeat: 5,
      publishTimeout: 5000,
      reconnectDelay: { initial: 200, max: 1000 },
    };
    const { handled, publisher, server, client } = await startRecordingPair({ transport: 'amqp', serviceName, amqp }, topic, logger, apps);
    const statuses: BrokerStatus[] = [];
    const subscription = server.status.subscribe((s) => statuses.push(s as BrokerStatus));
    const connected = (status: Observable<unknown>) => firstValueFrom(status.pipe(filter((s) => s === 'connected')));
    const publishing = publishNumbered(publisher, topic, numbers(COUNT), { concurrency: 4, pauseMs: 5 });
    await waitFor(() => new Set(handled).size >= 400, { timeoutMs: 30_000, what: '400 handled before the restart' });
    const stoppedAt = Date.now();
    await stopBrokerApp();
    await sleep(1000);
    await startBrokerApp();
    const outageMs = Date.now() - stoppedAt;
    const { confirmed, rejected } = await publishing;
    await Promise.all([connected(server.status), connected(client.status)]);
    await waitFor(
      () => {
        const h = new Set(handled);
        return [...confirmed].every((n) => h.has(n));
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every confirmed message handled' },
    ).catch(() => undefined);
    await server.close();
    subscription.unsubscribe();
    const dead = (await drainQueue(`${topic}-dlq`)).map((m) => numberIn(m.content.toString())!);
    const result = account('amqp 5b broker stop_app/start_app', {
      published: COUNT,
      confirmed,
      handled,
      deadLettered: dead,
      rejected: rejected.size,
      note: `outage ${(outageMs / 1000).toFixed(1)} s, consumer status ${[...new Set(statuses)].join('/')}; rejected handled anyway ${[...rejected.keys()].filter((n) => handled.includes(n)).length}`,
    });
    expect(result.lost).toEqual([]);
    expect(confirmed.size + rejected.size).toBe(COUNT);
    expect(statuses).toContain('reconnecting');
    for (const message of rejected.values()) expect(message).toMatch(/confirm|connection|publisher|closed/i);
  }, 240_000);
});
