import type { INestApplication } from '@nestjs/common';
import type { HarnessConfig } from './harness/config.js';
import { uniqueName } from '../support/wait-for.js';
import { shareBroker } from '../support/rabbitmq.js';
import { account } from './support/accounting.js';
import { readNumbers, startConsumerChild, type ConsumerChild } from './support/child.js';
import { amqpFaultTarget, snsSqsFaultTarget, type FaultTarget } from './support/fault-targets.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';
import { consumeUnderLoad, waitUntilHandled } from './support/interruption.js';
import { scratchFile } from './support/paths.js';
import { stopChildrenAndApps } from './support/fauxqs-children.js';

/**
 * Faults that kill the consumer process (SIGKILL; SIGTERM under load), on both transports. The consumer runs as
 * compiled JS in a child process; the publisher is a Nest app in this process. SNS+SQS runs on fauxqs started here,
 * AMQP on the shared RabbitMQ as a user of our own.
 */
const COUNT = 2000;

shareBroker();

describe.each([snsSqsFaultTarget(), amqpFaultTarget()])('faults: $label consumer process', (target: FaultTarget) => {
  const logger = new CaptureLogger();
  const childOutput: string[] = [];
  const children: ConsumerChild[] = [];
  const apps: INestApplication[] = [];

  beforeAll(() => target.setUp(), 30_000);
  afterEach(() => stopChildrenAndApps(children, apps));
  afterAll(async () => {
    const secrets = target.secrets();
    await target.tearDown();
    // security check over everything this suite logged: no line at any level carries the secret
    expect(linesWithSecrets([...logger.lines, ...childOutput], secrets)).toEqual([]);
  }, 30_000);

  const spawn = (config: HarnessConfig) => {
    const child = startConsumerChild(config, childOutput);
    children.push(child);
    return child;
  };
  const withNote = (text: string, scenario: 'kill' | 'term') => [text, target.note(scenario)].filter(Boolean).join(', ');

  it('1. consumer killed with SIGKILL mid-stream and restarted: everything handled after redelivery', async () => {
    const topic = uniqueName('f-kill');
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const config: HarnessConfig = {
      module: target.module('kill', { serviceName, retryBackoff: 0.2, drainTimeout: 5000 }),
      topic,
      extras: target.extras('kill', topic),
      handledFile,
      delayMs: target.killDelayMs,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn,
      config,
      publisherOptions: target.module('kill', { serviceName }),
      logger,
      apps,
      count: COUNT,
      handledBefore: 500,
    });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const atKill = new Set(readNumbers(handledFile)).size;
    const restartedAt = Date.now();
    const second = spawn(config);
    await second.ready;
    const { confirmed, rejected } = await publishing;
    await waitUntilHandled(handledFile, confirmed, target.waitMs('kill'), 'every confirmed message handled');
    const afterRestartMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = (await target.deadLettered(`${topic}-dlq`)).map((d) => d.n);
    const result = account(`${target.label} 1 SIGKILL + restart`, {
      published: COUNT,
      confirmed,
      handled: readNumbers(handledFile),
      deadLettered: dead,
      rejected: rejected.size,
      note: withNote(`killed after ${atKill} handled; rest handled ${(afterRestartMs / 1000).toFixed(1)} s after restart`, 'kill'),
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
  }, 180_000);

  it('2. SIGTERM under load: in-flight handlers finish within the drain timeout, unfinished messages are delivered again at once', async () => {
    const topic = uniqueName('f-term');
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const startedFile = scratchFile(`${topic}.started`);
    const drainTimeout = 2000;
    const config: HarnessConfig = {
      module: target.module('term', { serviceName, retryBackoff: 0.2, drainTimeout }),
      topic,
      extras: target.extras('term', topic),
      handledFile,
      startedFile,
      delayMs: 150,
      slowEvery: 40,
      slowMs: 10_000,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn,
      config,
      publisherOptions: target.module('term', { serviceName }),
      logger,
      apps,
      count: COUNT,
      handledBefore: 300,
    });
    const termAt = Date.now();
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    const stopMs = Date.now() - termAt;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    const handledFirst = new Set(readNumbers(handledFile));
    const unfinished = readNumbers(startedFile).filter((n) => !handledFirst.has(n));
    // every handler that could finish within the drain timeout did; only the 10 s ones were cut off
    expect(unfinished.filter((n) => n % 40 !== 0)).toEqual([]);
    expect(unfinished.length).toBeGreaterThan(0);
    expect(stopMs).toBeLessThan(drainTimeout + 5000);

    const restartedAt = Date.now();
    const second = spawn({ ...config, slowEvery: undefined, startedFile: undefined, delayMs: 5 });
    await second.ready;
    const { confirmed, rejected } = await publishing;
    // the cut-off messages were released (SQS: visibility 0; AMQP: unacked, back in the queue), redelivered at once
    await waitUntilHandled(handledFile, unfinished, 45_000, 'released messages redelivered');
    const releasedMs = Date.now() - restartedAt;
    await waitUntilHandled(handledFile, confirmed, target.waitMs('term'), 'every confirmed message handled');
    const allMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = (await target.deadLettered(`${topic}-dlq`)).map((d) => d.n);
    const result = account(`${target.label} 2 SIGTERM under load`, {
      published: COUNT,
      confirmed,
      handled: readNumbers(handledFile),
      deadLettered: dead,
      rejected: rejected.size,
      note: withNote(
        `stopped in ${stopMs} ms (drain ${drainTimeout} ms), ${unfinished.length} released unfinished, redelivered ${(releasedMs / 1000).toFixed(1)} s and all done ${(allMs / 1000).toFixed(1)} s after restart`,
        'term',
      ),
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
    // a message left invisible (SQS, not released) would only come back after the 120 s visibility timeout
    expect(releasedMs).toBeLessThan(45_000);
    expect(allMs).toBeLessThan(60_000);
  }, 180_000);
});
