/** Benchmark 2: SNS+SQS end-to-end throughput through fauxqs: topic -> queue -> handler -> delete. */
import { scaled } from './support/common.js';
import { fmt, section, median, repeats, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'sqs-throughput';
export const title = 'SNS+SQS end-to-end throughput (fauxqs)';

interface Run {
  n: number;
  ms: number;
  cpuMs: number;
  total: number;
  calls: Record<string, number>;
}

interface Subject {
  id: string;
  label: string;
  module: string;
  fn?: string;
  params: Record<string, unknown>;
  env?: Record<string, string>;
  /** The plain SDK loop this subject is compared with (none: it is one). */
  base?: string;
}

/** Both sides of every comparison long-poll for the same time. */
const WAIT_SECONDS = 20;

/**
 * One shape of the comparison: the plain SDK loop (PublishBatch of 10, `calls` in flight; `pollers` pollers of
 * ReceiveMessage 10 + DeleteMessageBatch) and nestjs-messaging at the same concurrency (one long poll per 10) and the
 * same messages in flight (`calls` × 10 emits).
 */
function shape(key: string, n: number, pollers: number, calls: number, what: string): Subject[] {
  const concurrency = pollers * 10;
  const emits = calls * 10;
  const plain = `plain-${key}`;
  return [
    {
      id: plain,
      label: `plain SDK loop, ${what}: PublishBatch of 10 (${calls} in flight), ${pollers} pollers (ReceiveMessage 10, DeleteMessageBatch)`,
      module: 'sqs-baseline',
      params: { n, pollers, window: calls, waitTimeSeconds: WAIT_SECONDS },
    },
    {
      id: `ours-${key}`,
      label: `**nestjs-messaging**, ${what}: concurrency ${concurrency} (${pollers} polls of 10), ${emits} emits in flight`,
      module: 'sqs-ours',
      params: { n, concurrency, window: emits, waitTimeSeconds: WAIT_SECONDS },
      base: plain,
    },
    {
      id: `${plain}-publish`,
      label: `publish only, plain SDK loop, ${what}: PublishBatch of 10 (${calls} in flight)`,
      module: 'sqs-baseline',
      fn: 'publishOnly',
      params: { n, window: calls },
    },
    {
      id: `ours-${key}-publish`,
      label: `publish only, **nestjs-messaging**, ${what}: ${emits} emits in flight`,
      module: 'sqs-ours',
      fn: 'publishOnly',
      params: { n, concurrency, window: emits },
      base: `${plain}-publish`,
    },
  ];
}

export async function run(): Promise<Section> {
  const n = scaled(10_000, 200);
  const all: Subject[] = [
    ...shape('issue', n, 2, 4, "issue 25's shape"),
    ...shape('wide', n, 5, 10, 'wider'),
    {
      id: 'raw-in-app-publish',
      label: 'publish only, the plain PublishBatch loop (10 in flight) inside a nestjs-messaging app (on its SNS client)',
      module: 'sqs-ours',
      fn: 'rawLoopInApp',
      params: { n, concurrency: 50, window: 10 },
      base: 'plain-wide-publish',
    },
    { id: 'ssut', label: '@ssut/nestjs-sqs 3, per-message handler', module: 'sqs-ssut', params: { n, window: 10 }, base: 'plain-wide' },
    {
      id: 'ssut-batch',
      label: '@ssut/nestjs-sqs 3, batch handler',
      module: 'sqs-ssut',
      params: { n, window: 10 },
      env: { BENCH_SSUT_BATCH: '1' },
      base: 'plain-wide',
    },
  ];
  // BENCH_SUBJECTS=ours-issue,ours-issue-publish for a quicker comparison (each with its plain loop)
  const wanted = process.env.BENCH_SUBJECTS?.split(',').map((id) => id.trim());
  const subjects = wanted ? all.filter((s) => wanted.some((id) => id === s.id || all.find((w) => w.id === id)?.base === s.id)) : all;
  const reps = repeats(5);
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.id, []]));
  const aws = await startFauxqsProcess();
  try {
    for (let r = 0; r < reps; r++) {
      for (const s of subjects)
        runs
          .get(s.id)!
          .push(await runSubject<Run>(s.module, s.fn ?? 'throughput', s.params, { env: { BENCH_AWS_ENDPOINT: aws.endpoint, ...s.env } }));
    }
  } finally {
    await aws.stop();
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const cpu = (x: Run) => (x.cpuMs * 1000) / x.n;
  const mid = (values: number[]) => median(values, (v) => v);
  const baseOf = new Map(subjects.map((s) => [s.id, s.base ?? s.id]));
  /** Medians over the rounds; ratios are taken per round (the subjects of one round ran back to back). */
  const stats = new Map(
    subjects.map((s) => {
      const xs = runs.get(s.id)!;
      const base = runs.get(baseOf.get(s.id)!)!;
      return [
        s.id,
        {
          rate: mid(xs.map(rate)),
          cpu: mid(xs.map(cpu)),
          requests: mid(xs.map((x) => (x.total / x.n) * 1000)),
          rateRatio: mid(xs.map((x, i) => rate(x) / rate(base[i]))),
          cpuRatio: mid(xs.map((x, i) => cpu(x) / cpu(base[i]))),
        },
      ];
    }),
  );
  const rows = subjects.map((s) => {
    const x = stats.get(s.id)!;
    const all = runs
      .get(s.id)!
      .map((y) => `${fmt.int(rate(y))} (${fmt.us(cpu(y))})`)
      .join(' / ');
    return [
      s.label,
      fmt.int(x.rate),
      s.base ? fmt.x(x.rateRatio) : '1.00x',
      fmt.us(x.cpu),
      s.base ? fmt.x(x.cpuRatio) : '1.00x',
      fmt.int(x.requests),
      all,
    ];
  });
  /** How far a plain loop's rate moved between rounds, as a share of its median. */
  const noise = subjects
    .filter((s) => !s.base)
    .map((s) => {
      const rates = runs.get(s.id)!.map(rate);
      const spread = (Math.max(...rates) - Math.min(...rates)) / mid(rates);
      return `${s.label.replace(/:.*/, '')} ${(spread * 100).toFixed(0)}% (${rates.map(fmt.int).join(' / ')} msg/s)`;
    });
  const target = (label: string, id: string) => {
    const x = stats.get(id)!;
    const base = stats.get(baseOf.get(id)!)!;
    return {
      label,
      met: x.rateRatio >= 0.95,
      detail: `${fmt.x(x.rateRatio)} (${fmt.int(x.rate)} vs ${fmt.int(base.rate)} msg/s; CPU ${fmt.us(x.cpu)} vs ${fmt.us(base.cpu)} µs/msg; median of per-round ratios)`,
    };
  };
  return section(name, title, {
    markdown: [
      `${fmt.int(n)} messages per subject through one SNS topic subscribed by one SQS queue (SNS envelope, not raw delivery), on fauxqs running in a process of its own. Timed from the first publish until every message was handled **and deleted**; the "publish only" rows time the publishing alone, into a subscribed queue nobody consumes. Every comparison is with the plain AWS SDK loop at the same settings: PublishBatch of 10 with a number of calls in flight, and pollers of ReceiveMessage 10 that parse the notification and the envelope and delete each batch with one DeleteMessageBatch; nestjs-messaging runs with its defaults (JsonEnvelope, retry and dead-letter queues) at the same concurrency (one long poll per 10, so 2 pollers are concurrency 20) and the same messages in flight (4 PublishBatch calls of 10 are 40 emits, which the library coalesces into PublishBatch calls itself). Every long poll waits up to ${WAIT_SECONDS} s. Issue 25's shape is the one a user measured (2 pollers, 4 calls in flight); the wider shape (5 pollers, 10 calls in flight) is the one measured before. Each subject runs in its own process, ${reps} round(s), interleaved (each round runs every subject once, back to back). msg/s and CPU µs/msg are medians over the rounds; "vs plain" is the median of the per-round ratios to the plain loop of its shape. CPU is the subject process's user+system time over the measured phase (the emulator's CPU is not included). Every run in the last column as msg/s (CPU µs/msg).`,
      '',
      table(['subject', 'msg/s', 'vs plain', 'CPU µs/msg', 'CPU vs plain', 'AWS requests / 1,000 msgs', 'runs: msg/s (CPU µs/msg)'], rows),
      '',
      `Noise: each plain loop's rate moved between rounds by ${noise.join('; ')}. CPU µs/msg is the steadier figure.`,
      '',
      "The plain loop inside a nestjs-messaging app runs the plain publish loop on the SNS client of a started application, in its process: between it and the plain loop is the process (a Nest application with its heap and garbage collector), between it and the nestjs-messaging publish row is the library's publish path (emit, envelope, batching).",
      '',
      '@ssut/nestjs-sqs publishes to SQS queues only, so its rows use the plain PublishBatch loop (10 in flight) for the topic; its consumer (sqs-consumer) runs one poller per queue and, with a per-message handler, deletes each message with its own DeleteMessage.',
    ].join('\n'),
    targets: [
      ...[
        [
          "SNS+SQS end to end ≥ 0.95x the plain SDK loop at equal concurrency and wait (issue 25's shape: 2 pollers, 4 PublishBatch in flight)",
          'ours-issue',
        ],
        ['SNS+SQS publish only ≥ 0.95x the plain PublishBatch loop (4 in flight)', 'ours-issue-publish'],
        ['SNS+SQS end to end ≥ 0.95x the plain SDK loop at equal concurrency and wait (5 pollers, 10 PublishBatch in flight)', 'ours-wide'],
        ['SNS+SQS publish only ≥ 0.95x the plain PublishBatch loop (10 in flight)', 'ours-wide-publish'],
      ]
        .filter(([, id]) => stats.has(id))
        .map(([label, id]) => target(label, id)),
    ],
    data: { runs: Object.fromEntries(runs) },
  });
}
