/** Shared helpers for the benchmark subjects (run in child processes) and the benchmark drivers (run in the runner). */
import { randomUUID } from 'node:crypto';

export const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/** BENCH_SCALE=0.1 for a smoke run; counts never drop below `min`. */
export function scaled(n: number, min = 10): number {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  return Math.max(min, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomUUID().slice(0, 6)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A ~100-byte JSON payload (the data the application emits). */
export function payload(i: number): { i: number; orderId: string; amount: number; currency: string; note: string } {
  return { i, orderId: `order-${String(i).padStart(8, '0')}`, amount: 1000 + (i % 997), currency: 'EUR', note: 'benchmark payload...' };
}

/** The same envelope shape the library writes (tomodachi JSON), so hand-written baselines move the same bytes. */
export function handEnvelope(topic: string, data: unknown): string {
  return JSON.stringify({
    service: { name: 'bench', uuid: '00000000-0000-4000-8000-000000000000' },
    metadata: {
      message_uuid: `00000000-0000-4000-8000-000000000000.${randomUUID()}`,
      protocol_version: 'tomodachi-json-base--1.0.0',
      compatible_protocol_versions: ['json_base-wip'],
      timestamp: Date.now() / 1000,
      topic,
      data_encoding: 'raw',
    },
    data,
  });
}

/** Runs `fn(0..n-1)` with at most `window` calls in flight. */
export async function pump(n: number, window: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < n && failure === undefined) {
      const i = next++;
      try {
        await fn(i);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, n) }, worker));
  if (failure !== undefined) throw failure;
}

/** Wall and CPU time of the measured phase only (setup and teardown excluded). */
export class Meter {
  private t0 = 0n;
  private cpu0?: NodeJS.CpuUsage;

  start(): void {
    this.cpu0 = process.cpuUsage();
    this.t0 = process.hrtime.bigint();
  }

  /** `phaseUs`: the phase on the monotonic clock V8's CPU profiles use, for `profile-summary --phase`. */
  stop(): { ms: number; cpuMs: number; phaseUs: [number, number] } {
    const t1 = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.cpu0);
    return {
      ms: Number(t1 - this.t0) / 1e6,
      cpuMs: (cpu.user + cpu.system) / 1000,
      phaseUs: [Number(this.t0 / 1000n), Number(t1 / 1000n)],
    };
  }
}

/** Resolves when `count()` reaches `target`, or rejects after `timeoutMs` with what was reached. */
export function waitUntil(what: string, check: () => boolean, timeoutMs: number, pollMs = 2): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() > deadline) return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      setTimeout(tick, pollMs);
    };
    tick();
  });
}

/** A counter that resolves `done` when it reaches `target`. */
export class Countdown {
  count = 0;
  readonly done: Promise<void>;
  private resolve!: () => void;

  constructor(readonly target: number) {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
    if (target <= 0) this.resolve();
  }

  hit(): void {
    if (++this.count === this.target) this.resolve();
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx];
}
