import type { INestApplication } from '@nestjs/common';
import type { HarnessConfig } from './harness/config.js';
import { uniqueName } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { numberIn } from './support/apps.js';
import { shareBroker } from '../support/rabbitmq.js';
import { createRabbitMqUser } from '../support/rabbitmq-users.js';
import { deleteAmqpObjects, drainQueue } from './support/rabbit.js';
import { readNumbers, startConsumerChild, type ConsumerChild } from './support/child.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';
import { consumeUnderLoad, waitUntilHandled } from './support/interruption.js';
import { scratchFile } from './support/paths.js';

/**
 * Faults that kill the AMQP consumer process (SIGKILL; SIGTERM under load). The consumer runs as compiled JS in a
 * child process; the publisher is a Nest app in this process. Both connect as a RabbitMQ user of our own.
 */
const COUNT = 2000;

shareBroker();

describe('faults: AMQP consumer process', () => {
  let amqpUser: Awaited<ReturnType<typeof createRabbitMqUser>>;
  const logger = new CaptureLogger();
  const childOutput: string[] = [];
  const children: ConsumerChild[] = [];
  const apps: INestApplication[] = [];
  const exchange = uniqueName('f-ex');
  const queues: string[] = [];

  beforeAll(async () => { amqpUser = await createRabbitMqUser('faults'); }, 30_000);
  afterEach(async () => {
    for (const c of children.splice(0)) if (c.process.exitCode === null && c.process.signalCode === null) { c.process.kill('SIGKILL'); await c.exited; }
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await deleteAmqpObjects(queues.flatMap((q) => [q, `${q}-retry`, `${q}-dlq`]), exchange);
    await amqpUser?.remove();
    expect(linesWithSecrets([...logger.lines, ...childOutput], [amqpUser.password])).toEqual([]);
  }, 30_000);

  const amqpOptions = () => ({ url: amqpUser.url, exchange, prefetch: 20, reconnectDelay: { initial: 200, max: 1000 } });
  const spawn = (config: HarnessConfig) => {
    const child = startConsumerChild(config, childOutput);
    children.push(child);
    return child;
  };
  const deadNumbers = async (queue: string) => (await drainQueue(`${queue}-dlq`)).map((m) => numberIn(m.content.toString())!);

  it('1. consumer killed with SIGKILL mid-stream and restarted: unacked messages are redelivered', async () => {
    const topic = uniqueName('f-kill');
    queues.push(topic);
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const config: HarnessConfig = {
      module: { transport: 'amqp', serviceName, retryBackoff: 0.2, drainTimeout: 5000, amqp: amqpOptions() },
      topic, extras: { queueName: topic }, handledFile, delayMs: 5,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn, config, publisherOptions: { transport: 'amqp', serviceName, amqp: amqpOptions() }, logger, apps, count: COUNT, handledBefore: 500,
    });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const atKill = new Set(readNumbers(handledFile)).size;
    const restartedAt = Date.now();
    const second = spawn(config);
    await second.ready;
    const { confirmed, rejected } = await publishing;
    await waitUntilHandled(handledFile, confirmed, 60_000, 'every confirmed message handled');
    const afterRestartMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = await deadNumbers(topic);
    const result = account('amqp 1 SIGKILL + restart', {
      published: COUNT, confirmed, handled: readNumbers(handledFile), deadLettered: dead, rejected: rejected.size,
      note: `killed after ${atKill} handled; rest handled ${(afterRestartMs / 1000).toFixed(1)} s after restart`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
  }, 150_000);

  it('2. SIGTERM under load: in-flight handlers finish within the drain timeout, unfinished messages return to the queue', async () => {
    const topic = uniqueName('f-term');
    queues.push(topic);
    const serviceName = uniqueName('svc');
    const handledFile = scratchFile(`${topic}.handled`);
    const startedFile = scratchFile(`${topic}.started`);
    const drainTimeout = 2000;
    const config: HarnessConfig = {
      module: { transport: 'amqp', serviceName, retryBackoff: 0.2, drainTimeout, amqp: amqpOptions() },
      topic, extras: { queueName: topic }, handledFile, startedFile, delayMs: 150, slowEvery: 40, slowMs: 10_000,
    };
    const { first, publishing } = await consumeUnderLoad({
      spawn, config, publisherOptions: { transport: 'amqp', serviceName, amqp: amqpOptions() }, logger, apps, count: COUNT, handledBefore: 300,
    });
    const termAt = Date.now();
    first.process.kill('SIGTERM');
    const exit = await first.exited;
    const stopMs = Date.now() - termAt;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    const handledFirst = new Set(readNumbers(handledFile));
    const unfinished = readNumbers(startedFile).filter((n) => !handledFirst.has(n));
    expect(unfinished.filter((n) => n % 40 !== 0)).toEqual([]);
    expect(unfinished.length).toBeGreaterThan(0);
    expect(stopMs).toBeLessThan(drainTimeout + 5000);

    const restartedAt = Date.now();
    const second = spawn({ ...config, slowEvery: undefined, startedFile: undefined, delayMs: 5 });
    await second.ready;
    const { confirmed, rejected } = await publishing;
    await waitUntilHandled(handledFile, confirmed, 60_000, 'every confirmed message handled');
    const allMs = Date.now() - restartedAt;
    second.process.kill('SIGTERM');
    await second.exited;
    const dead = await deadNumbers(topic);
    const result = account('amqp 2 SIGTERM under load', {
      published: COUNT, confirmed, handled: readNumbers(handledFile), deadLettered: dead, rejected: rejected.size,
      note: `stopped in ${stopMs} ms (drain ${drainTimeout} ms), ${unfinished.length} unfinished returned to the queue, all done ${(allMs / 1000).toFixed(1)} s after restart`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
  }, 150_000);
});
