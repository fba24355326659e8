// The consumer test: packs the library, installs the tarball into fresh apps (one per template folder here, no
// overrides), compiles the README's "Use" code in each with "strict": true, and boots every app on its transports:
// one @nestjs/core in the tree, a filtered handler receives one message with its attributes, emit resolves,
// SIGTERM closes the app. `npm run test:consumer`; CI runs it after the suite.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as amqp from 'amqplib';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const INSTALL_TIMEOUT_MS = 300_000;
const BOOT_TIMEOUT_MS = 60_000;
const DELIVERY_TIMEOUT_MS = 30_000;
// an idle SNS+SQS app's stop lets its open long poll end: up to snsSqs.waitTimeSeconds (20 s by default) plus about
// a second (README, "Shutdown on SNS+SQS"); an AMQP app closes in milliseconds
const CLOSE_TIMEOUT_MS = 25_000;
const EXAMPLE_TEST_TIMEOUT_MS = 120_000;
const runId = randomBytes(3).toString('hex');

class Failure extends Error {}

/** Runs a command to completion (bounded); resolves with its output, rejects with it on a non-zero exit. */
function run(command, args, options = {}) {
  const { cwd = root, env = process.env, timeoutMs = INSTALL_TIMEOUT_MS } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Failure(`${command} ${args.join(' ')} (in ${cwd}) exited ${code ?? signal}:\n${output.slice(-4000)}`));
    });
  });
}

/** The README's "Use" files: fenced blocks whose info string names a path under src/. */
async function readmeFiles() {
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const files = new Map();
  for (const match of readme.matchAll(/^```ts (src\/[\w./-]+)\n([\s\S]*?)^```$/gm)) files.set(match[1], match[2]);
  for (const required of ['src/main.ts', 'src/app.module.ts']) {
    if (!files.has(required)) throw new Failure(`README.md has no \`\`\`ts ${required} block`);
  }
  return files;
}

async function pack(destination) {
  const output = await run('npm', ['pack', '--pack-destination', destination, '--json', '--ignore-scripts=false'], { timeoutMs: 180_000 });
  const [info] = JSON.parse(output.slice(output.indexOf('[')));
  return {
    tarball: join(destination, info.filename),
    files: info.files.map((f) => f.path).sort(),
    size: info.size,
    unpackedSize: info.unpackedSize,
  };
}

/** Bytes on disk under node_modules, and how many packages it holds (nested copies included). */
async function installSize(dir) {
  let bytes = 0;
  let packages = 0;
  async function walk(path) {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        bytes += (await stat(full)).size;
        if (entry.name === 'package.json' && /node_modules\/(@[^/]+\/)?[^/@]+\/package\.json$/.test(full)) packages += 1;
      }
    }
  }
  await walk(dir);
  return { megabytes: bytes / 1024 / 1024, packages };
}

/** Creates the app from a template folder and the README's files, installs it with the tarball, compiles it. */
async function prepareApp(template, tarball, files, workRoot) {
  const appDir = join(workRoot, template);
  await mkdir(appDir, { recursive: true });
  await cp(join(here, template, 'package.json'), join(appDir, 'package.json'));
  await cp(join(here, template, 'tsconfig.json'), join(appDir, 'tsconfig.json'));
  for (const [path, content] of files) {
    await mkdir(dirname(join(appDir, path)), { recursive: true });
    await writeFile(join(appDir, path), content);
  }
  const manifest = JSON.parse(await readFile(join(appDir, 'package.json'), 'utf8'));
  // the README's example test imports @nestjs/testing, as a Nest app's tests do: the one matching the template's Nest
  const testing = `@nestjs/testing@${manifest.dependencies['@nestjs/core']}`;
  await run('npm', ['install', '--no-audit', '--no-fund', '--no-package-lock', tarball, testing], { cwd: appDir });
  await run(process.execPath, [join(appDir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
    cwd: appDir,
    timeoutMs: 180_000,
  });
  return { appDir, manifest };
}

async function checkTree(appDir, manifest) {
  for (const name of ['@nestjs/core', '@nestjs/common', '@nestjs/microservices']) {
    const output = await run('npm', ['ls', name, '--all', '--parseable'], { cwd: appDir }).catch((error) => {
      throw new Failure(`npm ls ${name} failed in ${appDir}: ${error.message}`);
    });
    const copies = [
      ...new Set(
        output
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean),
      ),
    ];
    if (copies.length !== 1) throw new Failure(`expected one ${name} in ${appDir}, found ${copies.length}:\n${copies.join('\n')}`);
  }
  const core = JSON.parse(await readFile(join(appDir, 'node_modules', '@nestjs', 'core', 'package.json'), 'utf8')).version;
  for (const absent of manifest.consumerTest.absent) {
    if (existsSync(join(appDir, 'node_modules', absent)))
      throw new Failure(`${absent} is installed in ${appDir} although the app does not use its transport`);
  }
  return core;
}

