// One test run's RabbitMQ bookkeeping: the run's marker, the RabbitMQ nodes it starts for destructive tests, and
// what it leaves on the shared broker. Plain ESM because jest loads globalSetup / globalTeardown outside its module
// system (a TypeScript hook cannot import another TypeScript file); the types are in rabbitmq-run.d.mts, and
// test/support/rabbitmq-node.ts builds the tests' API on it.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The run's marker (globalSetup sets it, workers and their children inherit it): part of every uniqueName(). */
export const RUN_ENV = 'NESTJS_MESSAGING_TEST_RUN';
/** The directory of the run's own RabbitMQ nodes. */
export const RUN_DIR_ENV = 'NESTJS_MESSAGING_TEST_RUN_DIR';

const RUN_DIR_PREFIX = 'nestjs-messaging-rabbit-';
const NODE_FILE = 'node.json';
const SHARED_POINTER = 'shared-node';
const SHARED_LOCK = 'shared-node.lock';
const START_TIMEOUT_MS = 90_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readText(path) {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

/** rabbitmqctl against the shared broker (the local default node); resolves to stdout. */
export async function rabbitmqctl(args, timeoutMs = 30_000) {
  const { stdout } = await run('rabbitmqctl', args, { timeout: timeoutMs });
  return stdout;
}

const NODE_NAME = /^nmtest-[0-9a-f]+@localhost$/;

/**
 * rabbitmqctl against one of the tests' own nodes (startNode), never the shared broker: a node name that is not one
 * of theirs (a missing one included, which would mean the default node) is refused.
 */
export async function nodectl(nodeName, args, timeoutMs = 30_000) {
  if (!NODE_NAME.test(String(nodeName))) throw new Error(`refusing rabbitmqctl ${args[0]} on ${nodeName}: not a test node`);
  return rabbitmqctl(['-n', nodeName, ...args], timeoutMs);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function portAnswers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Creates the run's directory, owned by this process (the reaper of a later run removes it once this pid is gone). */
export function createRunDir(runId) {
  const dir = join(tmpdir(), `${RUN_DIR_PREFIX}${runId}`);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  writeFileSync(join(dir, 'owner'), String(process.pid));
  return dir;
}

/**
 * Starts a RabbitMQ node of its own in a directory under `runDir`: its own config (AMQP on a free 127.0.0.1 port,
 * guest allowed), database, logs and Erlang distribution port, the server running as the rabbitmq user as the
 * Debian package wants it. Resolves once the node has booted and accepts AMQP connections; on failure the node is
 * stopped and its directory removed.
 */
export async function startNode(runDir) {
  const name = `nmtest-${randomBytes(4).toString('hex')}`;
  const nodeName = `${name}@localhost`;
  const dir = join(runDir, name);
  const [port, distPort] = [await freePort(), await freePort()];
  mkdirSync(join(dir, 'mnesia'), { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, 'log'), { mode: 0o755 });
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${port}\nloopback_users = none\n`);
  const info = { name, nodeName, dir, port, url: `amqp://guest:guest@127.0.0.1:${port}` };
  writeFileSync(join(dir, NODE_FILE), JSON.stringify(info));
  if (process.getuid?.() === 0) await run('chown', ['-R', 'rabbitmq:rabbitmq', dir]);
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: nodeName,
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq.conf'),
  };
  try {
    await new Promise((resolve, reject) => {
      const server = spawn('rabbitmq-server', ['-detached'], { env, stdio: 'ignore' });
      server.on('error', reject);
      server.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rabbitmq-server -detached exited with ${code}`))));
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!(await portAnswers(port))) {
      if (Date.now() > deadline) throw new Error(`node ${nodeName} does not listen on ${port} after ${START_TIMEOUT_MS} ms`);
      await sleep(200);
    }
    await nodectl(nodeName, ['await_startup'], START_TIMEOUT_MS);
    return info;
  } catch (error) {
    const log = readText(join(dir, 'log', `${nodeName}.log`))
      .split('\n')
      .slice(-15)
      .join('\n');
    await stopNode(dir);
    throw new Error(`could not start a RabbitMQ node for the tests: ${error.message}\n${log}`, { cause: error });
  }
}

/**
 * The pid of the node started in `dir` while it runs: the pid file's, if that process was started with this pid file
 * (its environment says so), so that a pid reused by another process since is never taken for the node.
 */
function nodePid(dir) {
  const pidFile = join(dir, 'pid');
  const pid = Number(readText(pidFile));
  if (!alive(pid)) return undefined;
  return readText(`/proc/${pid}/environ`).split('\0').includes(`RABBITMQ_PID_FILE=${pidFile}`) ? pid : undefined;
}

/** Stops the node in `dir` (rabbitmqctl stop, then SIGKILL if it lingers) and removes the directory. */
export async function stopNode(dir) {
  const info = JSON.parse(readText(join(dir, NODE_FILE)) || '{}');
  const pid = nodePid(dir); // read before the stop: the node removes its pid file early in its shutdown
  if (info.nodeName && pid) {
    await nodectl(info.nodeName, ['stop']).catch(() => undefined);
    const deadline = Date.now() + 15_000;
    while (alive(pid) && Date.now() < deadline) await sleep(100);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The run's node for destructive tests that spec files share: started by the first file that asks for it (the
 * others wait for it, across jest workers), stopped by globalTeardown (stopRunNodes).
 */
export async function sharedNode(runDir) {
  const pointer = join(runDir, SHARED_POINTER);
  const lock = join(runDir, SHARED_LOCK);
  const deadline = Date.now() + 2 * START_TIMEOUT_MS;
  for (;;) {
    const dir = readText(pointer);
    if (dir) return JSON.parse(readText(join(dir, NODE_FILE)));
    try {
      mkdirSync(lock);
    } catch {
      if (Date.now() > deadline) throw new Error(`timed out waiting for another test file to start the run's RabbitMQ node`);
      await sleep(200);
      continue;
    }
    try {
      if (!readText(pointer)) writeFileSync(pointer, (await startNode(runDir)).dir);
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Stops every node of a run and removes the run's directory. */
export async function stopRunNodes(runDir) {
  if (!existsSync(runDir)) return;
  const nodes = readdirSync(runDir).filter((entry) => existsSync(join(runDir, entry, NODE_FILE)));
  await Promise.all(nodes.map((entry) => stopNode(join(runDir, entry))));
  rmSync(runDir, { recursive: true, force: true });
}

/** Nodes of earlier runs whose jest process is gone (killed before its globalTeardown): stopped and removed. */
export async function reapAbandonedRuns() {
  const base = tmpdir();
  const abandoned = readdirSync(base)
    .filter((entry) => entry.startsWith(RUN_DIR_PREFIX))
    .map((entry) => join(base, entry))
    .filter((dir) => {
      const owner = Number(readText(join(dir, 'owner')));
      return owner > 0 && !alive(owner);
    });
  for (const dir of abandoned) await stopRunNodes(dir);
  return abandoned;
}

const lines = (stdout) =>
  stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);

/**
 * What tests can create on the shared broker (the local default node), as "<kind> <vhost> <name>" strings: queues,
 * exchanges and policies per vhost, users, vhosts. Read-only (rabbitmqctl, no management plugin needed).
 */
export async function brokerResources() {
  // Retried for a minute: a broker restarting (a test of another code base, an operator) answers again soon; a missing
  // rabbitmqctl (ENOENT) or a node that is not running (exit 69) fails at once.
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await listResources();
    } catch (error) {
      if (error.code === 'ENOENT' || error.code === 69 || Date.now() > deadline) throw error;
      await sleep(1000);
    }
  }
}

async function listResources() {
  const list = async (args, column = 0) =>
    lines(await rabbitmqctl([...args, '-q', '--no-table-headers'])).map((l) => l.split('\t')[column]);
  const [vhosts, users] = await Promise.all([list(['list_vhosts', 'name']), list(['list_users'])]);
  const resources = [...vhosts.map((v) => `vhost / ${v}`), ...users.map((u) => `user / ${u}`)];
  for (const vhost of vhosts) {
    const [queues, exchanges, policies] = await Promise.all([
      list(['list_queues', '-p', vhost, 'name']),
      list(['list_exchanges', '-p', vhost, 'name']),
      list(['list_policies', '-p', vhost], 1), // no column choice: vhost, name, pattern, apply-to, definition, priority
    ]);
    resources.push(...queues.map((q) => `queue ${vhost} ${q}`), ...exchanges.map((e) => `exchange ${vhost} ${e}`));
    resources.push(...policies.map((p) => `policy ${vhost} ${p}`));
  }
  return resources;
}

/** Deletes resources listed by brokerResources(); exchanges over AMQP (`amqpUrl`, vhost "/" only), the rest with rabbitmqctl. */
export async function deleteResources(resources, amqpUrl) {
  for (const resource of resources) {
    const [kind, vhost, ...rest] = resource.split(' ');
    const name = rest.join(' ');
    if (kind === 'queue') await rabbitmqctl(['delete_queue', '-p', vhost, name]);
    else if (kind === 'user') await rabbitmqctl(['delete_user', name]);
    else if (kind === 'vhost') await rabbitmqctl(['delete_vhost', name]);
    else if (kind === 'policy') await rabbitmqctl(['clear_policy', '-p', vhost, name]);
    else if (kind === 'exchange' && vhost === '/') await deleteExchange(name, amqpUrl);
  }
}

async function deleteExchange(name, amqpUrl) {
  const amqp = await import('amqplib');
  const model = await amqp.connect(amqpUrl);
  try {
    const channel = await model.createChannel();
    await channel.deleteExchange(name);
    await channel.close();
  } finally {
    await model.close();
  }
}
