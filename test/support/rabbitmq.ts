import 'reflect-metadata';
import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MessagingModuleOptions } from '../../lib/index.js';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);

export const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** A plain amqplib connection for inspecting queues and publishing raw messages; close it after the test. */
export function rawConnection(): Promise<amqp.ChannelModel> {
  return amqp.connect(AMQP_URL);
}

/** Message count of a queue, or undefined when it does not exist (uses a throwaway channel: a 404 closes it). */
export async function queueInfo(
  model: amqp.ChannelModel,
  queue: string,
): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    const info = await channel.checkQueue(queue);
    return { messageCount: info.messageCount, consumerCount: info.consumerCount };
  } catch {
    return undefined;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/** Whether an exchange exists (throwaway channel). */
export async function exchangeExists(model: amqp.ChannelModel, exchange: string): Promise<boolean> {
  const channel = await model.createChannel();
  channel.on('error', () => undefined);
  try {
    await channel.checkExchange(exchange);
    return true;
  } catch {
    return false;
  } finally {
    await channel.close().catch(() => undefined);
  }
}

/**
 * Every queue on the broker with its depth (ready + unacknowledged messages), from `rabbitmqctl list_queues`: unlike
 * checkQueue's messageCount it counts messages a consumer holds. Read-only; no management plugin needed.
 */
export async function queueDepths(): Promise<Map<string, number>> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name', 'messages']);
  const depths = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const [name, messages] = line.trim().split(/\s+/);
    if (name && messages !== undefined) depths.set(name, Number(messages));
  }
  return depths;
}

/** The client-side port of an amqplib connection: how we find our own connection in `rabbitmqctl list_connections`. */
export function localPortOf(model: amqp.ChannelModel): number {
  const port = (model as unknown as { connection: { stream: { localPort?: number } } }).connection.stream.localPort;
  if (!port) throw new Error('connection has no local port');
  return port;
}

/** Closes one connection from the broker side (only ours, identified by its client port): other tests are not touched. */
export async function closeConnectionFromBroker(model: amqp.ChannelModel, reason = 'test: connection closed by the broker'): Promise<void> {
  const port = localPortOf(model);
  const pid = await waitFor(
    async () => {
      const { stdout } = await run('rabbitmqctl', ['list_connections', '-q', 'pid', 'peer_port']);
      for (const line of stdout.split('\n')) {
        const [p, peerPort] = line.trim().split(/\s+/);
        if (Number(peerPort) === port) return p;
      }
      return undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: `broker connection from port ${port}` },
  );
  await run('rabbitmqctl', ['close_connection', pid, reason]);
}

function portAnswers(port = 5672): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Stops the RabbitMQ application (the Erlang node stays up); AFFECTS EVERY TEST running against this broker. */
export async function stopBrokerApp(): Promise<void> {
  await run('rabbitmqctl', ['stop_app']);
}

/** Starts it again and waits until it accepts AMQP connections. */
export async function startBrokerApp(): Promise<void> {
  await run('rabbitmqctl', ['start_app']);
  await waitFor(
    async () =>
      (await portAnswers()) &&
      (await rawConnection().then(
        (c) => c.close().then(() => true),
        () => false,
      )),
    { timeoutMs: 60_000, intervalMs: 200, what: 'RabbitMQ to accept connections again' },
  );
}

export type RabbitMqAppOptions = Omit<MessagingModuleOptions, 'transport'> & { transport?: 'amqp' };

/** Module options for an app on the shared broker: transport 'amqp' and AMQP_URL unless `options.amqp.url` sets one. */
export function rabbitMqOptions(options: RabbitMqAppOptions): MessagingModuleOptions {
  return { ...options, transport: 'amqp', amqp: { url: AMQP_URL, ...options.amqp } };
}

/*
 * A cross-process reader/writer lock between AMQP spec files run by parallel jest workers: ordinary suites share
 * the broker; the broker-restart suite takes it exclusively, so a stop_app never lands in the middle of another suite.
 * Writer-preferring: once the writer announced itself, new readers wait, and the writer waits for running readers.
 */
const LOCK_DIR = join(tmpdir(), 'nestjs-messaging-rabbitmq-lock');
const EXCLUSIVE = join(LOCK_DIR, 'exclusive');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function liveEntries(prefix: string): string[] {
  return readdirSync(LOCK_DIR).filter((name) => {
    if (!name.startsWith(prefix)) return false;
    const pid = Number(name.split('-')[1]);
    if (alive(pid)) return true;
    rmSync(join(LOCK_DIR, name), { recursive: true, force: true });
    return false;
  });
}

function exclusiveHeld(): boolean {
  if (!existsSync(EXCLUSIVE)) return false;
  const owner = Number(readFileSyncSafe(join(EXCLUSIVE, 'pid')));
  if (owner && !alive(owner)) {
    rmSync(EXCLUSIVE, { recursive: true, force: true });
    return false;
  }
  return true;
}

function readFileSyncSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

let sharedFile: string | undefined;

/** Call at the top level of an AMQP spec file: holds a shared lock on the broker for the whole file. */
export function shareBroker(): void {
  beforeAll(async () => {
    mkdirSync(LOCK_DIR, { recursive: true });
    const file = join(LOCK_DIR, `shared-${process.pid}-${Math.random().toString(36).slice(2)}`);
    await waitFor(
      () => {
        writeFileSync(file, '');
        if (!exclusiveHeld()) return true;
        rmSync(file, { force: true });
        return false;
      },
      { timeoutMs: 240_000, intervalMs: 100, what: 'the broker-restart suite to finish' },
    );
    sharedFile = file;
  }, 250_000);
  afterAll(() => {
    if (sharedFile) rmSync(sharedFile, { force: true });
    sharedFile = undefined;
  });
}

/** Call at the top level of a spec file that stops or restarts the broker: waits until no other AMQP suite runs. */
export function lockBrokerExclusively(): void {
  beforeAll(async () => {
    mkdirSync(LOCK_DIR, { recursive: true });
    await waitFor(
      () => {
        try {
          mkdirSync(EXCLUSIVE);
        } catch {
          exclusiveHeld();
          return false;
        }
        writeFileSync(join(EXCLUSIVE, 'pid'), String(process.pid));
        return true;
      },
      { timeoutMs: 240_000, intervalMs: 100, what: 'the exclusive broker lock' },
    );
    await waitFor(() => liveEntries('shared-').length === 0, {
      timeoutMs: 240_000,
      intervalMs: 100,
      what: 'other RabbitMQ suites to finish',
    });
  }, 500_000);
  afterAll(() => rmSync(EXCLUSIVE, { recursive: true, force: true }));
}
