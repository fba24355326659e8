import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AMQP_URL } from '../../support/rabbitmq.js';
import { waitFor } from '../../support/wait-for.js';

const run = promisify(execFile);

/**
 * A RabbitMQ user of our own with a distinctive password, so the suite can check that no log line carries it.
 * Created with rabbitmqctl (vhost "/", full permissions on it), deleted at the end.
 */
export async function createAmqpUser(): Promise<{ user: string; password: string; url: string; remove: () => Promise<void> }> {
  const suffix = randomBytes(6).toString('hex');
  const user = `faults-${suffix}`;
  const password = `faultsAmqpPw${randomBytes(8).toString('hex')}`;
  await run('rabbitmqctl', ['add_user', user, password]);
  await run('rabbitmqctl', ['set_permissions', '-p', '/', user, '.*', '.*', '.*']);
  const base = new URL(AMQP_URL);
  const url = `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${base.host}${base.pathname === '/' ? '' : base.pathname}`;
  return { user, password, url, remove: async () => { await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined); } };
}

export interface DrainedMessage {
  content: Buffer;
  headers: Record<string, unknown>;
}

/** Takes every message out of a queue (basic.get, no-ack). */
export async function drainQueue(queue: string): Promise<DrainedMessage[]> {
  const model = await amqp.connect(AMQP_URL);
  try {
    const channel = await model.createChannel();
    const out: DrainedMessage[] = [];
    for (;;) {
      const msg = await channel.get(queue, { noAck: true });
      if (!msg) break;
      out.push({ content: msg.content, headers: msg.properties.headers ?? {} });
    }
    await channel.close();
    return out;
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** Deletes queues and an exchange (throwaway channels, errors ignored). */
export async function deleteAmqpObjects(queues: string[], exchange?: string): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  try {
    for (const q of queues) {
      const ch = await model.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    if (exchange) {
      const ch = await model.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(exchange).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await model.close().catch(() => undefined);
  }
}

/*
 * The cross-process reader/writer lock between spec files that use RabbitMQ (same directory and protocol as the
 * AMQP integration suite's lock in test/support/rabbitmq.ts, so both suites respect each other): ordinary suites
 * share the broker, a suite that runs stop_app/start_app takes it exclusively.
 */
const LOCK_DIR = join(tmpdir(), 'nestjs-messaging-rabbitmq-lock');
const EXCLUSIVE = join(LOCK_DIR, 'exclusive');

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function liveEntries(prefix: string): string[] {
  return readdirSync(LOCK_DIR).filter((name) => {
    if (!name.startsWith(prefix)) return false;
    if (alive(Number(name.split('-')[1]))) return true;
    rmSync(join(LOCK_DIR, name), { recursive: true, force: true });
    return false;
  });
}

function exclusiveHeld(): boolean {
  if (!existsSync(EXCLUSIVE)) return false;
  let owner = 0;
  try { owner = Number(readFileSync(join(EXCLUSIVE, 'pid'), 'utf8')); } catch { /* being written */ }
  if (owner && !alive(owner)) { rmSync(EXCLUSIVE, { recursive: true, force: true }); return false; }
  return true;
}

/** Call at the top level of a spec file that uses RabbitMQ without restarting it. */
export function shareBroker(): void {
  let file: string | undefined;
  beforeAll(async () => {
    mkdirSync(LOCK_DIR, { recursive: true });
    const candidate = join(LOCK_DIR, `shared-${process.pid}-${Math.random().toString(36).slice(2)}`);
    await waitFor(() => {
      writeFileSync(candidate, '');
      if (!exclusiveHeld()) return true;
      rmSync(candidate, { force: true });
      return false;
    }, { timeoutMs: 240_000, intervalMs: 100, what: 'the broker-restart suite to finish' });
    file = candidate;
  }, 250_000);
  afterAll(() => { if (file) rmSync(file, { force: true }); file = undefined; });
}

/** Call at the top level of a spec file that stops and starts the broker: waits until no other RabbitMQ suite runs. */
export function lockBrokerExclusively(): void {
  beforeAll(async () => {
    mkdirSync(LOCK_DIR, { recursive: true });
    await waitFor(() => {
      try { mkdirSync(EXCLUSIVE); } catch { exclusiveHeld(); return false; }
      writeFileSync(join(EXCLUSIVE, 'pid'), String(process.pid));
      return true;
    }, { timeoutMs: 240_000, intervalMs: 100, what: 'the exclusive broker lock' });
    await waitFor(() => liveEntries('shared-').length === 0, { timeoutMs: 240_000, intervalMs: 100, what: 'other RabbitMQ suites to finish' });
  }, 500_000);
  afterAll(() => rmSync(EXCLUSIVE, { recursive: true, force: true }));
}
