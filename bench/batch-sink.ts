/** Benchmark: a backlog drained into PostgreSQL over AMQP, batch handler (one multi-row INSERT) vs per-message handler. */
import { cpus, loadavg } from 'node:os';
import { scaled, uniqueName } from './support/common.js';
import { fmt, section, median, repeats, table, type Section } from './support/report.js';
import { postgresFacts } from './support/pg.js';
import { runSubject } from './support/spawn.js';

export const name = 'batch-sink';
export const title = 'Batch handler vs per-message handler, writing to PostgreSQL (AMQP)';

interface Run {
  n: number;
  ms: number;
  cpuMs: number;
  rows: number;
  calls: number;
}

const PREFETCH = 50;
const BATCH = { maxSize: 50, maxWaitMs: 50, concurrency: 100 };
/**
 * Set below what two smoke runs measured on the shared 2-core machine (BENCH_SCALE=0.1, load average 4-7), batch vs
 * per-message: 2.99x and 2.53x the msg/s (rounds 2.40x-4.66x), 0.34x and 0.38x the CPU/msg (rounds 0.29x-0.47x).
 */
const RATE_TARGET = 2;
const CPU_TARGET = 0.5;

type Subject = { id: string; label: string; drain: (n: number) => Promise<Run> };

const SUBJECTS: Subject[] = [
  {
    id: 'baseline',
    label: `baseline: hand-written amqplib loop, one INSERT per message (prefetch ${PREFETCH}, ${PREFETCH} connections)`,
    drain: async (n) => {
      const queue = uniqueName('bench-sink-base');
      await runSubject('amqp-baseline', 'prefill', { queue, n });
      return runSubject<Run>('pg-sink', 'baseline', { queue, n, prefetch: PREFETCH });
    },
  },
  {
    id: 'per-message',
    label: `**nestjs-messaging** per-message handler, one INSERT per message (prefetch ${PREFETCH}, ${PREFETCH} connections)`,
    drain: async (n) => {
      const prefix = uniqueName('bench-sink-ours');
      await runSubject('amqp-ours', 'prefill', { prefix, n, prefetch: PREFETCH });
      return runSubject<Run>('pg-sink', 'perMessage', { prefix, n, prefetch: PREFETCH });
    },
  },
  {
    id: 'batch',
    label: `**nestjs-messaging** batch handler \`{ maxSize: ${BATCH.maxSize}, maxWaitMs: ${BATCH.maxWaitMs} }\`, concurrency ${BATCH.concurrency}, one multi-row INSERT per batch (${BATCH.concurrency / BATCH.maxSize} connections)`,
    drain: async (n) => {
      const prefix = uniqueName('bench-sink-batch');
      await runSubject('amqp-ours', 'prefill', { prefix, n, prefetch: PREFETCH });
      return runSubject<Run>('pg-sink', 'batch', { prefix, n, ...BATCH });
    },
  },
];

