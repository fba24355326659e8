import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IsString } from 'class-validator';
import {
  BatchFailure,
  DeadLetterError,
  MessagingValidationPipe,
  type MessagingBatchContext,
  type MessagingModuleOptions,
} from '../../lib/index.js';
import { emit, startTestApp } from '../support/apps.js';
import { controllerFor, type Handler } from '../support/controllers.js';
import { deferred } from '../support/deferred.js';
import { startFauxqs } from '../support/fauxqs.js';
import { startMoto } from '../support/moto.js';
import { shareBroker } from '../support/rabbitmq.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import type { ContractTarget, DeadLetter } from './targets/contract-target.js';
import { rabbitMqTarget } from './targets/rabbitmq-target.js';
import { snsSqsTarget } from './targets/sns-sqs-target.js';

/**
 * What the broker port promises, run over both transports (SNS+SQS on fauxqs and on moto, AMQP on RabbitMQ): ack only after the handler resolved, retry on the
 * doubling backoff of lib/transport/settlement.ts, dead-letter after maxReceiveCount or at once for DeadLetterError
 * and undecodable bodies, drain on shutdown, per-process queue cleanup, and no message dropped without a DLQ.
 */
shareBroker();

type Options = Omit<MessagingModuleOptions, 'transport' | 'queueNamePrefix'>;

type Item = { id: string };
/** A batch handler for controllerFor: its payload is the array, its context a MessagingBatchContext. */
const batchHandler =
  (handle: (items: Item[], ctx: MessagingBatchContext) => unknown): Handler =>
  (items, ctx) =>
    handle(items as Item[], ctx as unknown as MessagingBatchContext);
/** One handler call: the payload ids and each message's receive count, in the batch's order. */
type BatchCall = Array<{ id: string; count: number }>;
const callOf = (items: Item[], ctx: MessagingBatchContext): BatchCall =>
  items.map((item, index) => ({ id: item.id, count: ctx.getMessages()[index].getReceiveCount() }));
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);

class Row {
  @IsString() id!: string;
}

const targets = [snsSqsTarget('sns-sqs (fauxqs)', startFauxqs), snsSqsTarget('sns-sqs (moto)', startMoto), rabbitMqTarget()];

