/** nestjs-messaging over SNS+SQS (fauxqs): emit -> SNS topic -> SQS queue -> @EventPattern handler -> delete. */
import { Controller, type Type } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { CreateTopicCommand, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { MessagingModuleOptions } from '../../lib/index.js';
import { Countdown, handEnvelope, Meter, payload, percentile, pump, sleep, uniqueName, waitUntil, withTimeout } from '../support/common.js';
import { DrainMemory } from '../support/drain-memory.js';
import { createOursApp, sink, TOPIC, type OursApp } from '../support/ours-app.js';
import { awsClients, CallCounter, CREDENTIALS, deleteByPrefix, endpoint, publishBatches, REGION } from '../support/sqs.js';
import { paced } from './amqp-baseline.js';

/** The library's options in this module's subjects and bench/sqs-latency-legs.ts: prefixes, concurrency, the emulator. */
export function options(prefix: string, concurrency: number, waitTimeSeconds = 20): MessagingModuleOptions {
  return {
    transport: 'sns-sqs',
    serviceName: 'bench',
    topicPrefix: `${prefix}-`,
    queueNamePrefix: `${prefix}-`,
    concurrency,
    drainTimeout: 5_000,
    snsSqs: { endpoint: endpoint(), region: REGION, credentials: CREDENTIALS, waitTimeSeconds },
  };
}

/** Counts every call the library makes, on the clients it exposes through unwrap(). */
function countOurs(ours: OursApp): CallCounter {
  const { sns, sqs } = ours.server.unwrap<{ sns: SNSClient; sqs: SQSClient }>();
  const counter = new CallCounter().attach(sns);
  const clientSide = ours.client.unwrap<{ sns: SNSClient; sqs: SQSClient }>();
  if (clientSide.sns !== sns) counter.attach(clientSide.sns);
  return counter.attach(sqs);
}

/**
 * Starts `meter` when the application's consumer sends its first ReceiveMessage: as the baseline, which starts its
 * meter right before its pollers, the drain is timed without the application's startup and provisioning.
 */
function startsAtFirstReceive(ours: OursApp, meter: Meter): void {
  const { sqs } = ours.server.unwrap<{ sqs: SQSClient }>();
  let started = false;
  sqs.middlewareStack.add(
    (next, context) => (args) => {
      if (!started && context.commandName === 'ReceiveMessageCommand') {
        started = true;
        meter.start();
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchMeterAtFirstReceive' },
  );
}

async function cleanup(prefix: string): Promise<void> {
  const { sns, sqs } = awsClients();
  await deleteByPrefix(sns, sqs, prefix);
}

/** Publishes `n` through emit and waits until all are handled and deleted; returns timing and the calls made. */
async function load(ours: OursApp, counter: CallCounter, n: number, window: number) {
  const handled = new Countdown(n);
  sink.onMessage = (data) => {
    if (typeof data.i !== 'number') throw new Error('bad message');
    handled.hit();
  };
  counter.reset();
  const meter = new Meter();
  meter.start();
  await pump(n, window, (i) => ours.emit(payload(i)));
  await withTimeout(handled.done, 300_000, `${n} messages handled`);
  await waitUntil(`${n} deletes`, () => counter.deleted >= n, 60_000);
  return { n, ...meter.stop(), ...counter.snapshot() };
}

/**
 * Closes the application without sitting out its idle long polls: the stop lets open polls end (up to waitTimeSeconds
 * each, see SqsConsumer.stop), so a message is published to the topic now and then until the close returned, and
 * each poll ends with one. Teardown only: it keeps a run of the benchmark short and is outside the measured phase.
 */
async function closeWakingPolls(ours: OursApp, prefix: string): Promise<void> {
  sink.onMessage = () => undefined;
  const { sns } = awsClients();
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${prefix}-${TOPIC}` }));
  let closed = false;
  const closing = ours.close().finally(() => {
    closed = true;
  });
  while (!closed) {
    await sns.send(new PublishCommand({ TopicArn, Message: handEnvelope(TOPIC, payload(-1)) }));
    await Promise.race([closing, sleep(200)]);
  }
  await closing;
}

export async function throughput(p: { n: number; concurrency: number; window: number; waitTimeSeconds?: number }) {
  const prefix = uniqueName('bench-sqs-ours');
  const ours = await createOursApp(options(prefix, p.concurrency, p.waitTimeSeconds));
  const counter = countOurs(ours);
  await ours.listen();
  const result = await load(ours, counter, p.n, p.window);
  await closeWakingPolls(ours, prefix);
  await cleanup(prefix);
  return result;
}

/**
 * A started application whose consumer is stopped again: the topic's queue is provisioned, nobody consumes it. Short
 * polling, so that the stop has no long poll to wait out.
 */
async function publishingApp(name: string, concurrency: number): Promise<{ prefix: string; ours: OursApp }> {
  const prefix = uniqueName(name);
  const ours = await createOursApp(options(prefix, concurrency, 0));
  await ours.listen();
  await ours.server.close();
  return { prefix, ours };
}

/** Times `publish` alone with the calls `counter` saw, then closes the application and deletes what it created. */
async function timedPublishing(app: { prefix: string; ours: OursApp }, counter: CallCounter, n: number, publish: () => Promise<void>) {
  counter.reset();
  const meter = new Meter();
  meter.start();
  await publish();
  const m = meter.stop();
  const calls = counter.snapshot();
  if (counter.published < n) throw new Error(`only ${counter.published} of ${n} published`);
  await app.ours.close();
  await cleanup(app.prefix);
  return { n, ...m, ...calls };
}

/** Emits only, so the publish path runs on its own. */
export async function publishOnly(p: { n: number; concurrency: number; window: number }) {
  const app = await publishingApp('bench-sqs-ours-pub', p.concurrency);
  return timedPublishing(app, countOurs(app.ours), p.n, () => pump(p.n, p.window, (i) => app.ours.emit(payload(i))));
}

/**
 * The baseline's PublishBatch loop on the SNS client of a started nestjs-messaging application: what publishing costs
 * in that process without the library's publish path, to tell the process apart from the path.
 */
export async function rawLoopInApp(p: { n: number; concurrency: number; window: number }) {
  const app = await publishingApp('bench-sqs-raw-in-app', p.concurrency);
  await app.ours.emit(payload(0)); // the library's publish path has run once in this process
  const { sns } = app.ours.client.unwrap<{ sns: SNSClient }>();
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `${app.prefix}-${TOPIC}` }));
  return timedPublishing(app, new CallCounter().attach(sns), p.n, () => publishBatches(sns, TopicArn!, p.n, p.window));
}

/** Requests per message under load, then for one message alone (published after the consumer went idle). */
export async function cost(p: { n: number; concurrency: number; window: number }) {
  const prefix = uniqueName('bench-sqs-cost');
  const ours = await createOursApp(options(prefix, p.concurrency));
  const counter = countOurs(ours);
  await ours.listen();
  const underLoad = await load(ours, counter, p.n, p.window);
  await sleep(1_000);
  const lone = await load(ours, counter, 1, 1);
  await sleep(300);
  const loneAfter = counter.snapshot();
  await ours.close();
  await cleanup(prefix);
  return { underLoad, lone: { ...lone, ...loneAfter } };
}

export async function latency(p: { rate: number; seconds: number; concurrency: number }) {
  const prefix = uniqueName('bench-sqs-ours-lat');
  const ours = await createOursApp(options(prefix, p.concurrency));
  const counter = countOurs(ours);
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
  const receives = counter.calls.ReceiveMessage ?? 0;
  await ours.close();
  await cleanup(prefix);
  lat.sort((a, b) => a - b);
  return { n, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1], receives };
}

/** Memory step 1: provisions through the library, stops consuming, publishes the backlog (short polling: a quick stop). */
export async function prefill(p: { prefix: string; n: number; concurrency: number }) {
  const ours = await createOursApp(options(p.prefix, p.concurrency, 0));
  sink.onMessage = () => {
    throw new Error('prefill must not consume');
  };
  await ours.listen();
  await ours.server.close();
  await pump(p.n, 100, (i) => ours.emit(payload(i)));
  await ours.close();
  return { n: p.n };
}

/**
 * A restart: one application consumes (long polls open, idle), stops; the backlog is published as soon as the stop
 * returned; a second application starts and drains it. Timed from the second start until every message was handled
 * and deleted. A stop that abandoned its polls would let SQS hand the first messages to them, hidden for 30 s.
 */
export async function restartDrain(p: { n: number; concurrency: number; idleMs: number }) {
  const prefix = uniqueName('bench-sqs-restart');
  const first = await createOursApp(options(prefix, p.concurrency));
  sink.onMessage = () => {
    throw new Error('the stopped consumer must not handle the backlog');
  };
  await first.listen();
  await sleep(p.idleMs);
  await first.server.close();
  await pump(p.n, 100, (i) => first.emit(payload(i)));
  await first.close();

  const second = await createOursApp(options(prefix, p.concurrency));
  const counter = countOurs(second);
  const done = new Countdown(p.n);
  sink.onMessage = () => done.hit();
  const meter = new Meter();
  startsAtFirstReceive(second, meter);
  await second.listen();
  await withTimeout(done.done, 600_000, 'backlog drained');
  await waitUntil('deletes', () => counter.deleted >= p.n, 60_000);
  const m = meter.stop();
  const cost = counter.snapshot();
  await second.close();
  await cleanup(prefix);
  return { n: p.n, ...m, ...cost };
}

export async function drain(p: { prefix: string; n: number; markAt: number; concurrency: number }) {
  const memory = new DrainMemory(p.markAt, false);
  const ours = await createOursApp(options(p.prefix, p.concurrency));
  const counter = countOurs(ours);
  const done = new Countdown(p.n);
  sink.onMessage = () => {
    done.hit();
    memory.onHandled(done.count);
  };
  const meter = new Meter();
  meter.start();
  await ours.listen();
  await withTimeout(done.done, 600_000, 'backlog drained');
  await waitUntil('deletes', () => counter.deleted >= p.n, 60_000);
  const m = meter.stop();
  const report = memory.finish();
  await ours.close();
  await cleanup(p.prefix);
  return { n: p.n, ...m, ...report, ...counter.snapshot() };
}

/** A controller with `subs` handlers, each on its own topic and (generated, competing) queue with its DLQ. */
function provisioningController(subs: number): Type {
  class ProvisioningController {}
  const proto = ProvisioningController.prototype as unknown as Record<string, unknown>;
  for (let k = 0; k < subs; k++) {
    const key = `onTopic${k}`;
    proto[key] = function handle() {
      return undefined;
    };
    EventPattern(`topic-${k}`)(proto, key, Object.getOwnPropertyDescriptor(proto, key)!);
  }
  Controller()(ProvisioningController);
  return ProvisioningController;
}

/** Starts an application with `subs` subscriptions and counts the calls its startup makes (run twice: cold, warm). */
export async function provision(p: { prefix: string; subs: number }) {
  const ours = await createOursApp(options(p.prefix, 10), [provisioningController(p.subs)], false);
  const counter = countOurs(ours);
  const meter = new Meter();
  meter.start();
  await ours.listen();
  const m = meter.stop();
  const result = { subs: p.subs, ...m, ...counter.snapshot() };
  await ours.close();
  return result;
}

/**
 * One of several instances starting together: the application is built first, then its startup (listen) runs at
 * `startAt` (epoch ms), as the other instances'. Reports its startup time and calls; a startup that failed reports why.
 */
export async function provisionAt(p: { prefix: string; subs: number; startAt: number; requestTimeout: number }) {
  // 1 s long polls: the instance closes right after its start, and its polls must not pile up on the emulator meanwhile
  const base = options(p.prefix, 10, 1);
  const ours = await createOursApp(
    { ...base, snsSqs: { ...base.snsSqs, requestTimeout: p.requestTimeout } },
    [provisioningController(p.subs)],
    false,
  );
  const counter = countOurs(ours);
  await sleep(Math.max(0, p.startAt - Date.now()));
  const meter = new Meter();
  meter.start();
  let failed: string | undefined;
  try {
    await ours.listen();
  } catch (error) {
    failed = error instanceof Error ? error.message.split('\n')[0] : String(error);
  }
  const m = meter.stop();
  const result = { subs: p.subs, ...m, ...counter.snapshot(), failed };
  await ours.close().catch(() => undefined);
  return result;
}

export async function cleanupPrefix(p: { prefix: string }) {
  await cleanup(p.prefix);
  return {};
}
