/**
 * The AMQP baseline: a hand-written amqplib loop with the guarantees the library gives — persistent messages on a
 * confirm channel, a durable queue bound to amq.topic, manual ack per message after the handler ran, prefetch 100.
 * `body: 'json'` (what a user writes without any library) publishes the payload's JSON; `'envelope'` builds the
 * tomodachi envelope by hand, the bytes the library's default JsonEnvelope sends.
 */
import * as amqp from 'amqplib';
import { AMQP_URL, Countdown, Meter, handEnvelope, payload, percentile, pump, uniqueName, withTimeout } from '../support/common.js';
import { DrainMemory } from '../support/drain-memory.js';

const EXCHANGE = 'amq.topic';

export interface Setup {
  connection: amqp.ChannelModel;
  pub: amqp.ConfirmChannel;
  sub: amqp.Channel;
  queue: string;
  routingKey: string;
}

export async function setup(queue: string, prefetch: number): Promise<Setup> {
  const connection = await amqp.connect(AMQP_URL);
  const pub = await connection.createConfirmChannel();
  const sub = await connection.createChannel();
  await sub.prefetch(prefetch);
  const routingKey = `${queue}.topic`;
  await sub.assertQueue(queue, { durable: true });
  await sub.bindQueue(queue, EXCHANGE, routingKey);
  return { connection, pub, sub, queue, routingKey };
}

export async function teardown(s: Setup, deleteQueue = true): Promise<void> {
  if (deleteQueue) await s.sub.deleteQueue(s.queue).catch(() => undefined);
  await s.pub.close().catch(() => undefined);
  await s.sub.close().catch(() => undefined);
  await s.connection.close().catch(() => undefined);
}

function publish(s: Setup, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    s.pub.publish(EXCHANGE, s.routingKey, Buffer.from(body), { persistent: true, contentType: 'application/json' }, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

export async function throughput(p: { n: number; prefetch: number; window: number; body?: 'json' | 'envelope' }) {
  const s = await setup(uniqueName('bench-amqp-base'), p.prefetch);
  const done = new Countdown(p.n);
  const json = p.body === 'json';
  await s.sub.consume(s.queue, (msg) => {
    if (!msg) return;
    const parsed = JSON.parse(msg.content.toString('utf8')) as { i: number } & { data: { i: number } };
    if (typeof (json ? parsed.i : parsed.data.i) !== 'number') throw new Error('bad message');
    s.sub.ack(msg);
    done.hit();
  });
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => publish(s, json ? JSON.stringify(payload(i)) : handEnvelope(s.routingKey, payload(i))));
  await withTimeout(done.done, 300_000, `${p.n} messages handled`);
  const m = meter.stop();
  await teardown(s);
  return { n: p.n, ...m };
}

/** Publishing alone: `n` confirmed publishes into a bound queue nobody consumes (deleted afterwards). */
export async function publishOnly(p: { n: number; window: number; body?: 'json' | 'envelope' }) {
  const s = await setup(uniqueName('bench-amqp-base-pub'), 100);
  const json = p.body === 'json';
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => publish(s, json ? JSON.stringify(payload(i)) : handEnvelope(s.routingKey, payload(i))));
  const m = meter.stop();
  await teardown(s);
  return { n: p.n, ...m };
}

export async function latency(p: { rate: number; seconds: number }) {
  const s = await setup(uniqueName('bench-amqp-base-lat'), 100);
  const n = Math.round(p.rate * p.seconds);
  const sent = new Array<bigint>(n);
  const lat: number[] = [];
  const done = new Countdown(n);
  await s.sub.consume(s.queue, (msg) => {
    if (!msg) return;
    const { data } = JSON.parse(msg.content.toString('utf8')) as { data: { i: number } };
    lat.push(Number(process.hrtime.bigint() - sent[data.i]) / 1e6);
    s.sub.ack(msg);
    done.hit();
  });
  await paced(n, p.rate, (i) => {
    sent[i] = process.hrtime.bigint();
    return publish(s, handEnvelope(s.routingKey, payload(i)));
  });
  await withTimeout(done.done, 60_000, 'latency messages');
  await teardown(s);
  lat.sort((a, b) => a - b);
  return { n, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] };
}

/** Publishes at a steady rate (one message every 1000/rate ms, on schedule, not after the previous one). */
export async function paced(n: number, rate: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  const start = performance.now();
  const inflight: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inflight.push(fn(i));
  }
  await Promise.all(inflight);
}

/** Memory benchmark, step 1 (own process): fills a durable queue with `n` messages. */
export async function prefill(p: { queue: string; n: number }) {
  const s = await setup(p.queue, 100);
  await pump(p.n, 500, (i) => publish(s, handEnvelope(s.routingKey, payload(i))));
  await teardown(s, false);
  return { n: p.n };
}

/** Memory benchmark, step 2 (own process): drains the backlog, sampling RSS. */
export async function drain(p: { queue: string; n: number; markAt: number }) {
  const memory = new DrainMemory(p.markAt);
  const s = await setup(p.queue, 100);
  const done = new Countdown(p.n);
  const meter = new Meter();
  meter.start();
  await s.sub.consume(s.queue, (msg) => {
    if (!msg) return;
    JSON.parse(msg.content.toString('utf8'));
    s.sub.ack(msg);
    done.hit();
    memory.onHandled(done.count);
  });
  await withTimeout(done.done, 600_000, 'backlog drained');
  const m = meter.stop();
  const report = memory.finish();
  await teardown(s);
  return { n: p.n, ...m, ...report };
}
