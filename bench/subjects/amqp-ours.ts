/** nestjs-messaging over AMQP: emit -> @EventPattern handler -> ack, as an application uses it. */
import * as amqp from 'amqplib';
import { Registry } from 'prom-client';
import { RawEnvelope, type MessagingModuleOptions } from '../../lib/index.js';
import { AMQP_URL, Countdown, Meter, payload, percentile, pump, uniqueName, withTimeout } from '../support/common.js';
import { DrainMemory } from '../support/drain-memory.js';
import { createOursApp, QUEUE, sink } from '../support/ours-app.js';
import { installDiscardingTracer } from '../support/otel.js';
import { paced } from './amqp-baseline.js';

/** `raw`: RawEnvelope, the JSON data as the whole body (what golevelup sends), parsed by the handler. */
export type EnvelopeChoice = 'json' | 'raw';

/** `metrics`: prom-client on a registry of its own; `metrics+tracing`: also a span per emit and per delivery (exported to nowhere). */
export type ObserveChoice = 'none' | 'metrics' | 'metrics+tracing';

export function options(
  prefix: string,
  prefetch: number,
  envelope: EnvelopeChoice = 'json',
  observe: ObserveChoice = 'none',
): MessagingModuleOptions {
  return {
    transport: 'amqp',
    ...(observe !== 'none' ? { metrics: { registry: new Registry() } } : {}),
    ...(observe === 'metrics+tracing' ? { tracing: true } : {}),
    ...(envelope === 'raw' ? { envelope: RawEnvelope } : {}),
    serviceName: 'bench',
    topicPrefix: `${prefix}-`,
    queueNamePrefix: `${prefix}-`,
    drainTimeout: 5_000,
    amqp: { url: AMQP_URL, prefetch },
  };
}

/** Deletes the queues the library declared for the run (main, retry, dead-letter). */
export async function deleteQueues(prefix: string): Promise<void> {
  const connection = await amqp.connect(AMQP_URL);
  const channel = await connection.createChannel();
  for (const q of [QUEUE, `${QUEUE}-retry`, `${QUEUE}-dlq`]) await channel.deleteQueue(`${prefix}-${q}`).catch(() => undefined);
  await channel.close().catch(() => undefined);
  await connection.close();
}

export async function throughput(p: { n: number; prefetch: number; window: number; envelope?: EnvelopeChoice; observe?: ObserveChoice }) {
  const prefix = uniqueName('bench-amqp-ours');
  const raw = p.envelope === 'raw';
  const tracer = p.observe === 'metrics+tracing' ? installDiscardingTracer() : undefined;
  const ours = await createOursApp(options(prefix, p.prefetch, p.envelope, p.observe));
  const done = new Countdown(p.n);
  sink.onMessage = (received) => {
    const data = raw ? (JSON.parse(received as unknown as string) as { i: number }) : received;
    if (typeof data.i !== 'number') throw new Error('bad message');
    done.hit();
  };
  await ours.listen();
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => ours.emit(raw ? JSON.stringify(payload(i)) : payload(i)));
  await withTimeout(done.done, 300_000, `${p.n} messages handled`);
  const m = meter.stop();
  await ours.close();
  await deleteQueues(prefix);
  await tracer?.shutdown();
  return { n: p.n, ...m, ...(tracer ? { spansExported: tracer.exporter.exported } : {}) };
}

/** Publishing alone: the library's queue is declared (listen), its consumer stopped, then `n` emits are confirmed. */
export async function publishOnly(p: { n: number; window: number; envelope?: EnvelopeChoice }) {
  const prefix = uniqueName('bench-amqp-ours-pub');
  const raw = p.envelope === 'raw';
  const ours = await createOursApp(options(prefix, 100, p.envelope));
  await ours.listen();
  await ours.server.close();
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => ours.emit(raw ? JSON.stringify(payload(i)) : payload(i)));
  const m = meter.stop();
  await ours.close();
  await deleteQueues(prefix);
  return { n: p.n, ...m };
}

export async function latency(p: { rate: number; seconds: number }) {
  const prefix = uniqueName('bench-amqp-ours-lat');
  const ours = await createOursApp(options(prefix, 100));
  const n = Math.round(p.rate * p.seconds);
  const sent = new Array<bigint>(n);
  const lat: number[] = [];
  const done = new Countdown(n);
  sink.onMessage = (data) => {
    lat.push(Number(process.hrtime.bigint() - sent[data.i]) / 1e6);
    done.hit();
  };
  await ours.listen();
  await paced(n, p.rate, (i) => {
    sent[i] = process.hrtime.bigint();
    return ours.emit(payload(i));
  });
  await withTimeout(done.done, 60_000, 'latency messages');
  await ours.close();
  await deleteQueues(prefix);
  lat.sort((a, b) => a - b);
  return { n, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] };
}

/** Memory step 1 (own process): provisions the queue through the library, stops consuming, publishes the backlog. */
export async function prefill(p: { prefix: string; n: number; prefetch: number }) {
  const ours = await createOursApp(options(p.prefix, p.prefetch));
  sink.onMessage = () => {
    throw new Error('prefill must not consume');
  };
  await ours.listen();
  await ours.server.close();
  await pump(p.n, 500, (i) => ours.emit(payload(i)));
  await ours.close();
  return { n: p.n };
}

/** Memory step 2 (own process): drains the backlog through the library, sampling RSS. */
export async function drain(p: { prefix: string; n: number; markAt: number; prefetch: number }) {
  const memory = new DrainMemory(p.markAt);
  const ours = await createOursApp(options(p.prefix, p.prefetch));
  const done = new Countdown(p.n);
  sink.onMessage = () => {
    done.hit();
    memory.onHandled(done.count);
  };
  const meter = new Meter();
  meter.start();
  await ours.listen();
  await withTimeout(done.done, 600_000, 'backlog drained');
  const m = meter.stop();
  const report = memory.finish();
  await ours.close();
  await deleteQueues(p.prefix);
  return { n: p.n, ...m, ...report };
}
