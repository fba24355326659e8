/** Benchmark 1: AMQP end-to-end throughput, emit -> handler -> ack, persistent + confirms, prefetch 100. */
import { cpus, loadavg } from 'node:os';
import { scaled } from './support/common.js';
import { command, fmt, machineFacts, median, repeats, table, type Section } from './support/report.js';
import { runSubject } from './support/spawn.js';

export const name = 'amqp-throughput';
export const title = 'AMQP end-to-end throughput';

interface Run {
  n: number;
  ms: number;
  cpuMs: number;
  spansExported?: number;
}

const ALL_SUBJECTS: { id: string; label: string; module: string; params?: Record<string, unknown> }[] = [
  {
    id: 'baseline',
    label: "baseline: hand-written amqplib loop publishing the payload's JSON",
    module: 'amqp-baseline',
    params: { body: 'json' },
  },
  {
    id: 'baseline-envelope',
    label: 'hand-written amqplib loop building the tomodachi envelope (the bytes JsonEnvelope sends)',
    module: 'amqp-baseline',
    params: { body: 'envelope' },
  },
  { id: 'ours', label: '**nestjs-messaging** (JsonEnvelope, the default)', module: 'amqp-ours' },
  {
    id: 'ours-raw',
    label: '**nestjs-messaging** (RawEnvelope, bare JSON like golevelup)',
    module: 'amqp-ours',
    params: { envelope: 'raw' },
  },
  {
    id: 'ours-metrics',
    label: '**nestjs-messaging** (JsonEnvelope, metrics on)',
    module: 'amqp-ours',
    params: { observe: 'metrics' },
  },
  {
    id: 'ours-observed',
    label: '**nestjs-messaging** (JsonEnvelope, metrics + tracing on)',
    module: 'amqp-ours',
    params: { observe: 'metrics+tracing' },
  },
  { id: 'nest-rmq', label: 'Nest built-in RMQ transport (11)', module: 'amqp-nest-rmq' },
  { id: 'golevelup', label: '@golevelup/nestjs-rabbitmq 9', module: 'amqp-golevelup' },
];
/** BENCH_SUBJECTS=ours,golevelup for a quicker comparison (the baseline always runs). */
const wanted = process.env.BENCH_SUBJECTS?.split(',').map((s) => s.trim());
const SUBJECTS = ALL_SUBJECTS.filter((s) => s.id === 'baseline' || !wanted || wanted.includes(s.id));
const has = (id: string) => SUBJECTS.some((s) => s.id === id);