export async function run(): Promise<Section> {
  const n = scaled(20_000, 1_000);
  const reps = repeats(5);
  const postgres = await postgresFacts();
  const runs = new Map<string, Run[]>(SUBJECTS.map((s) => [s.id, []]));
  for (let r = 0; r < reps; r++) {
    for (const s of SUBJECTS) {
      const x = await s.drain(n);
      if (x.rows !== n) throw new Error(`${s.id}: ${x.rows} rows written for ${n} messages`);
      runs.get(s.id)!.push(x);
    }
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const cpu = (x: Run) => (x.cpuMs * 1000) / x.n;
  const mid = (values: number[]) => median(values, (v) => v);
  /** Medians over rounds; ratios are taken per round (the subjects of one round ran back to back) and their median shown. */
  const versus = (id: string, other: string) => {
    const xs = runs.get(id)!;
    const ys = runs.get(other)!;
    return { rate: mid(xs.map((x, i) => rate(x) / rate(ys[i]))), cpu: mid(xs.map((x, i) => cpu(x) / cpu(ys[i]))) };
  };
  const stats = new Map(
    SUBJECTS.map((s) => {
      const xs = runs.get(s.id)!;
      return [s.id, { rate: mid(xs.map(rate)), cpu: mid(xs.map(cpu)), perCall: mid(xs.map((x) => x.n / x.calls)) }];
    }),
  );
  const rows = SUBJECTS.map((s) => {
    const x = stats.get(s.id)!;
    const base = versus(s.id, 'baseline');
    const all = runs
      .get(s.id)!
      .map((y) => `${fmt.int(rate(y))} (${fmt.us(cpu(y))})`)
      .join(' / ');
    return [s.label, fmt.int(x.rate), fmt.x(base.rate), fmt.us(x.cpu), fmt.x(base.cpu), x.perCall.toFixed(1), all];
  });
  const gain = versus('batch', 'per-message');
  const perMessage = stats.get('per-message')!;
  const batched = stats.get('batch')!;
  const targets: Section['targets'] = [
    {
      label: `Batch handler ≥ ${RATE_TARGET}x the per-message handler's msg/s writing to PostgreSQL`,
      met: gain.rate >= RATE_TARGET,
      detail: `${fmt.x(gain.rate)} (${fmt.int(batched.rate)} vs ${fmt.int(perMessage.rate)} msg/s, median of per-round ratios)`,
    },
    {
      label: `Batch handler client CPU/msg ≤ ${CPU_TARGET}x the per-message handler's writing to PostgreSQL`,
      met: gain.cpu <= CPU_TARGET,
      detail: `${fmt.x(gain.cpu)} (${fmt.us(batched.cpu)} vs ${fmt.us(perMessage.cpu)} µs/msg, median of per-round ratios)`,
    },
  ];
  const baseRates = runs.get('baseline')!.map(rate);
  const spread = (Math.max(...baseRates) - Math.min(...baseRates)) / mid(baseRates);
  return section(name, title, {
    markdown: [
      `${fmt.int(n)} orders (~100 bytes of JSON data each) per subject, published persistent to a fresh queue by a separate process first, then drained by the subject into a fresh PostgreSQL table (PostgreSQL ${postgres.version}, local, \`(i integer PRIMARY KEY, order_id, amount, currency, note)\`, \`synchronous_commit = ${postgres.synchronousCommit}\`), each message acked only after its row was written; every run checks that the table holds exactly the ${fmt.int(n)} rows, then drops it. nestjs-messaging runs with its defaults (JsonEnvelope, coalesced acks). The pg Pool has one connection per handler call that can run at once, all opened before the measured phase. Each subject runs in its own process, ${reps} round(s), interleaved (each round runs every subject once, back to back). msg/s and CPU µs/msg are medians over the rounds; "vs baseline" is the median of the per-round ratios. The measured phase runs from the first message handed to the subject's code (the batch handler's first call, with its first batch) to the last row written, so the application's start-up is left out; CPU is the subject process's user+system time over it (RabbitMQ's and PostgreSQL's CPU not included). Every run in the last column as msg/s (CPU µs/msg).`,
      '',
      table(
        ['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'CPU vs baseline', 'msgs per handler call', 'runs: msg/s (CPU µs/msg)'],
        rows,
      ),
      '',
      `Batch vs per-message handler (medians of per-round ratios): ${fmt.x(gain.rate)} the msg/s, ${fmt.x(gain.cpu)} the client CPU per message.`,
      '',
      `Noise: the baseline's rate moved by ${(spread * 100).toFixed(0)}% of its median between rounds (${baseRates.map(fmt.int).join(' / ')} msg/s); load average at the end ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' / ')} on ${cpus().length} cores (other work shares the machine, PostgreSQL and RabbitMQ among it).`,
    ].join('\n'),
    targets,
    data: { params: { n, prefetch: PREFETCH, batch: BATCH }, postgres, runs: Object.fromEntries(runs) },
  });
}
