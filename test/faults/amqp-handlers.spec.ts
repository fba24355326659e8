import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { MessagingServer } from '../../lib/index.js';
import { rawConnection, shareBroker } from '../support/rabbitmq.js';
import { numberIn, numbers, publishNumbered } from './support/apps.js';
import { createRabbitMqUser } from '../support/rabbitmq-users.js';
import { deleteAmqpObjects, drainQueue } from './support/rabbit.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { poisonController, transientController } from './support/controllers.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';

/** Handler-side faults on AMQP (RabbitMQ, in-process): transient failures and poison messages. */
const COUNT = 2000;

shareBroker();

describe('faults: AMQP handlers', () => {
  let amqpUser: Awaited<ReturnType<typeof createRabbitMqUser>>;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];
  const exchange = uniqueName('f-ex');
  const queues: string[] = [];

  beforeAll(async () => { amqpUser = await createRabbitMqUser('faults'); }, 30_000);
  afterEach(async () => { await Promise.all(apps.splice(0).map((a) => a.close())); });
  afterAll(async () => {
    await deleteAmqpObjects(queues.flatMap((q) => [q, `${q}-retry`, `${q}-dlq`]), exchange);
    await amqpUser?.remove();
    expect(linesWithSecrets(logger.lines, [amqpUser.password])).toEqual([]);
  }, 30_000);

  const amqp = () => ({ url: amqpUser.url, exchange, prefetch: 50 });

  it('3. transient handler failures: all handled after backoff-spaced retries, none dead-lettered', async () => {
    const topic = uniqueName('f-transient');
    queues.push(topic);
    const retryBackoff = 0.2;
    const state = { attempts: new Map<number, number[]>(), handled: [] as number[] };
    const app = await startTestApp({ transport: 'amqp', serviceName: uniqueName('svc'), retryBackoff, maxReceiveCount: 5, amqp: amqp() }, [transientController(topic, { queueName: topic }, state)], { logger });
    apps.push(app);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(COUNT), { concurrency: 20 });
    await waitFor(() => [...confirmed].every((n) => state.handled.includes(n)) || undefined, { timeoutMs: 90_000, intervalMs: 250, what: 'every message handled' }).catch(() => undefined);
    await app.get(MessagingServer).close();
    const dead = (await drainQueue(`${topic}-dlq`)).map((m) => numberIn(m.content.toString())!);
    const gaps = [...state.attempts.values()].flatMap((t) => t.slice(1).map((at, i) => ({ gap: at - t[i], min: retryBackoff * 1000 * 2 ** i })));
    const short = gaps.filter((g) => g.gap < g.min);
    const minGap = Math.min(...gaps.map((g) => g.gap));
    const result = account('amqp 3 transient failures', {
      published: COUNT, confirmed, handled: state.handled, deadLettered: dead, rejected: rejected.size,
      note: `${gaps.length} retries, shortest gap ${minGap} ms for retryBackoff ${retryBackoff} s`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
    expect(gaps.length).toBe(COUNT + COUNT / 10);
    expect(short).toEqual([]);
  }, 150_000);

  it('4. poison messages in a good stream: every poison message dead-lettered with its reason, every good one handled', async () => {
    const strict = uniqueName('f-poison-strict');
    const plain = uniqueName('f-poison-plain');
    const queueName = uniqueName('f-poison');
    queues.push(queueName);
    const handled: number[] = [];
    const app = await startTestApp({ transport: 'amqp', serviceName: uniqueName('svc'), retryBackoff: 0.2, amqp: amqp() }, [poisonController(strict, plain, { queueName, maxReceiveCount: 3 }, handled)], { logger });
    apps.push(app);
    const poison = { strictPipe: numbers(20, 100_000), plainPipe: numbers(20, 200_000), notJson: numbers(10, 300_000), wrongEnvelope: numbers(10, 500_000), binary: numbers(10, 600_000) };
    const good = publishNumbered(app, strict, numbers(COUNT / 2), { concurrency: 10 });
    const goodPlain = publishNumbered(app, plain, numbers(COUNT / 2, COUNT / 2), { concurrency: 10 });
    const badStrict = publishNumbered(app, strict, poison.strictPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    const badPlain = publishNumbered(app, plain, poison.plainPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    const raw = await rawConnection();
    const channel = await raw.createConfirmChannel();
    for (const n of poison.notJson) channel.publish(exchange, strict, Buffer.from(`not json {poison-${n}`), { persistent: true });
    for (const n of poison.wrongEnvelope) channel.publish(exchange, strict, Buffer.from(JSON.stringify({ service: { name: 'x' }, metadata: { protocol_version: 'nope' }, data: `poison-${n}` })), { persistent: true });
    for (const n of poison.binary) channel.publish(exchange, plain, Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(`poison-${n}`)]), { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
    await raw.close();
    const results = await Promise.all([good, goodPlain, badStrict, badPlain]);
    const confirmed = results.flatMap((r) => [...r.confirmed]);
    const rejected = results.reduce((sum, r) => sum + r.rejected.size, 0);
    const allPoison = Object.values(poison).flat();
    const dlq: Array<{ n: number; reason: string }> = [];
    await waitFor(async () => {
      dlq.push(...(await drainQueue(`${queueName}-dlq`)).map((m) => ({ n: numberIn(m.content.toString('latin1'))!, reason: String(m.headers['x-dead-letter-reason'] ?? '') })));
      return dlq.length >= allPoison.length && numbers(COUNT).every((n) => handled.includes(n));
    }, { timeoutMs: 90_000, intervalMs: 500, what: 'poison in the DLQ and good messages handled' }).catch(() => undefined);
    const after = await publishNumbered(app, strict, [COUNT], {});
    await waitFor(() => handled.includes(COUNT), { timeoutMs: 20_000, what: 'a good message after the poison' });
    await app.get(MessagingServer).close();
    const reasonOf = new Map(dlq.map((d) => [d.n, d.reason]));
    const result = account('amqp 4 poison messages', {
      published: COUNT + 1 + poison.strictPipe.length + poison.plainPipe.length, confirmed: [...confirmed, ...after.confirmed], handled, deadLettered: dlq.map((d) => d.n), rejected,
      note: `poison: ${poison.strictPipe.length} MessagingValidationPipe, ${poison.plainPipe.length} ValidationPipe, raw ${poison.notJson.length} non-JSON, ${poison.wrongEnvelope.length} wrong envelope, ${poison.binary.length} binary bodies`,
    });
    expect(result.lost).toEqual([]);
    expect(new Set(dlq.map((d) => d.n))).toEqual(new Set(allPoison));
    expect(result.duplicates).toBe(0);
    for (const n of poison.strictPipe) expect(reasonOf.get(n)).toMatch(/payload failed validation/);
    for (const n of poison.plainPipe) expect(reasonOf.get(n)).toMatch(/failed 3 time\(s\), last: /);
    for (const n of [...poison.notJson, ...poison.wrongEnvelope, ...poison.binary]) expect(reasonOf.get(n)).toMatch(/cannot decode/);
  }, 150_000);
});
