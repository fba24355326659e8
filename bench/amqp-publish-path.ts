/**
 * The library's AMQP publish path alone, in-process, against the plain amqplib pattern on the same stand-in for a
 * confirm channel (it confirms every publish of a turn in the next one, as a broker's batched acks do): emit with
 * `lastValueFrom` as an application awaits it (MessagingClient, the envelope, AmqpPublisher) versus a promise per
 * `channel.publish` with its confirm callback. No broker, no socket: what each costs per message, with 1000 in
 * flight, and how much of it is garbage collection. Compile with the bench (tsconfig.sample.json), then
 *   node dist-sample/bench/amqp-publish-path.js [rounds=5] [messages=200000] [subject index]
 */
import { EventEmitter } from 'node:events';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { lastValueFrom } from 'rxjs';
import { AmqpPublisher } from '../lib/amqp/publisher.js';
import type { AmqpConnection } from '../lib/amqp/connection.js';
import { MessagingClient } from '../lib/client/messaging.client.js';
import type { EnvelopeResolver } from '../lib/envelopes/envelope-resolver.js';
import { JsonEnvelope } from '../lib/envelopes/json.envelope.js';
import type { MessageEnvelope } from '../lib/envelopes/message-envelope.js';
import { RawEnvelope } from '../lib/envelopes/raw.envelope.js';
import { ServiceIdentity } from '../lib/service-identity.js';
import type { Broker } from '../lib/transport/broker.js';
import { payload, pump } from './support/common.js';

const ROUNDS = Number(process.argv[2] ?? 5);
const MESSAGES = Number(process.argv[3] ?? 200_000);
const IN_FLIGHT = 1000;
const EXCHANGE = 'amq.topic';
const ROUTING_KEY = 'bench.order-paid';

type Confirm = (error: unknown) => void;

class StandInChannel extends EventEmitter {
  private waiting: Confirm[] = [];
  private scheduled = false;

  publish(_exchange: string, _routingKey: string, _content: Buffer, _options: object, confirm: Confirm): boolean {
    this.waiting.push(confirm);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const confirms = this.waiting;
        this.waiting = [];
        for (const c of confirms) c(null);
      });
    }
    return true;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

const channel = new StandInChannel();
const connection = { get: async () => ({ createConfirmChannel: async () => channel }), blocked: undefined } as unknown as AmqpConnection;
const quiet = { log() {}, warn() {}, error() {} };

function plainLoop(i: number): Promise<void> {
  return new Promise((resolve, reject) => {
    channel.publish(
      EXCHANGE,
      ROUTING_KEY,
      Buffer.from(JSON.stringify(payload(i))),
      { persistent: true, contentType: 'application/json' },
      (error) => (error ? reject(error as Error) : resolve()),
    );
  });
}

function libraryEmit(envelope: MessageEnvelope, raw: boolean): (i: number) => Promise<void> {
  const publisher = new AmqpPublisher(connection, 30_000, quiet);
  const broker = {
    status$: { subscribe: () => undefined },
    publish: (m: Parameters<Broker['publish']>[0]) =>
      publisher.publish(EXCHANGE, ROUTING_KEY, m.body, m.attributes, m.topic, undefined, m.messageId),
  } as unknown as Broker;
  const client = new MessagingClient(broker, envelope, {} as EnvelopeResolver, new ServiceIdentity('bench'));
  return (i) => lastValueFrom(client.emit('order-paid', raw ? JSON.stringify(payload(i)) : payload(i)), { defaultValue: undefined });
}

const subjects: Array<[string, (i: number) => Promise<void>]> = [
  ["plain amqplib pattern (a promise per publish, the payload's JSON)", plainLoop],
  ['nestjs-messaging emit, RawEnvelope (the same JSON)', libraryEmit(new RawEnvelope(), true)],
  ['nestjs-messaging emit, JsonEnvelope (the tomodachi envelope)', libraryEmit(new JsonEnvelope(), false)],
];

let gcMs = 0;
let scavenges = 0;
let majors = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MINOR) scavenges++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  }
}).observe({ entryTypes: ['gc'] });

async function main(): Promise<void> {
  const only = process.argv[4];
  for (const [label, send] of subjects.filter((_, k) => only === undefined || String(k) === only)) {
    await pump(IN_FLIGHT * 10, IN_FLIGHT, send); // warm-up
    const rounds: string[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      gcMs = scavenges = majors = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await pump(MESSAGES, IN_FLIGHT, send);
      const wall = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      await new Promise((resolve) => setImmediate(resolve)); // the round's last GC entries
      rounds.push(
        `${((wall * 1000) / MESSAGES).toFixed(2)}/${((cpu.user + cpu.system) / MESSAGES).toFixed(2)} µs, GC ${((gcMs * 1000) / MESSAGES).toFixed(2)} µs (${scavenges} scavenges, ${majors} mark-compacts)`,
      );
    }
    console.log(`${label}\n  per message (wall/CPU µs, GC µs) per round of ${MESSAGES}: ${rounds.join(' · ')}`);
  }
}

void main();
