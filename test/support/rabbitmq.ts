import 'reflect-metadata';
import * as amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MessagingModuleOptions } from '../../lib/index.js';

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

/** Names of the queues or the exchanges on the shared broker (vhost "/"), from rabbitmqctl: read-only. */
export async function brokerNames(what: 'queues' | 'exchanges'): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', [`list_${what}`, '-q', '--no-table-headers', 'name'], { timeout: 30_000 });
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.length > 0);
}

/**
 * Call in a spec file that makes apps or declarations on the shared broker, after any afterAll that closes its apps
 * (a block's afterAll hooks run in the order they are declared, an inner block's before an outer block's; afterEach
 * hooks before them all): after all its tests, failed ones too, deletes every queue and exchange whose name
 * contains one of the names given to the returned `track` (unique names: a service name, a queue name or prefix, an
 * exchange; the library derives its queue names, -retry, -dlq and per-process ones, from them). `track` returns its
 * argument.
 */
export function cleanUpBrokerAfterAll(): <T extends string>(name: T) => T {
  const tracked: string[] = [];
  afterAll(async () => {
    if (tracked.length === 0) return;
    const ours = (names: string[]) => names.filter((name) => tracked.some((t) => name.includes(t)));
    const [queues, exchanges] = [ours(await brokerNames('queues')), ours(await brokerNames('exchanges'))];
    if (queues.length + exchanges.length === 0) return;
    const model = await rawConnection();
    try {
      const channel = await model.createChannel();
      for (const queue of queues) await channel.deleteQueue(queue);
      for (const exchange of exchanges) await channel.deleteExchange(exchange);
      await channel.close();
    } finally {
      await model.close();
    }
  }, 60_000);
  return (name) => {
    tracked.push(name);
    return name;
  };
}

/** The client-side port of an amqplib connection: how we find our own connection in `rabbitmqctl list_connections`. */
export function localPortOf(model: amqp.ChannelModel): number {
  const port = (model as unknown as { connection: { stream: { localPort?: number } } }).connection.stream.localPort;
  if (!port) throw new Error('connection has no local port');
  return port;
}

export type RabbitMqAppOptions = Omit<MessagingModuleOptions, 'transport'> & { transport?: 'amqp' };

/** Module options for an app on the shared broker: transport 'amqp' and AMQP_URL unless `options.amqp.url` sets one. */
export function rabbitMqOptions(options: RabbitMqAppOptions): MessagingModuleOptions {
  return { ...options, transport: 'amqp', amqp: { url: AMQP_URL, ...options.amqp } };
}

/**
 * Nothing restarts the shared broker any more (the destructive tests run on a node of their own, rabbitmq-node.ts), so
 * spec files no longer need to hold it: kept for the files that still call it at the top level.
 */
export function shareBroker(): void {}
