import * as amqp from 'amqplib';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localPortOf } from './rabbitmq.js';
import { nodectl, RUN_DIR_ENV, sharedNode, startNode, stopNode, type NodeInfo } from './rabbitmq-run.mjs';
import { waitFor } from './wait-for.js';

/**
 * A RabbitMQ node of the test run's own, for the destructive tests: closing connections from the broker side,
 * permission changes, blocked connections, restarts. Nothing of that may touch the shared broker at AMQP_URL, which
 * other people's tests and apps use at the same time.
 */
export interface RabbitNode {
  /** amqp://guest:guest@127.0.0.1:<its port> */
  readonly url: string;
  /** Its Erlang node name (rabbitmqctl -n). */
  readonly nodeName: string;
  readonly port: number;
  /** rabbitmqctl against this node; resolves to stdout. */
  rabbitmqctl(args: string[]): Promise<string>;
  /** A plain amqplib connection to this node; close it after the test. */
  connect(): Promise<amqp.ChannelModel>;
  /** Closes one connection from the broker side, found by the client's port: the test's own. */
  closeConnection(model: amqp.ChannelModel, reason?: string): Promise<void>;
}

/** A node a spec may restart: stop_app / start_app. */
export interface RestartableRabbitNode extends RabbitNode {
  /** Stops the RabbitMQ application (the Erlang node stays up). */
  stopApp(): Promise<void>;
  /** Starts it again and waits until it accepts AMQP connections. */
  startApp(): Promise<void>;
}

/** A node started for one caller, which stops it. */
export interface OwnRabbitNode extends RestartableRabbitNode {
  /** Stops the node and removes its directory. */
  stop(): Promise<void>;
}

function runDir(): string {
  const dir = process.env[RUN_DIR_ENV];
  if (!dir) throw new Error(`${RUN_DIR_ENV} is not set: run the tests through jest.config.js, whose globalSetup sets it`);
  return dir;
}

function canConnect(url: string): Promise<boolean> {
  return amqp.connect(url).then(
    (model) => model.close().then(() => true),
    () => false,
  );
}

function client(info: NodeInfo): OwnRabbitNode {
  const ctl = (args: string[]) => nodectl(info.nodeName, args);
  return {
    url: info.url,
    nodeName: info.nodeName,
    port: info.port,
    rabbitmqctl: ctl,
    connect: () => amqp.connect(info.url),
    async closeConnection(model, reason = 'test: connection closed by the broker') {
      const port = localPortOf(model);
      const pid = await waitFor(
        async () => {
          for (const line of (await ctl(['list_connections', '-q', '--no-table-headers', 'pid', 'peer_port'])).split('\n')) {
            const [p, peerPort] = line.trim().split(/\s+/);
            if (Number(peerPort) === port) return p;
          }
          return undefined;
        },
        { timeoutMs: 10_000, intervalMs: 200, what: `the connection from port ${port} on ${info.nodeName}` },
      );
      await ctl(['close_connection', pid, reason]);
    },
    async stopApp() {
      await ctl(['stop_app']);
    },
    async startApp() {
      await ctl(['start_app']);
      await waitFor(() => canConnect(info.url), {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: `${info.nodeName} to accept connections again`,
      });
    },
    stop: () => stopNode(info.dir),
  };
}

/**
 * Starts a node for the caller alone (about 8 s; the caller stops it). Prefer useRabbitNode(), which spec files
 * share: each start costs the machine's 2 cores several seconds of CPU.
 */
export async function startRabbitNode(): Promise<OwnRabbitNode> {
  return client(await startNode(runDir()));
}

/**
 * Call at the top level of a spec file with destructive tests: from beforeAll, `node` is the test run's shared node
 * (started by the first spec file that asks for it, stopped by globalTeardown). Spec files that only close their own
 * connections, change their own users' permissions or put a proxy in front share it freely; a file that restarts it
 * passes `{ restarts: true }` and holds it alone (the others wait, and it waits for them), so the node is never
 * restarted under another file's tests or by two files at once. Such a file's afterAll starts the app again in any
 * case before letting the others in.
 */
export function useRabbitNode(options: { restarts: true }): { readonly node: RestartableRabbitNode };
export function useRabbitNode(options?: { restarts?: false }): { readonly node: RabbitNode };
export function useRabbitNode(options: { restarts?: boolean } = {}): { readonly node: RestartableRabbitNode } {
  const holder = {} as { node: RestartableRabbitNode };
  let release: (() => void) | undefined;
  beforeAll(async () => {
    const info = await sharedNode(runDir());
    const locks = join(info.dir, '..', `${info.name}.users`);
    release = options.restarts ? await holdExclusively(locks) : await holdShared(locks);
    holder.node = client(info);
  }, 600_000);
  afterAll(async () => {
    try {
      if (options.restarts && holder.node) await holder.node.startApp();
    } finally {
      release?.();
    }
  }, 90_000);
  return holder;
}

/*
 * A cross-process reader/writer lock on the shared node between spec files run by parallel jest workers: files that
 * restart it take it exclusively, the others share it. Writer-preferring: once a writer announced itself, new readers
 * wait, and the writer waits for running readers. Entries of dead processes do not count.
 */
const EXCLUSIVE = 'exclusive';
const LOCK_WAIT = { timeoutMs: 400_000, intervalMs: 100 };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function exclusiveHeld(dir: string): boolean {
  let owner: number;
  try {
    owner = Number(readFileSync(join(dir, EXCLUSIVE, 'pid'), 'utf8'));
  } catch {
    return readdirSync(dir).includes(EXCLUSIVE); // just created, pid not written yet
  }
  if (alive(owner)) return true;
  rmSync(join(dir, EXCLUSIVE), { recursive: true, force: true });
  return false;
}

function liveReaders(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.startsWith('shared-') && alive(Number(name.split('-')[1])));
}

async function holdShared(dir: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `shared-${process.pid}-${Math.random().toString(36).slice(2)}`);
  await waitFor(
    () => {
      writeFileSync(file, '');
      if (!exclusiveHeld(dir)) return true;
      rmSync(file, { force: true });
      return false;
    },
    { ...LOCK_WAIT, what: 'the spec file restarting the RabbitMQ test node to finish' },
  );
  return () => rmSync(file, { force: true });
}

async function holdExclusively(dir: string): Promise<() => void> {
  mkdirSync(dir, { recursive: true });
  await waitFor(
    () => {
      try {
        mkdirSync(join(dir, EXCLUSIVE));
      } catch {
        exclusiveHeld(dir);
        return false;
      }
      writeFileSync(join(dir, EXCLUSIVE, 'pid'), String(process.pid));
      return true;
    },
    { ...LOCK_WAIT, what: 'the exclusive hold on the RabbitMQ test node' },
  );
  const release = () => rmSync(join(dir, EXCLUSIVE), { recursive: true, force: true });
  await waitFor(() => liveReaders(dir).length === 0, { ...LOCK_WAIT, what: 'the other spec files on the RabbitMQ test node' }).catch(
    (error: unknown) => {
      release();
      throw error;
    },
  );
  return release;
}
