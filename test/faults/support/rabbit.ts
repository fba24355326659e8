import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { AMQP_URL } from '../../support/rabbitmq.js';

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
