import 'reflect-metadata';
import type { BrokerStatus } from '../../lib/index.js';
import { useRabbitNode } from '../support/rabbitmq-node.js';
import { numbers, publishNumbered, sleep } from './support/apps.js';
import { waitFor } from '../support/wait-for.js';
import { amqpRecordingSuite } from './support/amqp-recording.js';

/**
 * The fault-suite file that restarts RabbitMQ (stop_app / start_app): the run's test node, never the shared broker,
 * held alone meanwhile (no other spec file uses that node during the restart); the outage stays short.
 */
const COUNT = 2000;

const rabbit = useRabbitNode({ restarts: true });

describe('faults: AMQP broker restart', () => {
  const suite = amqpRecordingSuite('f-restart', rabbit, {
    cleanupTimeoutMs: 90_000,
    afterAppsClosed: () => rabbit.node.startApp().catch(() => undefined), // never leave the node stopped
  });
  const { topic } = suite;

  it('5b. stop_app / start_app during publish and consume: every emit confirmed or rejected, consumers re-attach, nothing lost', async () => {
    const pair = await suite.startPair(5000);
    const { handled, publisher, server } = pair;
    const statuses: BrokerStatus[] = [];
    const subscription = server.status.subscribe((s) => statuses.push(s as BrokerStatus));
    const publishing = publishNumbered(publisher, topic, numbers(COUNT), { concurrency: 4, pauseMs: 5 });
    await waitFor(() => new Set(handled).size >= 400, { timeoutMs: 30_000, what: '400 handled before the restart' });
    const stoppedAt = Date.now();
    await rabbit.node.stopApp();
    await sleep(1000);
    await rabbit.node.startApp();
    const outageMs = Date.now() - stoppedAt;
    const published = await publishing;
    const { confirmed, rejected } = published;
    const result = await suite.settle(
      'amqp 5b broker stop_app/start_app',
      pair,
      COUNT,
      published,
      () => `outage ${(outageMs / 1000).toFixed(1)} s, consumer status ${[...new Set(statuses)].join('/')}`,
    );
    subscription.unsubscribe();
    expect(result.lost).toEqual([]);
    expect(confirmed.size + rejected.size).toBe(COUNT);
    expect(statuses).toContain('reconnecting');
    for (const message of rejected.values()) expect(message).toMatch(/confirm|connection|publisher|closed/i);
  }, 240_000);
});
