/** Benchmark 1: AMQP end-to-end throughput, emit -> handler -> ack, persistent + confirms, prefetch 100. */
import { scaled } from './support/common.js';
import { fmt, section, median, repeats, table, type Section } from './support/report.js';
import { noiseLine, roundsAhead, runRounds, STATS_HEADERS, statsAgainst, statsRow, type Run, type Subject } from './support/rounds.js';

export const name = 'amqp-throughput';
export const title = 'AMQP end-to-end throughput';

/** Every AMQP subject; amqp-publish.ts runs the same ones publishing only. */
export const ALL_SUBJECTS: Subject[] = [
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
  const runs = await runRounds<Run & { spansExported?: number }>(SUBJECTS, 'throughput', params, reps);
  const mid = (values: number[]) => median(values, (v) => v);
  const stats = statsAgainst(runs, 'baseline');
  const rows = SUBJECTS.map((s) => statsRow(s.label, stats.get(s.id)!, runs.get(s.id)!));
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
      const ahead = roundsAhead(runs, id, 'golevelup');
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
    const x = statsAgainst(runs, 'ours').get(id)!;
    return { rate: x.rateRatio, cpu: x.cpuRatio };
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
  return section(name, title, {
    markdown: [
      `${fmt.int(n)} messages of ~100 bytes of data per subject, published with ${params.window} emits in flight, persistent, on a confirm channel; consumer prefetch ${params.prefetch}, ack after the handler. Each subject runs in its own process, ${reps} round(s), interleaved (each round runs every subject once, back to back). msg/s and CPU µs/msg are medians over the rounds; "vs baseline" is the median of the per-round ratios. CPU is the subject process's user+system time over the measured phase (broker CPU not included). Every run in the last column as msg/s (CPU µs/msg).`,
      '',
      table(STATS_HEADERS, rows),
      '',
      noiseLine(runs.get('baseline')!),
      ...observedLines,
      '',
      "Wire: the baseline loop sends the payload's JSON (~100 bytes), what a user writes without a library, as does nestjs-messaging with RawEnvelope and golevelup; nestjs-messaging with JsonEnvelope sends the tomodachi JSON envelope (~330 bytes with the data), as does the second loop (the same envelope built by hand); Nest RMQ sends `{pattern, data}` JSON. nestjs-messaging also sets a message id and the content type on each message. nestjs-messaging coalesces its socket writes (one writev per amqplib write round) and its acks (`basic.ack` with `multiple` over consecutive finished deliveries, each only after its handler resolved); the baseline loop and the peers write one frame per system call and ack one message per frame.",
    ].join('\n'),
    targets,
    data: { params, runs: Object.fromEntries(runs) },
  });
}
