/** Interleaved rounds of throughput subjects and their statistics against a baseline subject of the same rounds. */
import { cpus, loadavg } from 'node:os';
import { fmt, median } from './report.js';
import { runSubject } from './spawn.js';

/** What a throughput subject reports: messages, the measured phase's wall time and its process CPU time. */
export interface Run {
  n: number;
  ms: number;
  cpuMs: number;
}

export interface Subject {
  id: string;
  label: string;
  module: string;
  params?: Record<string, unknown>;
}

export interface SubjectStats {
  /** Medians over the rounds. */
  rate: number;
  cpu: number;
  /** Medians of the per-round ratios to the baseline (the subjects of one round ran back to back). */
  rateRatio: number;
  cpuRatio: number;
}

export const rateOf = (x: Run) => (x.n / x.ms) * 1000;
export const cpuPerMessage = (x: Run) => (x.cpuMs * 1000) / x.n;
const mid = (values: number[]) => median(values, (v) => v);

/** Each round runs every subject once, back to back, each in a process of its own. */
export async function runRounds<R extends Run>(
  subjects: readonly Subject[],
  exportName: string,
  params: Record<string, unknown>,
  rounds: number,
): Promise<Map<string, R[]>> {
  const runs = new Map<string, R[]>(subjects.map((s) => [s.id, []]));
  for (let r = 0; r < rounds; r++) {
    for (const s of subjects) runs.get(s.id)!.push(await runSubject<R>(s.module, exportName, { ...params, ...s.params }));
  }
  return runs;
}

export function statsAgainst(runs: ReadonlyMap<string, readonly Run[]>, baselineId: string): Map<string, SubjectStats> {
  const base = runs.get(baselineId)!;
  return new Map(
    [...runs].map(([id, xs]) => [
      id,
      {
        rate: mid(xs.map(rateOf)),
        cpu: mid(xs.map(cpuPerMessage)),
        rateRatio: mid(xs.map((x, i) => rateOf(x) / rateOf(base[i]))),
        cpuRatio: mid(xs.map((x, i) => cpuPerMessage(x) / cpuPerMessage(base[i]))),
      },
    ]),
  );
}

/** Rounds in which `id` was faster than `other`. */
export function roundsAhead(runs: ReadonlyMap<string, readonly Run[]>, id: string, other: string): number {
  const others = runs.get(other)!;
  return runs.get(id)!.filter((x, i) => rateOf(x) > rateOf(others[i])).length;
}

/** A table row: label, msg/s, vs baseline, CPU µs/msg, CPU vs baseline, every run. */
export function statsRow(label: string, stats: SubjectStats, xs: readonly Run[]): string[] {
  const all = xs.map((y) => `${fmt.int(rateOf(y))} (${fmt.us(cpuPerMessage(y))})`).join(' / ');
  return [label, fmt.int(stats.rate), fmt.x(stats.rateRatio), fmt.us(stats.cpu), fmt.x(stats.cpuRatio), all];
}

export const STATS_HEADERS = ['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'CPU vs baseline', 'runs: msg/s (CPU µs/msg)'];

/** How far the baseline moved between rounds, and the machine's load: how much to trust a ratio. */
export function noiseLine(baseRuns: readonly Run[]): string {
  const rates = baseRuns.map(rateOf);
  const spread = (Math.max(...rates) - Math.min(...rates)) / mid(rates);
  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');
  return `Noise: the baseline's rate moved by ${(spread * 100).toFixed(0)}% of its median between rounds (${rates.map(fmt.int).join(' / ')} msg/s); load average at the end ${load} on ${cpus().length} cores (other work shares the machine). CPU µs/msg is the steadier figure.`;
}