export async function run(): Promise<Section> {
  const n = scaled(50_000, 500);
  const params = { n, prefetch: 100, window: 1000 };
  const reps = repeats(5);
  const runs = new Map<string, Run[]>(SUBJECTS.map((s) => [s.id, []]));
  for (let r = 0; r < reps; r++) {
    for (const s of SUBJECTS) runs.get(s.id)!.push(await runSubject<Run>(s.module, 'throughput', { ...params, ...s.params }));
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const cpu = (x: Run) => (x.cpuMs * 1000) / x.n;
  const mid = (values: number[]) => median(values, (v) => v);
  const baseRuns = runs.get('baseline')!;
  /** Medians over rounds; ratios are taken per round (the subjects of one round ran back to back) and their median shown. */
  const stats = new Map(
    SUBJECTS.map((s) => {
      const xs = runs.get(s.id)!;
      return [
        s.id,
        {
          rate: mid(xs.map(rate)),
          cpu: mid(xs.map(cpu)),
          rateRatio: mid(xs.map((x, i) => rate(x) / rate(baseRuns[i]))),
          cpuRatio: mid(xs.map((x, i) => cpu(x) / cpu(baseRuns[i]))),
        },
      ];
    }),
  );
  const rows = SUBJECTS.map((s) => {
    const x = stats.get(s.id)!;
    const all = runs
      .get(s.id)!
      .map((y) => `${fmt.int(rate(y))} (${fmt.us(cpu(y))})`)
      .join(' / ');
    return [s.label, fmt.int(x.rate), fmt.x(x.rateRatio), fmt.us(x.cpu), fmt.x(x.cpuRatio), all];
  });
  const baseRates = baseRuns.map(rate);
  const spread = (Math.max(...baseRates) - Math.min(...baseRates)) / mid(baseRates);
  const targets: Section['targets'] = [];
  const golevelup = stats.get('golevelup');
  // the targets of issue 25: ratios to the plain loop (payload JSON) and to golevelup, never to the envelope loop
  const raw = has('ours-raw') ? stats.get('ours-raw') : undefined;
  if (raw) {
    targets.push({
      label: "AMQP e2e ≥ 1.0x the plain amqplib loop (RawEnvelope; the loop publishes the payload's JSON)",
      met: raw.rateRatio >= 1,
      detail: `${fmt.x(raw.rateRatio)} (${fmt.int(raw.rate)} vs ${fmt.int(stats.get('baseline')!.rate)} msg/s; median of per-round ratios)`,
    });
  }
  if (golevelup) {
    for (const id of ['ours', 'ours-raw'].filter(has)) {
      const x = stats.get(id)!;
      const what = id === 'ours' ? 'JsonEnvelope, the default' : 'RawEnvelope';
      const ahead = runs.get(id)!.filter((y, i) => rate(y) > rate(runs.get('golevelup')![i])).length;
      if (id === 'ours')
        targets.push({
          label: `AMQP e2e ahead of golevelup (${what})`,
          met: x.rate > golevelup.rate,
          detail: `${fmt.int(x.rate)} vs ${fmt.int(golevelup.rate)} msg/s; ahead in ${ahead} of ${reps} rounds`,
        });
      const allowed = id === 'ours' ? 1.2 : 1;
      targets.push({
        label: `AMQP client CPU/msg ≤ ${allowed === 1 ? '' : `${allowed}x `}golevelup's (${what})`,
        met: x.cpu <= golevelup.cpu * allowed,
        detail: `${fmt.us(x.cpu)} vs ${fmt.us(golevelup.cpu)} µs/msg (${fmt.x(x.cpu / golevelup.cpu)})`,
      });
    }
  }
  const observedLines: string[] = [];
  /** Medians of the per-round ratios of a subject's rate and CPU to the plain JsonEnvelope subject's. */
  const versusPlain = (id: string) => {
    const plain = runs.get('ours')!;
    const xs = runs.get(id)!;
    return { rate: mid(xs.map((x, i) => rate(x) / rate(plain[i]))), cpu: mid(xs.map((x, i) => cpu(x) / cpu(plain[i]))) };
  };
  if (has('ours') && has('ours-metrics')) {
    const ratio = versusPlain('ours-metrics');
    targets.push({
      label: 'AMQP with metrics on within 5% of the plain subject (CPU/msg)',
      met: ratio.cpu <= 1.05,
      detail: `CPU ${fmt.x(ratio.cpu)}, e2e ${fmt.x(ratio.rate)} the plain JsonEnvelope subject (medians of per-round ratios)`,
    });
    observedLines.push(
      '',
      `Metrics: the same JsonEnvelope subject with \`metrics: { registry: new Registry() }\` (counters, gauge and histograms per delivery and per emit, fed by the server's and client's delivery and publish listeners): e2e ${fmt.x(ratio.rate)} and CPU/msg ${fmt.x(ratio.cpu)} the plain subject's (medians of per-round ratios).`,
    );
  }
  if (has('ours') && has('ours-observed')) {
    const ratio = versusPlain('ours-observed');
    const spans = mid(runs.get('ours-observed')!.map((x) => (x.spansExported ?? 0) / x.n));
    observedLines.push(
      '',
      `Metrics + tracing: as above plus \`tracing: true\` with an OpenTelemetry BasicTracerProvider (BatchSpanProcessor, 200 ms) whose exporter discards the spans, and the AsyncLocalStorage context manager: e2e ${fmt.x(ratio.rate)} and CPU/msg ${fmt.x(ratio.cpu)} the plain subject's (medians of per-round ratios); ${spans.toFixed(2)} spans exported per message (a PRODUCER span per emit, a CONSUMER span per delivery). Most of that is the SDK's span objects and the context manager's async hooks (the application's choices), see bench/ANALYSIS.md.`,
    );
  }
  return {
    name,
    title,
    date: new Date().toISOString(),
    command: command(name),
    machine: await machineFacts(),
    markdown: [
      `${fmt.int(n)} messages of ~100 bytes of data per subject, published with ${params.window} emits in flight, persistent, on a confirm channel; consumer prefetch ${params.prefetch}, ack after the handler. Each subject runs in its own process, ${reps} round(s), interleaved (each round runs every subject once, back to back). msg/s and CPU µs/msg are medians over the rounds; "vs baseline" is the median of the per-round ratios. CPU is the subject process's user+system time over the measured phase (broker CPU not included). Every run in the last column as msg/s (CPU µs/msg).`,
      '',
      table(['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'CPU vs baseline', 'runs: msg/s (CPU µs/msg)'], rows),
      '',
      `Noise: the baseline's rate moved by ${(spread * 100).toFixed(0)}% of its median between rounds (${baseRates.map(fmt.int).join(' / ')} msg/s); load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} on ${cpus().length} cores (other work shares the machine). CPU µs/msg is the steadier figure.`,
      ...observedLines,
      '',
      "Wire: the baseline loop sends the payload's JSON (~100 bytes), what a user writes without a library, as does nestjs-messaging with RawEnvelope and golevelup; nestjs-messaging with JsonEnvelope sends the tomodachi JSON envelope (~330 bytes with the data), as does the second loop (the same envelope built by hand); Nest RMQ sends `{pattern, data}` JSON. nestjs-messaging also sets a message id and the content type on each message. nestjs-messaging coalesces its socket writes (one writev per amqplib write round) and its acks (`basic.ack` with `multiple` over consecutive finished deliveries, each only after its handler resolved); the baseline loop and the peers write one frame per system call and ack one message per frame.",
    ].join('\n'),
    targets,
    data: { params, runs: Object.fromEntries(runs) },
  };
}
