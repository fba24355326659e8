import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingServer, type BrokerStatus } from '../../../lib/index.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode } from '../../support/rabbitmq-node.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/**
 * Restarts the RabbitMQ application (stop_app / start_app) of the run's test node, never the shared broker; the
 * file holds that node alone meanwhile, and the restart stays short.
 */
function makeController(handled: number[]) {
  @Controller()
  class RestartController {
    @EventPattern('restart-tick', { queueName: 'restart' })
    tick(@Payload() data: { i: number }) {
      handled.push(data.i);
    }
  }
  return RestartController;
}

const rabbit = useRabbitNode({ restarts: true });

describe('AMQP broker restart', () => {
  let app: INestApplication | undefined;
  const exchange = uniqueName('ex-restart');
  const queuePrefix = `${uniqueName('q')}-`;

  afterAll(async () => {
    await app?.close();
    const raw = await rabbit.node.connect();
    const ch = await raw.createChannel();
    for (const q of ['restart', 'restart-retry', 'restart-dlq']) await ch.deleteQueue(`${queuePrefix}${q}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  it('handles everything that was published and confirmed across stop_app / start_app', async () => {
    const handled: number[] = [];
    app = await startTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('svc'),
        queueNamePrefix: queuePrefix,
        amqp: { url: rabbit.node.url, exchange, publishTimeout: 60_000, heartbeat: 5, reconnectDelay: { initial: 200, max: 1000 } },
      }),
      [makeController(handled)],
    );
    const statuses: BrokerStatus[] = [];
    const subscription = app.get(MessagingServer).status.subscribe((s) => statuses.push(s as BrokerStatus));
    const client = app.get(MessagingClient);

    const confirmed = new Set<number>();
    const rejected: number[] = [];
    const inflight: Array<Promise<void>> = [];
    let next = 0;
    let publishing = true;
    const publishLoop = (async () => {
      while (publishing) {
        const i = next++;
        inflight.push(
          lastValueFrom(client.emit('restart-tick', { i })).then(
            () => {
              confirmed.add(i);
            },
            () => {
              rejected.push(i);
            },
          ),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
    })();

    await waitFor(() => confirmed.size >= 100, { what: '100 confirmed before the restart' });
    await rabbit.node.stopApp();
    await rabbit.node.startApp();
    await waitFor(() => statuses.at(-1) === 'connected' && statuses.includes('reconnecting'), { what: 'reconnected', timeoutMs: 60_000 });
    const atReconnect = next;
    await waitFor(() => confirmed.size >= atReconnect + 50 || next > atReconnect + 100, {
      what: 'publishing after the restart',
      timeoutMs: 30_000,
    });
    publishing = false;
    await publishLoop;
    await Promise.all(inflight);

    await waitFor(() => [...confirmed].every((i) => handled.includes(i)), {
      what: 'every confirmed message handled',
      timeoutMs: 60_000,
    }).catch(() => undefined);
    const handledSet = new Set(handled);
    const lost = [...confirmed].filter((i) => !handledSet.has(i));
    const duplicates = handled.length - handledSet.size;
    console.log(
      `broker restart: emitted ${next}, published+confirmed ${confirmed.size}, rejected ${rejected.length}, handled ${handledSet.size} distinct (${handled.length} deliveries), duplicates ${duplicates}, lost ${lost.length}; statuses ${statuses.join(' → ')}`,
    );
    subscription.unsubscribe();
    expect(lost).toEqual([]);
    expect(rejected).toEqual([]);
  }, 180_000);
});