describe.each(targets)('broker port contract: $name', (target: ContractTarget) => {
  const apps: INestApplication[] = [];
  const releases: Array<() => void> = [];

  beforeAll(() => target.setUp(), 30_000);
  afterEach(async () => {
    for (const release of releases.splice(0)) release();
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });
  afterAll(() => target.tearDown(), 30_000);

  const start = async (options: Options, handlers: Array<{ pattern: string; extras?: object; handle: Handler }>) => {
    const app = await startTestApp(target.moduleOptions({ drainTimeout: 5000, ...options }), [controllerFor(handlers)]);
    apps.push(app);
    return app;
  };
  const names = (base: string) => {
    const topic = uniqueName(base);
    return { topic, queueName: topic, queue: target.queue(topic), dlq: target.queue(`${topic}-dlq`) };
  };
  const deadLetters = (dlq: string, count: number) => {
    const seen: DeadLetter[] = [];
    return waitFor(
      async () => {
        seen.push(...(await target.takeDeadLetters(dlq)));
        return seen.length >= count ? seen : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, what: `${count} message(s) in ${dlq}` },
    );
  };
  const drained = (queue: string) =>
    waitFor(async () => (await target.pendingMessages(queue)) === 0, {
      timeoutMs: 20_000,
      intervalMs: 200,
      what: `${queue} to hold no message`,
    });

  it('acks a message only once its handler resolved: held by the broker while the handler runs, gone after', async () => {
    const { topic, queueName, queue } = names('ack');
    const started = deferred();
    const gate = deferred();
    releases.push(gate.resolve);
    const handled: unknown[] = [];
    const app = await start({ serviceName: uniqueName('svc') }, [
      {
        pattern: topic,
        extras: { queueName },
        handle: async (data) => {
          started.resolve();
          await gate.promise;
          handled.push(data);
        },
      },
    ]);
    await emit(app, topic, { id: 'ack-1' });
    await started.promise;
    expect(await target.pendingMessages(queue)).toBe(1);
    gate.resolve();
    await drained(queue);
    expect(handled).toEqual([{ id: 'ack-1' }]);
  });

  it('retries a throwing handler after the doubling backoff, then dead-letters it with "failed N time(s), last: <reason>"', async () => {
    const { topic, queueName, queue, dlq } = names('flaky');
    const attempts: Array<{ count: number; at: number }> = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 3 },
        handle: (_data, ctx) => {
          attempts.push({ count: ctx.getReceiveCount(), at: Date.now() });
          throw new Error('database unavailable');
        },
      },
    ]);
    await emit(app, topic, { id: 'flaky-1' });
    const [dead] = await deadLetters(dlq, 1);
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
    console.log(`${target.name}: retry gaps ${gaps.join(', ')} ms for retryBackoff 1 s; reason: ${dead.reason}`);
    expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
    // retryBackoff · 2^(attempt-1): 1 s, then 2 s (late by at most a poll or a broker TTL sweep)
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[0]).toBeLessThan(6000);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);
    expect(gaps[1]).toBeLessThan(8000);
    expect(dead.reason).toMatch(/^failed 3 time\(s\), last: .*database unavailable/);
    expect(dead.data).toEqual({ id: 'flaky-1' });
    expect(dead.topic).toBe(topic);
    await drained(queue);
  });

  it('acks a retried message once the handler succeeds, with the attempt number, and dead-letters nothing', async () => {
    const { topic, queueName, queue, dlq } = names('once');
    const attempts: number[] = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 3 },
        handle: (_data, ctx) => {
          attempts.push(ctx.getReceiveCount());
          if (ctx.getReceiveCount() === 1) throw new Error('transient');
        },
      },
    ]);
    await emit(app, topic, { id: 'once-1' });
    await waitFor(() => attempts.length >= 2, { what: 'the second attempt' });
    await drained(queue);
    expect(attempts).toEqual([1, 2]);
    expect(await target.takeDeadLetters(dlq)).toEqual([]);
  });

  it('sends a message whose handler threw DeadLetterError to the DLQ at once, without retries', async () => {
    const { topic, queueName, queue, dlq } = names('poison');
    const attempts: number[] = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 5 },
        handle: (_data, ctx) => {
          attempts.push(ctx.getReceiveCount());
          throw new DeadLetterError('refund for unknown order');
        },
      },
    ]);
    await emit(app, topic, { id: 'poison-1' });
    const [dead] = await deadLetters(dlq, 1);
    expect(dead.reason).toContain('refund for unknown order');
    expect(dead.data).toEqual({ id: 'poison-1' });
    expect(attempts).toEqual([1]);
    await drained(queue);
  });

  for (const undecodable of target.undecodableBodies) {
    it(`sends an undecodable body (${undecodable.what}) to the DLQ at once, with its reason, never to the handler`, async () => {
      const { topic, queueName, queue, dlq } = names('garbage');
      const handled: unknown[] = [];
      await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
        {
          pattern: topic,
          extras: { queueName },
          handle: (data) => {
            handled.push(data);
          },
        },
      ]);
      const marker = await undecodable.send({ queue, topic });
      const [dead] = await deadLetters(dlq, 1);
      expect(dead.reason).toMatch(undecodable.reason);
      expect(dead.body).toContain(marker);
      expect(handled).toEqual([]);
      await drained(queue);
    });
  }

  it('runs at most `concurrency` handlers of a queue at once (AMQP: its channel prefetch), and that many while more wait', async () => {
    const { topic, queueName, queue } = names('concurrency');
    const waiting: Array<() => void> = [];
    releases.push(() => waiting.splice(0).forEach((release) => release()));
    let running = 0;
    let most = 0;
    const handled: number[] = [];
    const app = await start({ serviceName: uniqueName('svc') }, [
      {
        pattern: topic,
        extras: { queueName, concurrency: 2 },
        handle: async (data) => {
          running += 1;
          most = Math.max(most, running);
          await new Promise<void>((resolve) => waiting.push(resolve));
          running -= 1;
          handled.push((data as { n: number }).n);
        },
      },
    ]);
    for (let n = 1; n <= 5; n++) await emit(app, topic, { n });
    // one handler finishes at a time: each time, the next waiting message takes its place, never a third
    while (handled.length < 5) {
      const done = handled.length;
      await waitFor(() => running === Math.min(2, 5 - done) && waiting.length === running, {
        timeoutMs: 15_000,
        what: `${Math.min(2, 5 - done)} handler(s) running after ${done} handled`,
      });
      waiting.shift()!();
      await waitFor(() => handled.length === done + 1, { timeoutMs: 15_000, what: `${done + 1} handled` });
    }
    expect(most).toBe(2);
    expect([...handled].sort()).toEqual([1, 2, 3, 4, 5]);
    await drained(queue);
  });

  it('drains on shutdown: close waits for an in-flight handler, acks it, and returns as soon as it finished', async () => {
    const { topic, queueName, queue } = names('drain');
    const started = deferred();
    let finishedAt = 0;
    const app = await start({ serviceName: uniqueName('svc'), drainTimeout: 15_000 }, [
      {
        pattern: topic,
        extras: { queueName },
        handle: async () => {
          started.resolve();
          await new Promise((r) => setTimeout(r, 750));
          finishedAt = Date.now();
        },
      },
    ]);
    await emit(app, topic, { id: 'drain-1' });
    await started.promise;
    const closingAt = Date.now();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    const closedAt = Date.now();
    expect(finishedAt).toBeGreaterThan(0);
    expect(finishedAt).toBeLessThanOrEqual(closedAt);
    // well before the 15 s drain timeout
    expect(closedAt - closingAt).toBeLessThan(6000);
    expect(await target.pendingMessages(queue)).toBe(0);
  });

  it('drains on shutdown: a handler that outlives drainTimeout is cut off and its message delivered again to the next app', async () => {
    const { topic, queueName, queue } = names('cutoff');
    const serviceName = uniqueName('svc');
    const started = deferred();
    const stuck = deferred();
    releases.push(stuck.resolve);
    // SQS only (AMQP has no visibility timeout): long enough that the stuck message is not received again before the cut-off
    const extras = { queueName, ...(target.moduleOptions({ serviceName }).transport === 'sns-sqs' ? { visibilityTimeout: 120 } : {}) };
    // Longer than the tests' 1 s long polls, as the README advises: the stop lets its open poll end within the drain.
    const drainTimeout = 2000;
    const first = await start({ serviceName, drainTimeout }, [
      {
        pattern: topic,
        extras,
        handle: async () => {
          started.resolve();
          await stuck.promise;
        },
      },
    ]);
    await emit(first, topic, { id: 'cutoff-1' });
    await started.promise;
    const closingAt = Date.now();
    await first.close();
    apps.splice(apps.indexOf(first), 1);
    const closeMs = Date.now() - closingAt;
    expect(closeMs).toBeGreaterThanOrEqual(drainTimeout - 100);
    expect(closeMs).toBeLessThan(drainTimeout + 5000);
    const second: unknown[] = [];
    await start({ serviceName }, [
      {
        pattern: topic,
        extras,
        handle: (data) => {
          second.push(data);
        },
      },
    ]);
    // released at once (not after the 120 s visibility timeout) and handled by the next app
    await waitFor(() => second.length === 1, { timeoutMs: 20_000, what: 'the cut-off message redelivered' });
    expect(second).toEqual([{ id: 'cutoff-1' }]);
    await drained(queue);
  });

  it('removes per-process (competing: false) queues on shutdown; each process gets every message meanwhile', async () => {
    const topic = uniqueName('bcast');
    const serviceName = uniqueName('s');
    const perProcess = `${target.queueNamePrefix}${serviceName}--`;
    const got: Array<[number, unknown]> = [];
    const handlers = (n: number) => [
      {
        pattern: topic,
        extras: { competing: false },
        handle: (data: unknown) => {
          got.push([n, data]);
        },
      },
    ];
    const one = await start({ serviceName }, handlers(1));
    const two = await start({ serviceName }, handlers(2));
    const queues = (await target.listQueues(perProcess)).filter((name) => !/-(dlq|retry)$/.test(name));
    expect(queues).toHaveLength(2);
    await emit(one, topic, { hello: 1 });
    await waitFor(() => got.length === 2, { what: 'the message in both processes' });
    expect(got.map(([n]) => n).sort()).toEqual([1, 2]);
    await one.close();
    await two.close();
    apps.splice(0);
    expect(await target.listQueues(perProcess)).toEqual([]);
  });

  it('without a DLQ (deadLetterQueueName: false) keeps retrying on the capped doubling backoff, never drops the message', async () => {
    const { topic, queueName, queue, dlq } = names('nodlq');
    const attempts: Array<{ count: number; at: number }> = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, deadLetterQueueName: false, maxReceiveCount: 1 },
        handle: (_data, ctx) => {
          attempts.push({ count: ctx.getReceiveCount(), at: Date.now() });
          // DeadLetterError and exhausted attempts would both dead-letter; with no DLQ the message is retried instead
          if (ctx.getReceiveCount() === 1) throw new DeadLetterError('cannot be handled yet');
          if (ctx.getReceiveCount() === 2) throw new Error('still failing');
        },
      },
    ]);
    await emit(app, topic, { id: 'nodlq-1' });
    await waitFor(() => attempts.length >= 3, { timeoutMs: 20_000, what: 'three attempts' });
    await drained(queue);
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
    expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1900);
    expect(gaps[1]).toBeLessThan(8000);
    expect(await target.queueExists(dlq)).toBe(false);
  });
  it('calls a batch handler once with N messages, each with its own context, and acks each', async () => {
    const { topic, queueName, queue } = names('batch');
    const calls: BatchCall[] = [];
    const contexts: Array<{ ids: string[]; topics: string[] }> = [];
    const app = await start({ serviceName: uniqueName('svc') }, [
      {
        pattern: topic,
        // maxWaitMs far above the time the five take to arrive: the batch is handed over because it is full
        extras: { queueName, batch: { maxSize: 5, maxWaitMs: 30_000 } },
        handle: batchHandler((items, ctx) => {
          calls.push(callOf(items, ctx));
          contexts.push({ ids: ctx.getMessageIds(), topics: ctx.getMessages().map((m) => m.getTopic()) });
        }),
      },
    ]);
    const ids = ['b1', 'b2', 'b3', 'b4', 'b5'];
    for (const id of ids) await emit(app, topic, { id });
    await waitFor(() => calls.length > 0, { what: 'the batch handler call' });
    await drained(queue);
    expect(calls).toHaveLength(1);
    expect([...calls[0]].sort(byId)).toEqual(ids.map((id) => ({ id, count: 1 })));
    expect(new Set(contexts[0].ids).size).toBe(5);
    expect(contexts[0].topics).toEqual(ids.map(() => topic));
  });

  it('retries every message of a batch whose handler threw, each as a new attempt in a batch of its own', async () => {
    const { topic, queueName, queue, dlq } = names('batchthrow');
    const calls: BatchCall[] = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 3, batch: { maxSize: 3, maxWaitMs: 5000 } },
        handle: batchHandler((items, ctx) => {
          calls.push(callOf(items, ctx));
          if (calls.length === 1) throw new Error('bulk insert failed');
        }),
      },
    ]);
    for (const id of ['t1', 't2', 't3']) await emit(app, topic, { id });
    await waitFor(() => calls.flat().filter((m) => m.count === 2).length === 3, { timeoutMs: 20_000, what: 'the three retries' });
    await drained(queue);
    expect([...calls[0]].sort(byId)).toEqual(['t1', 't2', 't3'].map((id) => ({ id, count: 1 })));
    expect(calls.slice(1).flat().sort(byId)).toEqual(['t1', 't2', 't3'].map((id) => ({ id, count: 2 })));
    expect(calls.slice(1).map((call) => call.length)).toEqual([1, 1, 1]);
    expect(await target.takeDeadLetters(dlq)).toEqual([]);
  });

  it('dead-letters a message that keeps failing after maxReceiveCount alone, though it came in one batch with the others', async () => {
    const { topic, queueName, queue, dlq } = names('batchpoison');
    const calls: BatchCall[] = [];
    const handled: string[] = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 2, batch: { maxSize: 3, maxWaitMs: 5000 } },
        handle: batchHandler((items, ctx) => {
          calls.push(callOf(items, ctx));
          if (items.some((item) => item.id === 'poison')) throw new Error('constraint violated');
          handled.push(...items.map((item) => item.id));
        }),
      },
    ]);
    for (const id of ['poison', 'p1', 'p2']) await emit(app, topic, { id });
    const [dead] = await deadLetters(dlq, 1);
    expect(dead.data).toEqual({ id: 'poison' });
    expect(dead.reason).toMatch(/^failed 2 time\(s\), last: .*constraint violated/);
    await waitFor(() => handled.length >= 2, { timeoutMs: 20_000, what: 'p1 and p2 handled' });
    await drained(queue);
    expect([...handled].sort()).toEqual(['p1', 'p2']);
    // one batch of three fails; on their second attempt each runs alone, so only the poison message fails again
    expect([...calls[0]].sort(byId)).toEqual(['p1', 'p2', 'poison'].map((id) => ({ id, count: 1 })));
    expect(calls.slice(1).map((call) => call.length)).toEqual([1, 1, 1]);
    expect(
      calls
        .flat()
        .filter((m) => m.id === 'poison')
        .map((m) => m.count),
    ).toEqual([1, 2]);
    expect(await target.takeDeadLetters(dlq)).toEqual([]);
  });

  it('retries only the messages a BatchFailure names, acks the rest, and dead-letters those after maxReceiveCount', async () => {
    const { topic, queueName, queue, dlq } = names('batchreport');
    const calls: BatchCall[] = [];
    const app = await start({ serviceName: uniqueName('svc'), retryBackoff: 1 }, [
      {
        pattern: topic,
        extras: { queueName, maxReceiveCount: 2, batch: { maxSize: 3, maxWaitMs: 5000 } },
        handle: batchHandler((items, ctx) => {
          calls.push(callOf(items, ctx));
          const failed = ctx.getMessageIds().filter((_, index) => items[index].id === 'r-bad');
          if (failed.length > 0) throw new BatchFailure(failed, 'row rejected');
        }),
      },
    ]);
    for (const id of ['r1', 'r-bad', 'r2']) await emit(app, topic, { id });
    const [dead] = await deadLetters(dlq, 1);
    await drained(queue);
    expect(dead.data).toEqual({ id: 'r-bad' });
    expect(dead.reason).toMatch(/^failed 2 time\(s\), last: batch handler for ".*" failed this message: row rejected/);
    expect([...calls[0]].sort(byId)).toEqual([
      { id: 'r-bad', count: 1 },
      { id: 'r1', count: 1 },
      { id: 'r2', count: 1 },
    ]);
    // a lone retry waits out maxWaitMs for company: only r-bad comes back
    expect(calls.slice(1).flat()).toEqual([{ id: 'r-bad', count: 2 }]);
  });
  it('dead-letters only the message whose element fails MessagingValidationPipe({ items }); the handler gets the others', async () => {
    const { topic, queueName, queue, dlq } = names('batchpipe');
    const calls: BatchCall[] = [];
    @Controller()
    class RowsController {
      @EventPattern(topic, { queueName, batch: { maxSize: 3, maxWaitMs: 30_000 } })
      onRows(@Payload(new MessagingValidationPipe({ items: Row })) rows: Row[], @Ctx() ctx: MessagingBatchContext) {
        calls.push(callOf(rows, ctx));
      }
    }
    const app = await startTestApp(target.moduleOptions({ serviceName: uniqueName('svc'), drainTimeout: 5000 }), [RowsController]);
    apps.push(app);
    for (const row of [{ id: 'v1' }, { id: 42 }, { id: 'v2' }]) await emit(app, topic, row);
    const [dead] = await deadLetters(dlq, 1);
    await drained(queue);
    expect(dead.data).toEqual({ id: 42 });
    expect(dead.reason).toBe('handler rejected the message: payload failed validation: id must be a string');
    expect(calls).toHaveLength(1);
    expect([...calls[0]].sort(byId)).toEqual([
      { id: 'v1', count: 1 },
      { id: 'v2', count: 1 },
    ]);
  });
});