function appEnv(transport, prefix, endpoint) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: '1',
    PORT: '0',
    MESSAGING_TRANSPORT: transport,
    MESSAGING_PREFIX: prefix,
    AMQP_URL,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Starts `node dist/main.js`; `waitFor(pattern, ms)` resolves with the first match in its output. */
function startApp(appDir, env) {
  const child = spawn(process.execPath, ['dist/main.js'], { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const watchers = new Set();
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const onData = (chunk) => {
    output += chunk;
    for (const w of watchers) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  function waitFor(pattern, ms, what) {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = output.match(pattern);
        if (match) {
          done();
          resolve(match);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Failure(`no ${what} within ${ms} ms; output:\n${output.slice(-4000)}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        watchers.delete(check);
      };
      watchers.add(check);
      void exited.then(({ code, signal }) => {
        if (!watchers.has(check)) return;
        done();
        reject(new Failure(`the app exited (${code ?? signal}) before ${what}; output:\n${output.slice(-4000)}`));
      });
      check();
    });
  }
  return { child, waitFor, exited, output: () => output };
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (response.status !== 202) throw new Failure(`POST ${url} answered ${response.status}: ${await response.text()}`);
}

/** The README's example tests (```ts src/….test.ts blocks) as compiled into dist/. */
function exampleTests(files) {
  const tests = [...files.keys()]
    .filter((path) => /\.test\.ts$/.test(path))
    .map((path) => path.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js'));
  if (tests.length === 0) throw new Failure('README.md has no ```ts src/….test.ts block (the testing kit example)');
  return tests;
}

/**
 * Runs the README's example tests with Node's test runner in the installed app, with no broker address in the
 * environment (the testing kit replaces the broker); fails when a test fails. Resolves with the runner's counts.
 */
async function runExampleTests(appDir, tests) {
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };
  const output = await run(process.execPath, ['--test', '--test-reporter=tap', ...tests], {
    cwd: appDir,
    env,
    timeoutMs: EXAMPLE_TEST_TIMEOUT_MS,
  }).catch((error) => {
    throw new Failure(`README example test failed in ${appDir}: ${error.message}`);
  });
  const count = (name) => Number(output.match(new RegExp(`^# ${name} (\\d+)$`, 'm'))?.[1] ?? NaN);
  const result = { pass: count('pass'), fail: count('fail') + count('cancelled'), skipped: count('skipped') + count('todo') };
  if (!(result.pass > 0) || result.fail !== 0 || result.skipped !== 0) {
    throw new Failure(
      `README example test in ${appDir}: expected passing tests only, got ${JSON.stringify(result)}:\n${output.slice(-3000)}`,
    );
  }
  return result;
}

/** Deletes the queues the apps of this run declared on RabbitMQ (their names start with `c<runId>`): CI leaves nothing. */
async function deleteRunQueues(runId) {
  const { stdout } = await promisify(execFile)('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name'], { timeout: 30_000 });
  const queues = stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((name) => name.startsWith(`c${runId}`));
  if (queues.length === 0) return;
  const connection = await amqp.connect(AMQP_URL);
  try {
    const channel = await connection.createChannel();
    for (const queue of queues) await channel.deleteQueue(queue);
    await channel.close();
  } finally {
    await connection.close();
  }
}

/** Boots the app on one transport, publishes a filtered-out and a matching order, checks delivery, SIGTERMs it. */
async function bootOnTransport(appDir, transport, prefix, endpoint) {
  const started = Date.now();
  const app = startApp(appDir, appEnv(transport, prefix, endpoint));
  try {
    const [, url] = await app.waitFor(/listening on (http:\/\/\S+)/, BOOT_TIMEOUT_MS, 'listening line');
    const bootMs = Date.now() - started;
    // SEK first: on AMQP the queue is ordered, so once EUR is handled SEK was seen (and filtered) before it;
    // on SNS+SQS the subscription's filter policy keeps SEK out of the queue altogether.
    await post(`${url}/orders/paid`, { orderId: `sek-${prefix}`, amount: 75, currency: 'SEK' });
    await post(`${url}/orders/paid`, { orderId: `eur-${prefix}`, amount: 100, currency: 'EUR' });
    await app.waitFor(new RegExp(`order eur-${prefix} paid: 100 EUR \\(attempt 1\\)`), DELIVERY_TIMEOUT_MS, 'handled EUR order');
    if (app.output().includes(`order sek-${prefix}`)) throw new Failure(`the SEK order passed the filter policy on ${transport}`);
    if (/will never receive a message/.test(app.output()))
      throw new Failure('the unstarted-server warning fired although the strategy is connected');
    const closing = Date.now();
    app.child.kill('SIGTERM');
    const exit = await Promise.race([app.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), CLOSE_TIMEOUT_MS))]);
    if (!exit) throw new Failure(`the app did not exit within ${CLOSE_TIMEOUT_MS} ms of SIGTERM; output:\n${app.output().slice(-3000)}`);
    const closeMs = Date.now() - closing;
    if (!(exit.code === 0 || exit.signal === 'SIGTERM'))
      throw new Failure(`the app exited ${exit.code ?? exit.signal} after SIGTERM; output:\n${app.output().slice(-3000)}`);
    const errors = app
      .output()
      .split('\n')
      .filter((line) => /\bERROR\b/.test(line));
    if (errors.length > 0) throw new Failure(`the app logged errors:\n${errors.join('\n')}`);
    return { bootMs, closeMs };
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
  }
}

/** The transport the template does not install must fail at startup naming the packages to install. */
async function checkMissingTransport(appDir, transport, prefix, endpoint) {
  const expected =
    transport === 'amqp'
      ? /transport 'amqp' needs "amqplib"[^\n]*npm install amqplib/
      : /transport 'sns-sqs' needs "@aws-sdk\/client-sns" and "@aws-sdk\/client-sqs"[^\n]*npm install @aws-sdk\/client-sns @aws-sdk\/client-sqs/;
  const app = startApp(appDir, appEnv(transport, prefix, endpoint));
  try {
    await app.waitFor(expected, BOOT_TIMEOUT_MS, `MissingDependencyError for transport '${transport}'`);
    const exit = await Promise.race([app.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), CLOSE_TIMEOUT_MS))]);
    if (!exit) throw new Failure(`the app kept running after the MissingDependencyError for '${transport}'`);
  } finally {
    if (app.child.exitCode === null && app.child.signalCode === null) app.child.kill('SIGKILL');
  }
}

