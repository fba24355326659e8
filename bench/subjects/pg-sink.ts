/**
 * batch-sink subjects: drain a backlog of orders into PostgreSQL, acking each message only after its row is written.
 * `perMessage`: nestjs-messaging, one INSERT per @EventPattern call; `batch`: nestjs-messaging batch handler, one
 * multi-row INSERT per call; `baseline`: a hand-written amqplib loop, one INSERT per message.
 */
import 'reflect-metadata';
import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { MessagingEventPattern } from '../../lib/index.js';
import { Countdown, Meter, withTimeout } from '../support/common.js';
import { createOursApp, QUEUE, sink, TOPIC } from '../support/ours-app.js';
import { OrderTable, type Order } from '../support/pg.js';
import { setup, teardown } from './amqp-baseline.js';
import { deleteQueues, options } from './amqp-ours.js';

const DRAIN_TIMEOUT_MS = 600_000;

/**
 * Starts at the first message handed to the subject's code, so the start-up (Nest's listen: channel, queue assertions,
 * ~60-80 ms and ~20 ms of CPU, a third of a smoke run's batch drain) is setup, not throughput.
 */
class FirstMessageMeter {
  private meter?: Meter;

  mark(): void {
    if (this.meter) return;
    this.meter = new Meter();
    this.meter.start();
  }

  stop(): ReturnType<Meter['stop']> {
    if (!this.meter) throw new Error('no message reached the subject');
    return this.meter.stop();
  }
}

/** A backlog of `n` messages waits in the library's queue of `prefix` (amqp-ours prefill); prefetch 50 = 50 pool connections. */
export async function perMessage(p: { prefix: string; n: number; prefetch: number }) {
  const table = await OrderTable.create(p.prefetch);
  try {
    const ours = await createOursApp(options(p.prefix, p.prefetch));
    const done = new Countdown(p.n);
    const meter = new FirstMessageMeter();
    sink.onMessage = async (order) => {
      meter.mark();
      await table.insertOne(order as Order);
      done.hit();
    };
    await ours.listen();
    await withTimeout(done.done, DRAIN_TIMEOUT_MS, `${p.n} messages written`);
    const m = meter.stop();
    await ours.close();
    await deleteQueues(p.prefix);
    return { n: p.n, ...m, rows: await table.verify(p.n), calls: p.n };
  } finally {
    await table.drop();
  }
}

/** As perMessage with a batch handler on the same queue; `concurrency` / `maxSize` batches are written at once, one pool connection each. */
export async function batch(p: { prefix: string; n: number; maxSize: number; maxWaitMs: number; concurrency: number }) {
  const table = await OrderTable.create(Math.ceil(p.concurrency / p.maxSize));
  try {
    const done = new Countdown(p.n);
    let calls = 0;
    const meter = new FirstMessageMeter();
    @Controller()
    class BatchController {
      @MessagingEventPattern(TOPIC, {
        queueName: QUEUE,
        concurrency: p.concurrency,
        batch: { maxSize: p.maxSize, maxWaitMs: p.maxWaitMs },
      })
      async handle(@Payload() orders: Order[]) {
        meter.mark();
        calls += 1;
        await table.insertMany(orders);
        for (let k = 0; k < orders.length; k++) done.hit();
      }
    }
    // the handler's `concurrency` is its queue's prefetch (amqp.prefetch applies to queues without one)
    const ours = await createOursApp(options(p.prefix, p.concurrency), [BatchController], false);
    await ours.listen();
    await withTimeout(done.done, DRAIN_TIMEOUT_MS, `${p.n} messages written`);
    const m = meter.stop();
    await ours.close();
    await deleteQueues(p.prefix);
    return { n: p.n, ...m, rows: await table.verify(p.n), calls };
  } finally {
    await table.drop();
  }
}

/** A backlog of `n` messages waits in `queue` (amqp-baseline prefill); one INSERT per message, ack after it. */
export async function baseline(p: { queue: string; n: number; prefetch: number }) {
  const table = await OrderTable.create(p.prefetch);
  try {
    const s = await setup(p.queue, p.prefetch);
    const done = new Countdown(p.n);
    let fail!: (error: unknown) => void;
    const failed = new Promise<never>((_, reject) => {
      fail = reject;
    });
    const meter = new FirstMessageMeter();
    await s.sub.consume(s.queue, (msg) => {
      if (!msg) return;
      meter.mark();
      const { data } = JSON.parse(msg.content.toString('utf8')) as { data: Order };
      table.insertOne(data).then(() => {
        s.sub.ack(msg);
        done.hit();
      }, fail);
    });
    await withTimeout(Promise.race([done.done, failed]), DRAIN_TIMEOUT_MS, `${p.n} messages written`);
    const m = meter.stop();
    await teardown(s);
    return { n: p.n, ...m, rows: await table.verify(p.n), calls: p.n };
  } finally {
    await table.drop();
  }
}
