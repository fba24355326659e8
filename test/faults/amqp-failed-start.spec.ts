import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { closedPort } from '../support/ports.js';
import { uniqueName } from '../support/wait-for.js';
import { buildHarness } from './support/build-harness.js';

/**
 * Issue 9, finding 4: a service whose AMQP startup fails (nothing listens) and which catches the error must be able
 * to exit: no reconnect loop, timer or socket may outlive the failed start.
 */
const CONNECT_TIMEOUT_MS = 1500;
/** Generous for 2 shared cores: Nest boot plus the connect timeout plus exit. */
const EXIT_BOUND_MS = CONNECT_TIMEOUT_MS + 8000;

function runFailedStart(url: string): Promise<{ code: number | null; output: string[]; exitedAfterMs?: number; failedAfterMs?: number }> {
  const entry = join(dirname(buildHarness()), 'failed-start.js');
  const config = {
    topic: uniqueName('failed-start'),
    module: {
      transport: 'amqp',
      serviceName: uniqueName('svc'),
      amqp: { url, connectTimeout: CONNECT_TIMEOUT_MS, reconnectDelay: { initial: 200, max: 30_000 } },
    },
  };
  const started = Date.now();
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, FAILED_START_CONFIG: JSON.stringify(config), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let failedAfterMs: number | undefined;
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      output.push(line);
      if (line.startsWith('START FAILED')) failedAfterMs = Date.now() - started;
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  return new Promise((resolve) => {
    const bound = setTimeout(() => {
      child.kill('SIGKILL');
    }, EXIT_BOUND_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(bound);
      const exitedAfterMs = signal === 'SIGKILL' ? undefined : Date.now() - started;
      resolve({ code, output, exitedAfterMs, failedAfterMs });
    });
  });
}

describe('faults: AMQP startup that fails', () => {
  it('against a closed port: BrokerConnectionError after connectTimeout, then the process exits on its own', async () => {
    const port = await closedPort();
    const result = await runFailedStart(`amqp://guest:guest@127.0.0.1:${port}`);
    const failure = result.output.find((l) => l.startsWith('START FAILED'));
    console.log(
      `failed start: error after ${result.failedAfterMs} ms, process ${result.exitedAfterMs === undefined ? `still running after ${EXIT_BOUND_MS} ms (killed)` : `exited ${result.exitedAfterMs} ms after spawn`}; retry log lines: ${result.output.filter((l) => /retrying in/.test(l)).length}`,
    );
    expect(failure).toMatch(
      /^START FAILED BrokerConnectionError: amqp: no connection to amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+: no connection within 1500 ms/,
    );
    expect(result.exitedAfterMs).toBeDefined();
    expect(result.code).toBe(0);
    // nothing kept retrying after the failure was reported
    const afterFailure = result.output.slice(result.output.indexOf(failure!) + 1);
    expect(afterFailure.filter((l) => /retrying in/.test(l))).toEqual([]);
  }, 30_000);
});
