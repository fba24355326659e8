/** Benchmark 1: AMQP end-to-end throughput, emit -> handler -> ack, persistent + confirms, prefetch 100. */
import { scaled } from './support/common.js';
import { command, fmt, machineFacts, median, repeats, table, type Section } from './support/report.js';
import { runSubject } from './support/spawn.js';

export const name = 'amqp-throughput';
export const title = 'AMQP end-to-end throughput';

interface Run { n: number; ms: number; cpuMs: number }

const SUBJECTS = [
  { id: 'baseline', label: 'baseline: hand-written amqplib loop', module: 'amqp-baseline' },
  { id: 'ours', label: '**nestjs-messaging**', module: 'amqp-ours' },
  { id: 'nest-rmq', label: 'Nest built-in RMQ transport (11)', module: 'amqp-nest-rmq' },
  { id: 'golevelup', label: '@golevelup/nestjs-rabbitmq 9', module: 'amqp-golevelup' },
];

export async function run(): Promise<Section> {
  const n = scaled(50_000, 500);
  const params = { n, prefetch: 100, window: 1000 };
  const reps = repeats(3);
  const runs = new Map<string, Run[]>(SUBJECTS.map((s) => [s.id, []]));
  for (let r = 0; r < reps; r++) {
    for (const s of SUBJECTS) runs.get(s.id)!.push(await runSubject<Run>(s.module, 'throughput', params));
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const best = new Map(SUBJECTS.map((s) => [s.id, median(runs.get(s.id)!, rate)]));
  const base = best.get('baseline')!;
  const rows = SUBJECTS.map((s) => {
    const x = best.get(s.id)!;
    const all = runs.get(s.id)!.map((y) => fmt.int(rate(y))).join(' / ');
    return [s.label, fmt.int(rate(x)), fmt.x(rate(x) / rate(base)), fmt.us((x.cpuMs * 1000) / x.n), fmt.x((x.cpuMs / x.n) / (base.cpuMs / base.n)), all];
  });
  const ours = rate(best.get('ours')!);
  const ratio = ours / rate(base);
  const peers = ['nest-rmq', 'golevelup'].map((id) => rate(best.get(id)!));
  return {
    name, title, date: new Date().toISOString(), command: command(name), machine: await machineFacts(),
    markdown: [
      `${fmt.int(n)} messages of ~100 bytes of data per subject, published with ${params.window} emits in flight, persistent, on a confirm channel; consumer prefetch ${params.prefetch}, ack after the handler. Each subject runs in its own process, ${reps} time(s), interleaved; the median run is shown (all runs in the last column). CPU is the subject process's user+system time over the measured phase (broker CPU not included).`,
      '',
      table(['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'CPU vs baseline', 'runs (msg/s)'], rows),
      '',
      'Wire: nestjs-messaging sends the tomodachi JSON envelope (~330 bytes with the data), as does the baseline loop (same envelope built by hand); Nest RMQ sends `{pattern, data}` JSON and golevelup the bare JSON data. nestjs-messaging also sets a message id and the content type on each message. golevelup messages are about a third of the size (no envelope), which is most of its lead.',
    ].join('\n'),
    targets: [
      { label: 'AMQP throughput ≥ 0.9x baseline', met: ratio >= 0.9, detail: `${fmt.x(ratio)} (${fmt.int(ours)} vs ${fmt.int(rate(base))} msg/s)` },
      { label: 'AMQP throughput ahead of both peers', met: peers.every((p) => ours > p), detail: `${fmt.int(ours)} vs Nest RMQ ${fmt.int(peers[0])}, golevelup ${fmt.int(peers[1])} msg/s` },
    ],
    data: { params, runs: Object.fromEntries(runs) },
  };
}