async function main() {
  const only = process.argv.slice(2);
  const templates = (await readdir(here, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && existsSync(join(here, e.name, 'package.json')) && (only.length === 0 || only.includes(e.name)))
    .map((e) => e.name)
    .sort();
  const workRoot = await mkdtemp(join(tmpdir(), 'nestjs-messaging-consumer-'));
  const { startFauxqs } = await import('fauxqs');
  const fauxqs = await startFauxqs({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${fauxqs.port}`;
  const rows = [];
  let failed = 0;
  try {
    const files = await readmeFiles();
    const tests = exampleTests(files);
    const packed = await pack(workRoot);
    console.log(
      `packed ${packed.tarball}: ${packed.files.length} files, ${(packed.size / 1024).toFixed(1)} kB (${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked)`,
    );
    const outside = packed.files.filter((f) => !/^(dist\/(esm|cjs)\/|README\.md$|CHANGELOG\.md$|LICENSE$|package\.json$)/.test(f));
    if (outside.length > 0)
      throw new Failure(`the tarball holds files beyond dist, README, CHANGELOG, LICENSE and package.json: ${outside.join(', ')}`);
    const groups = new Map();
    for (const f of packed.files) {
      const group = f.startsWith('dist/') ? f.split('/').slice(0, 2).join('/') + '/' : f;
      groups.set(group, (groups.get(group) ?? 0) + 1);
    }
    console.log(`tarball contents: ${[...groups].map(([group, count]) => (count > 1 ? `${group} (${count} files)` : group)).join(', ')}`);
    // installs run side by side (network-bound); boots run one after another
    const prepared = await Promise.all(
      templates.map((t) =>
        prepareApp(t, packed.tarball, files, workRoot).then(
          (app) => ({ template: t, ...app }),
          (error) => ({ template: t, error }),
        ),
      ),
    );
    for (const app of prepared) {
      if (app.error) {
        failed += 1;
        console.error(`FAIL ${app.template}: ${app.error.message}`);
        continue;
      }
      try {
        const nest = await checkTree(app.appDir, app.manifest);
        const size = await installSize(join(app.appDir, 'node_modules'));
        const tested = await runExampleTests(app.appDir, tests);
        console.log(`ok   ${app.template}: README example test (${tests.join(', ')}): ${tested.pass} passed, no broker`);
        const transports = app.manifest.consumerTest.transports;
        for (const [index, transport] of transports.entries()) {
          const prefix = `c${runId}${app.template.replace(/[^a-z0-9]/g, '').slice(-6)}${index}-`;
          const { bootMs, closeMs } = await bootOnTransport(app.appDir, transport, prefix, endpoint);
          rows.push({
            template: app.template,
            nest,
            transport,
            installMB: size.megabytes.toFixed(1),
            packages: size.packages,
            bootMs,
            closeMs,
          });
          console.log(`ok   ${app.template} (Nest ${nest}) on ${transport}: boot ${bootMs} ms, close ${closeMs} ms`);
        }
        for (const transport of ['sns-sqs', 'amqp'].filter((t) => !transports.includes(t))) {
          await checkMissingTransport(app.appDir, transport, `m${runId}-`, endpoint);
          console.log(`ok   ${app.template}: transport '${transport}' without its package fails at startup with MissingDependencyError`);
        }
      } catch (error) {
        failed += 1;
        console.error(`FAIL ${app.template}: ${error.message}`);
      }
    }
  } finally {
    await fauxqs.stop();
    await deleteRunQueues(runId).catch((error) => {
      failed += 1;
      console.error(`FAIL could not delete this run's queues on RabbitMQ: ${error.message}`);
    });
    if (failed === 0) await rm(workRoot, { recursive: true, force: true });
    else console.error(`apps kept for inspection in ${workRoot}`);
  }
  console.log('\n| template | Nest | transport | node_modules MB | packages | boot ms | close ms |');
  console.log('|---|---|---|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(`| ${r.template} | ${r.nest} | ${r.transport} | ${r.installMB} | ${r.packages} | ${r.bootMs} | ${r.closeMs} |`);
  if (failed > 0) {
    console.error(`\n${failed} template(s) failed`);
    process.exit(1);
  }
  console.log(`\nall ${templates.length} templates passed`);
}

main().catch((error) => {
  console.error(error instanceof Failure ? error.message : error);
  process.exit(1);
});
