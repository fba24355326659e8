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
  const subjects = [
    {
      id: 'baseline',
      label: `baseline: hand-written SDK loop (${concurrency / 10} pollers)`,
      module: 'sqs-baseline',
      params: { n, pollers: concurrency / 10, window: 10 },
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
          .push(await runSubject<Run>(s.module, 'throughput', s.params, { env: { BENCH_AWS_ENDPOINT: aws.endpoint, ...s.env } }));
    }
  } finally {
    await aws.stop();
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const best = new Map(subjects.map((s) => [s.id, median(runs.get(s.id)!, rate)]));
  const base = best.get('baseline')!;
  const rows = subjects.map((s) => {
    const x = best.get(s.id)!;
    return [
      s.label,
      fmt.int(rate(x)),
      fmt.x(rate(x) / rate(base)),
      fmt.us((x.cpuMs * 1000) / x.n),
      fmt.int((x.total / x.n) * 1000),
      runs
        .get(s.id)!
        .map((y) => fmt.int(rate(y)))
        .join(' / '),
    ];
  });
  const ratio = rate(best.get('ours')!) / rate(base);
  return {
    name,
    title,
    date: new Date().toISOString(),
    command: command(name),
    machine: await machineFacts(),
    markdown: [
      `${fmt.int(n)} messages per subject through one SNS topic subscribed by one SQS queue (SNS envelope, not raw delivery), on fauxqs ${'running in a process of its own'}. Timed from the first publish until every message was handled **and deleted**. Publishing: PublishBatch of 10 with 10 calls in flight (nestjs-messaging: 100 emits in flight, coalesced into PublishBatch by the library). ${reps} interleaved run(s) per subject, median shown. CPU is the subject process only (the emulator's CPU is not included).`,
      '',
      table(['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'AWS requests / 1,000 msgs', 'runs (msg/s)'], rows),
      '',
      "@ssut/nestjs-sqs publishes to SQS queues only, so its rows use the baseline's PublishBatch loop for the topic; its consumer (sqs-consumer) runs one poller per queue and, with a per-message handler, deletes each message with its own DeleteMessage.",
    ].join('\n'),
    targets: [
      {
        label: 'SNS+SQS throughput ≥ 0.9x baseline',
        met: ratio >= 0.9,
        detail: `${fmt.x(ratio)} (${fmt.int(rate(best.get('ours')!))} vs ${fmt.int(rate(base))} msg/s)`,
      },
    ],
    data: { runs: Object.fromEntries(runs) },
  };
}
