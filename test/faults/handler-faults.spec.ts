import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { MessagingServer } from '../../lib/index.js';
import { startTestApp } from '../support/apps.js';
import { shareBroker } from '../support/rabbitmq.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { numbers, publishNumbered } from './support/apps.js';
import { poisonController, transientController } from './support/controllers.js';
import { amqpFaultTarget, snsSqsFaultTarget, type FaultTarget } from './support/fault-targets.js';
import { CaptureLogger, linesWithSecrets } from './support/logs.js';

/** Handler-side faults on both transports (in-process): transient failures and poison messages in a good stream. */
const COUNT = 2000;

shareBroker();

describe.each([snsSqsFaultTarget(), amqpFaultTarget()])('faults: $label handlers', (target: FaultTarget) => {
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];

  beforeAll(() => target.setUp(), 30_000);
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    const secrets = target.secrets();
    await target.tearDown();
    expect(linesWithSecrets(logger.lines, secrets)).toEqual([]);
  }, 30_000);

  it('3. transient handler failures: all handled after backoff-spaced retries, none dead-lettered', async () => {
    const topic = uniqueName('f-transient');
    const retryBackoff = 0.2;
    const state = { attempts: new Map<number, number[]>(), handled: [] as number[] };
    const app = await startTestApp(
      target.module('transient', { serviceName: uniqueName('svc'), retryBackoff, maxReceiveCount: 5 }),
      [transientController(topic, target.extras('transient', topic), state)],
      { logger },
    );
    apps.push(app);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(COUNT), { concurrency: 20 });
    await waitFor(() => [...confirmed].every((n) => state.handled.includes(n)) || undefined, {
      timeoutMs: target.waitMs('transient'),
      intervalMs: 250,
      what: 'every message handled',
    }).catch(() => undefined);
    await app.get(MessagingServer).close();
    const dead = (await target.deadLettered(`${topic}-dlq`)).map((d) => d.n);
    // the gap before retry k is at least retryBackoff·2^(k-1) seconds
    const gaps = [...state.attempts.values()].flatMap((t) =>
      t.slice(1).map((at, i) => ({ gap: at - t[i], min: retryBackoff * 1000 * 2 ** i })),
    );
    const short = gaps.filter((g) => g.gap < g.min);
    const minGap = Math.min(...gaps.map((g) => g.gap));
    const result = account(`${target.label} 3 transient failures`, {
      published: COUNT,
      confirmed,
      handled: state.handled,
      deadLettered: dead,
      rejected: rejected.size,
      note: `${gaps.length} retries, shortest gap ${minGap} ms for retryBackoff ${retryBackoff} s`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
    expect(gaps.length).toBe(COUNT + COUNT / 10);
    expect(short).toEqual([]);
  }, 180_000);

  it('4. poison messages in a good stream: every poison message dead-lettered with its reason, every good one handled', async () => {
    const strict = uniqueName('f-poison-strict');
    const plain = uniqueName('f-poison-plain');
    const queueName = uniqueName('f-poison');
    const handled: number[] = [];
    const app = await startTestApp(
      target.module('poison', { serviceName: uniqueName('svc'), retryBackoff: 0.2 }),
      [poisonController(strict, plain, target.extras('poison', queueName, { maxReceiveCount: 3 }), handled)],
      { logger },
    );
    apps.push(app);
    const pipes = { strictPipe: numbers(20, 100_000), plainPipe: numbers(20, 200_000) };
    const raw = target.rawPoison({ queueName, strictTopic: strict, plainTopic: plain });
    const good = publishNumbered(app, strict, numbers(COUNT / 2), { concurrency: 10 });
    const goodPlain = publishNumbered(app, plain, numbers(COUNT / 2, COUNT / 2), { concurrency: 10 });
    const badStrict = publishNumbered(app, strict, pipes.strictPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    const badPlain = publishNumbered(app, plain, pipes.plainPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    await Promise.all(raw.map((p) => p.send()));
    const results = await Promise.all([good, goodPlain, badStrict, badPlain]);
    const confirmed = results.flatMap((r) => [...r.confirmed]);
    const rejected = results.reduce((sum, r) => sum + r.rejected.size, 0);
    const allPoison = [...pipes.strictPipe, ...pipes.plainPipe, ...raw.flatMap((p) => p.numbers)];
    const dlq: Array<{ n: number; reason: string }> = [];
    await waitFor(
      async () => {
        dlq.push(...(await target.deadLettered(`${queueName}-dlq`)));
        return dlq.length >= allPoison.length && numbers(COUNT).every((n) => handled.includes(n));
      },
      { timeoutMs: target.waitMs('poison'), intervalMs: 500, what: 'poison in the DLQ and good messages handled' },
    ).catch(() => undefined);
    // the consumer still runs: a message published after all the poison is handled
    const after = await publishNumbered(app, strict, [COUNT], {});
    await waitFor(() => handled.includes(COUNT), { timeoutMs: 20_000, what: 'a good message after the poison' });
    await app.get(MessagingServer).close();
    const reasonOf = new Map(dlq.map((d) => [d.n, d.reason]));
    const result = account(`${target.label} 4 poison messages`, {
      published: COUNT + 1 + pipes.strictPipe.length + pipes.plainPipe.length,
      confirmed: [...confirmed, ...after.confirmed],
      handled,
      deadLettered: dlq.map((d) => d.n),
      rejected,
      note: `poison: ${pipes.strictPipe.length} MessagingValidationPipe, ${pipes.plainPipe.length} ValidationPipe, raw ${raw.map((p) => `${p.numbers.length} ${p.what}`).join(', ')}`,
    });
    expect(result.lost).toEqual([]);
    expect(new Set(dlq.map((d) => d.n))).toEqual(new Set(allPoison));
    expect(result.duplicates).toBe(0);
    for (const n of pipes.strictPipe) expect(reasonOf.get(n)).toMatch(/payload failed validation/);
    for (const n of pipes.plainPipe) expect(reasonOf.get(n)).toMatch(/^failed 3 time\(s\), last: /);
    for (const p of raw) for (const n of p.numbers) expect(reasonOf.get(n)).toMatch(p.reason);
  }, 180_000);
});
