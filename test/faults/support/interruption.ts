import type { INestApplication, LoggerService } from '@nestjs/common';
import { MessagingClient, MessagingServer, type MessagingModuleOptions } from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { numbers, publishNumbered, sleep } from './apps.js';
import { startTestApp } from '../../support/apps.js';
import type { HarnessConfig } from '../harness/config.js';
import { waitFor } from '../../support/wait-for.js';
import { readNumbers, type ConsumerChild } from './child.js';

export interface ConsumerUnderLoad {
  first: ConsumerChild;
  /** Settles when every numbered emit was confirmed or rejected. */
  publishing: ReturnType<typeof publishNumbered>;
}

/**
 * Starts the consumer child, then a publisher app in this process emitting `count` numbered messages, and returns
 * once the child has handled `handledBefore` of them: the moment to inject the fault.
 */
export async function consumeUnderLoad(p: {
  spawn: (config: HarnessConfig) => ConsumerChild;
  config: HarnessConfig;
  publisherOptions: MessagingModuleOptions;
  logger: LoggerService;
  apps: INestApplication[];
  count: number;
  handledBefore: number;
}): Promise<ConsumerUnderLoad> {
  const first = p.spawn(p.config);
  await first.ready;
  const publisher = await startTestApp(p.publisherOptions, [], { logger: p.logger, listen: false });
  p.apps.push(publisher);
  const publishing = publishNumbered(publisher, p.config.topic, numbers(p.count), { concurrency: 20 });
  await waitFor(() => readNumbers(p.config.handledFile).length >= p.handledBefore, {
    timeoutMs: 60_000,
    what: `${p.handledBefore} handled before the fault`,
  });
  return { first, publishing };
}

/**
 * Waits until every number in `expected` appears in the handled file, or the deadline passes. A timeout is not
 * thrown: the accounting line that follows names what is missing and the test fails on it.
 */
export async function waitUntilHandled(handledFile: string, expected: Iterable<number>, timeoutMs: number, what: string): Promise<void> {
  const wanted = [...expected];
  await waitFor(
    () => {
      const handled = new Set(readNumbers(handledFile));
      return wanted.every((n) => handled.has(n));
    },
    { timeoutMs, intervalMs: 200, what },
  ).catch(() => undefined);
}

/**
 * An AMQP consumer app (recording each handled number, a 2 ms handler) and a publisher app in this process, both
 * with the same module options, for the scenarios that cut the broker connection under them.
 */
export async function startRecordingPair(options: MessagingModuleOptions, topic: string, logger: LoggerService, apps: INestApplication[]) {
  const handled: number[] = [];
  const consumer = await startTestApp(
    { retryBackoff: 0.2, ...options },
    [
      controllerFor([
        {
          pattern: topic,
          extras: { queueName: topic },
          handle: async (d: { n: number }) => {
            await sleep(2);
            handled.push(d.n);
          },
        },
      ]),
    ],
    { logger },
  );
  apps.push(consumer);
  const publisher = await startTestApp(options, [], { logger, listen: false });
  apps.push(publisher);
  return { handled, publisher, server: consumer.get(MessagingServer), client: publisher.get(MessagingClient) };
}
