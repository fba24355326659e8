import type { INestApplication } from '@nestjs/common';
import type { HarnessConfig } from './harness/config.js';
import { startFauxqs, type Fauxqs } from '../support/fauxqs.js';
import { uniqueName } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { drainSqsQueue, numberIn } from './support/apps.js';
import { readNumbers, startConsumerChild, type ConsumerChild } from './support/child.js';
import { AWS_CREDENTIALS, CaptureLogger, linesWithSecrets } from './support/logs.js';
import { consumeUnderLoad, waitUntilHandled } from './support/interruption.js';
import { scratchFile } from './support/paths.js';

/**
 * Faults that kill the SNS+SQS consumer process (SIGKILL; SIGTERM under load). The consumer runs as compiled JS in a
 * child process against fauxqs started here; the publisher is a Nest app in this process.
 */
const COUNT = 2000;

describe('faults: SNS+SQS consumer process', () => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const childOutput: string[] = [];
  const children: ConsumerChild[] = [];
  const apps: INestApplication[] = [];

  beforeAll(async () => { fauxqs = await startFauxqs(); });
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.process.exitCode === null && c.process.signalCode === null) { c.process.kill('SIGKILL'); await c.exited; }
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await fauxqs?.stop();
    // security check over everything this file logged: no line at any level carries the AWS secret key
    expect(linesWithSecrets([...logger.lines, ...childOutput], [AWS_CREDENTIALS.secretAccessKey])).toEqual([]);
  });

  const snsSqs = () => ({ region: 'us-east-1', endpoint: fauxqs.endpoint, credentials: AWS_CREDENTIALS, waitTimeSeconds: 1 });
  const spawn = (config: HarnessConfig) => {
    const child = startConsumerChild(config, childOutput);
    children.push(child);
    return child;
  };

  it('1. consumer killed with SIGKILL mid-stream and restarted: everything handled after the visibility timeout', async () => {
    const topic = uniqueName('f-kill');
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const config: HarnessConfig = {
      module: { transport: 'sns-sqs', serviceName, retryBackoff: 0.2, drainTimeout: 5000, concurrency: 10, snsSqs: snsSqs() },
      topic, extras: { queueName: topic, visibilityTimeout: 3 }, handledFile, delayMs: 15,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn, config, publisherOptions: { transport: 'sns-sqs', serviceName, snsSqs: snsSqs() }, logger, apps, count: COUNT, handledBefore: 500,
    });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const atKill = new Set(readNumbers(handledFile)).size;
    const restartedAt = Date.now();
    const second = spawn(config);
    await second.ready;
    const { confirmed, rejected } = await publishing;
    await waitUntilHandled(handledFile, confirmed, 90_000, 'every confirmed message handled');
    const afterRestartMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    const result = account('sns-sqs 1 SIGKILL + restart', {
      published: COUNT, confirmed, handled: readNumbers(handledFile), deadLettered: dead, rejected: rejected.size,
      note: `killed after ${atKill} handled; rest handled ${(afterRestartMs / 1000).toFixed(1)} s after restart, visibilityTimeout 3 s`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
  }, 180_000);

  it('2. SIGTERM under load: in-flight handlers finish within the drain timeout, unfinished messages are visible again at once', async () => {
    const topic = uniqueName('f-term');
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const startedFile = scratchFile(`${topic}.started`);
    const visibilityTimeout = 120;
    const drainTimeout = 2000;
    const config: HarnessConfig = {
      module: { transport: 'sns-sqs', serviceName, retryBackoff: 0.2, drainTimeout, concurrency: 20, snsSqs: snsSqs() },
      topic, extras: { queueName: topic, visibilityTimeout }, handledFile, startedFile, delayMs: 150, slowEvery: 40, slowMs: 10_000,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn, config, publisherOptions: { transport: 'sns-sqs', serviceName, snsSqs: snsSqs() }, logger, apps, count: COUNT, handledBefore: 300,
    });
    const termAt = Date.now();
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    const stopMs = Date.now() - termAt;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    const startedFirst = readNumbers(startedFile);
    const handledFirst = new Set(readNumbers(handledFile));
    const unfinished = startedFirst.filter((n) => !handledFirst.has(n));
    // every handler that could finish within the drain timeout did; only the 10 s ones were cut off
    expect(unfinished.filter((n) => n % 40 !== 0)).toEqual([]);
    expect(unfinished.length).toBeGreaterThan(0);
    expect(stopMs).toBeLessThan(drainTimeout + 5000);

    const restartedAt = Date.now();
    const second = spawn({ ...config, slowEvery: undefined, startedFile: undefined, delayMs: 5 });
    await second.ready;
    const { confirmed, rejected } = await publishing;
    // the cut-off messages were released with visibility 0: redelivered at once, not after the 60 s timeout
    await waitUntilHandled(handledFile, unfinished, 45_000, 'released messages redelivered');
    const releasedMs = Date.now() - restartedAt;
    await waitUntilHandled(handledFile, confirmed, 90_000, 'every confirmed message handled');
    const allMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    const result = account('sns-sqs 2 SIGTERM under load', {
      published: COUNT, confirmed, handled: readNumbers(handledFile), deadLettered: dead, rejected: rejected.size,
      note: `stopped in ${stopMs} ms (drain ${drainTimeout} ms), ${unfinished.length} released unfinished, redelivered ${(releasedMs / 1000).toFixed(1)} s and all done ${(allMs / 1000).toFixed(1)} s after restart, visibilityTimeout ${visibilityTimeout} s`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    // a message left invisible (not released) would only come back after 120 s
    expect(releasedMs).toBeLessThan(45_000);
    expect(allMs).toBeLessThan(60_000);
  }, 180_000);
});
