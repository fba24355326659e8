/** Runner side: runs one subject in a child process and returns what it reported. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDist = join(dirname(fileURLToPath(import.meta.url)), '..');
export const repoRoot = join(benchDist, '..', '..');

export interface SpawnOptions {
  /** Write a V8 CPU profile of the child into bench/profiles/ (BENCH_CPU_PROF=1 turns it on for every subject). */
  cpuProf?: string;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Extra node flags for the child (e.g. --expose-gc). */
  nodeArgs?: string[];
}

export function runSubject<T>(
  moduleName: string,
  exportName: string,
  params: Record<string, unknown>,
  options: SpawnOptions = {},
): Promise<T> {
  const args: string[] = [...(options.nodeArgs ?? [])];
  const profName = options.cpuProf ?? (process.env.BENCH_CPU_PROF ? `${moduleName}.${exportName}` : undefined);
  if (profName) {
    const dir = join(repoRoot, 'bench', 'profiles');
    mkdirSync(dir, { recursive: true });
    args.push('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${profName}.cpuprofile`);
  }
  args.push(join(benchDist, 'child.js'), moduleName, exportName);
  const label = `${moduleName}.${exportName}`;
  process.stderr.write(`  · ${label} ${JSON.stringify(params)}\n`);
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, ...options.env, BENCH_PARAMS: JSON.stringify(params) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${label} did not finish within ${options.timeoutMs} ms\n${tail(err)}`));
    }, options.timeoutMs ?? 600_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('BENCH_RESULT '));
      if (code === 0 && line) resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as T);
      else reject(new Error(`${label} exited with ${code}\n${tail(err)}${tail(out)}`));
    });
  });
}

function tail(text: string): string {
  return text.split('\n').slice(-25).join('\n');
}

/** Starts fauxqs in its own process (so its CPU is not charged to the subject) and returns its endpoint. */
export async function startFauxqsProcess(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [join(benchDist, 'support', 'fauxqs-server.js')], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /FAUXQS_PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`fauxqs exited with ${code}`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
