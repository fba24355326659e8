/** Benchmark 2: SNS+SQS end-to-end throughput through fauxqs: topic -> queue -> handler -> delete. */
import { scaled } from './support/common.js';
import { command, fmt, machineFacts, median, repeats, table, type Section } from './support/report.js';
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

export async function run(): Promise<Section> {
  const n = scaled(10_000, 200);
  const concurrency = 50;
  const subjects: {
    id: string;
    label: string;
    module: string;
    fn?: string;
    params: Record<string, unknown>;
    env?: Record<string, string>;
  }[] = [
    {
      id: 'baseline',
      label: `baseline: hand-written SDK loop (${concurrency / 10} pollers)`,
      module: 'sqs-baseline',
      params: { n, pollers: concurrency / 10, window: 10 },
    },
    {
      id: 'baseline-publish',
      label: 'publish only, baseline: PublishBatch loop (10 calls of 10 in flight)',
      module: 'sqs-baseline',
      fn: 'publishOnly',
      params: { n, window: 10 },
    },
    {
      id: 'ours-publish',
      label: 'publish only, **nestjs-messaging** (100 emits in flight)',
      module: 'sqs-ours',
      fn: 'publishOnly',
      params: { n, concurrency, window: 100 },
    },
    {
      id: 'raw-in-app-publish',
      label: 'publish only, the baseline PublishBatch loop inside a nestjs-messaging app (on its SNS client)',
      module: 'sqs-ours',
      fn: 'rawLoopInApp',
      params: { n, concurrency, window: 10 },
    },
    { id: 'ours', label: `**nestjs-messaging** (concurrency ${concurrency})`, module: 'sqs-ours', params: { n, concurrency, window: 100 } },
    { id: 'ssut', label: '@ssut/nestjs-sqs 3, per-message handler', module: 'sqs-ssut', params: { n, window: 10 } },
    {
      id: 'ssut-batch',
      label: '@ssut/nestjs-sqs 3, batch handler',
      module: 'sqs-ssut',
      params: { n, window: 10 },
      env: { BENCH_SSUT_BATCH: '1' },
    },
  ];
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
  const best = new Map(subjects.map((s) => [s.id, median(runs.get(s.id)!, rate)]));
  /** Median of the per-round ratios (the subjects of one round ran back to back). */
  const versus = (id: string, baseId: string) =>
    median(
      runs.get(id)!.map((x, i) => rate(x) / rate(runs.get(baseId)![i])),
      (v) => v,
    );
  const baseOf = (id: string) => (id.endsWith('-publish') ? 'baseline-publish' : 'baseline');
  const rows = subjects.map((s) => {
    const x = best.get(s.id)!;
    return [
      s.label,
      fmt.int(rate(x)),
      fmt.x(versus(s.id, baseOf(s.id))),
      fmt.us((x.cpuMs * 1000) / x.n),
      fmt.int((x.total / x.n) * 1000),
      runs
        .get(s.id)!
        .map((y) => fmt.int(rate(y)))
        .join(' / '),
    ];
  });
  const target = (label: string, id: string) => {
    const ratio = versus(id, baseOf(id));
    return {
      label,
      met: ratio >= 0.95,
      detail: `${fmt.x(ratio)} (${fmt.int(rate(best.get(id)!))} vs ${fmt.int(rate(best.get(baseOf(id))!))} msg/s; median of per-round ratios)`,
    };
  };
  return {
    name,
    title,
    date: new Date().toISOString(),
    command: command(name),
    machine: await machineFacts(),
    markdown: [
      `${fmt.int(n)} messages per subject through one SNS topic subscribed by one SQS queue (SNS envelope, not raw delivery), on fauxqs ${'running in a process of its own'}. Timed from the first publish until every message was handled **and deleted**; the "publish only" rows time the publishing alone, into a subscribed queue nobody consumes, against the baseline's publish loop. Publishing: PublishBatch of 10 with 10 calls in flight (nestjs-messaging: 100 emits in flight, coalesced into PublishBatch by the library). ${reps} interleaved run(s) per subject, median shown; "vs baseline" is the median of the per-round ratios. CPU is the subject process only (the emulator's CPU is not included).`,
      '',
      table(['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'AWS requests / 1,000 msgs', 'runs (msg/s)'], rows),
      '',
      "The loop inside a nestjs-messaging app runs the baseline's publish loop on the SNS client of a started application, in its process: between it and the baseline is the process (a Nest application with its heap and garbage collector), between it and the nestjs-messaging publish row is the library's publish path (emit, envelope, batching).",
      '',
      "@ssut/nestjs-sqs publishes to SQS queues only, so its rows use the baseline's PublishBatch loop for the topic; its consumer (sqs-consumer) runs one poller per queue and, with a per-message handler, deletes each message with its own DeleteMessage.",
    ].join('\n'),
    targets: [
      target('SNS+SQS end to end ≥ 0.95x the raw batched loop', 'ours'),
      target('SNS+SQS publish only ≥ 0.95x the raw PublishBatch loop', 'ours-publish'),
    ],
    data: { runs: Object.fromEntries(runs) },
  };
}
