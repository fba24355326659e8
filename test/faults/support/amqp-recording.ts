import type { INestApplication } from '@nestjs/common';
import { filter, firstValueFrom, type Observable } from 'rxjs';
import type { RabbitNode } from '../../support/rabbitmq-node.js';
import { createRabbitMqUser, type RabbitMqUser } from '../../support/rabbitmq-users.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { account } from './accounting.js';
import { numberIn, type publishNumbered } from './apps.js';
import { startRecordingPair } from './interruption.js';
import { CaptureLogger, linesWithSecrets } from './logs.js';
import { deleteAmqpObjects, drainQueue } from './rabbit.js';

type RecordingPair = Awaited<ReturnType<typeof startRecordingPair>>;
type Published = Awaited<ReturnType<typeof publishNumbered>>;

const connected = (status: Observable<unknown>) => firstValueFrom(status.pipe(filter((s) => s === 'connected')));

/**
 * Call inside the describe block of an AMQP spec that cuts the broker connection under a recording pair
 * (startRecordingPair) on `topic`, on the run's test node (`rabbit.node`, from useRabbitNode at the top level): creates
 * a RabbitMQ user of its own there before all tests; after all, closes the apps, runs `afterAppsClosed`, deletes the
 * topic's queues and the exchange, removes the user and checks that no log line carried its password.
 */
export function amqpRecordingSuite(
  topicBase: string,
  rabbit: { readonly node: RabbitNode },
  p: { cleanupTimeoutMs: number; afterAppsClosed?: () => Promise<unknown> },
) {
  let amqpUser: RabbitMqUser;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];
  const exchange = uniqueName('f-ex');
  const topic = uniqueName(topicBase);

  beforeAll(async () => {
    amqpUser = await createRabbitMqUser('faults', undefined, rabbit.node);
  }, 30_000);
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await p.afterAppsClosed?.();
    await deleteAmqpObjects([topic, `${topic}-retry`, `${topic}-dlq`], exchange, rabbit.node.url);
    await amqpUser?.remove();
    expect(linesWithSecrets(logger.lines, [amqpUser.password])).toEqual([]);
  }, p.cleanupTimeoutMs);

  return {
    logger,
    topic,
    /** The consumer and the publisher app of a new service, as our user, reconnecting quickly (200 ms to 1 s). */
    startPair: (publishTimeout: number) =>
      startRecordingPair(
        {
          transport: 'amqp',
          serviceName: uniqueName('svc'),
          amqp: { url: amqpUser.url, exchange, prefetch: 50, heartbeat: 5, publishTimeout, reconnectDelay: { initial: 200, max: 1000 } },
        },
        topic,
        logger,
        apps,
      ),
    /**
     * After the fault and once publishing settled: waits until both apps are connected again and (up to 60 s) every
     * confirmed number was handled, closes the consumer, takes the dead-lettered numbers out of the DLQ and writes the
     * accounting line, `note()` (read then) in it.
     */
    async settle(scenario: string, pair: RecordingPair, count: number, published: Published, note: () => string) {
      const { confirmed, rejected } = published;
      await Promise.all([connected(pair.server.status), connected(pair.client.status)]);
      await waitFor(
        () => {
          const h = new Set(pair.handled);
          return [...confirmed].every((n) => h.has(n));
        },
        { timeoutMs: 60_000, intervalMs: 200, what: 'every confirmed message handled' },
      ).catch(() => undefined);
      await pair.server.close();
      const dead = (await drainQueue(`${topic}-dlq`, rabbit.node.url)).map((m) => numberIn(m.content.toString())!);
      const rejectedHandled = [...rejected.keys()].filter((n) => pair.handled.includes(n)).length;
      return account(scenario, {
        published: count,
        confirmed,
        handled: pair.handled,
        deadLettered: dead,
        rejected: rejected.size,
        note: `${note()}; rejected handled anyway ${rejectedHandled}`,
      });
    },
  };
}
