import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import type { HarnessConfig } from '../harness/config.js';
import { buildHarness } from './build-harness.js';

export interface ConsumerChild {
  process: ChildProcess;
  /** Every stdout/stderr line the child wrote (its Nest logs at all levels). */
  output: string[];
  ready: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the compiled consumer harness in a child process; `ready` resolves once it consumes. */
export function startConsumerChild(config: HarnessConfig, output: string[] = []): ConsumerChild {
  const entry = buildHarness();
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, FAULTS_CONFIG: JSON.stringify(config), NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const collect = (stream: NodeJS.ReadableStream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        output.push(line);
        if (line === 'READY') readyResolve();
        if (process.env.FAULTS_LOGS) process.stderr.write(`[child ${child.pid}] ${line}\n`);
      }
    });
    stream.on('end', () => {
      if (rest) output.push(rest);
    });
  };
  collect(child.stdout!);
  collect(child.stderr!);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      readyReject(
        new Error(`consumer child exited (code ${code}, signal ${signal}) before it was ready:\n${output.slice(-30).join('\n')}`),
      );
      resolve({ code, signal });
    });
  });
  ready.catch(() => undefined);
  return { process: child, output, ready, exited };
}

/** The message numbers a child appended to `file`, one per line, in order (duplicates kept). */
export function readNumbers(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}
