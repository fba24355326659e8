/** Benchmark: draining an SNS+SQS backlog with a consumer started after an earlier one was stopped (a restart). */
import { scaled } from './support/common.js';
import { fmt, section, median, repeats, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'sqs-restart';
export const title = 'SNS+SQS backlog drain after a restart (fauxqs)';

interface Run {
  n: number;
  ms: number;
  cpuMs: number;
  total: number;
}

export async function run(): Promise<Section> {
  const n = scaled(10_000, 200);
  const pollers = 5;
  const idleMs = 3000;
  const subjects = [
    {
      id: 'baseline',
      label: `baseline: hand-written SDK loop draining the backlog (${pollers} pollers of 10, wait 20 s)`,
      module: 'sqs-baseline',
      fn: 'backlogDrain',
      params: { n, pollers },
    },
    {
      id: 'ours',
      label: `**nestjs-messaging**, started after an earlier instance stopped (concurrency ${pollers * 10}, wait 20 s)`,
      module: 'sqs-ours',
      fn: 'restartDrain',
      params: { n, concurrency: pollers * 10, idleMs },
    },
  ];
  const reps = repeats(3);
  const runs = new Map<string, Run[]>(subjects.map((s) => [s.id, []]));
  const aws = await startFauxqsProcess();
  try {
    for (let r = 0; r < reps; r++)
      for (const s of subjects)
        runs.get(s.id)!.push(await runSubject<Run>(s.module, s.fn, s.params, { env: { BENCH_AWS_ENDPOINT: aws.endpoint } }));
  } finally {
    await aws.stop();
  }
  const rate = (x: Run) => (x.n / x.ms) * 1000;
  const ratios = runs.get('ours')!.map((x, i) => rate(x) / rate(runs.get('baseline')![i]));
  const ratio = median(ratios, (v) => v);
  const rows = subjects.map((s) => {
    const x = median(runs.get(s.id)!, rate);
    return [
      s.label,
      fmt.int(rate(x)),
      s.id === 'baseline' ? '1.00x' : fmt.x(ratio),
      fmt.us((x.cpuMs * 1000) / x.n),
      fmt.int((x.total / x.n) * 1000),
      runs
        .get(s.id)!
        .map((y) => fmt.int(rate(y)))
        .join(' / '),
    ];
  });
  return section(name, title, {
    markdown: [
      `${fmt.int(n)} messages in one SNS-subscribed SQS queue, on fauxqs in its own process. nestjs-messaging: an application consumes the queue idle for ${idleMs / 1000} s (its long polls open), is stopped, the backlog is published as soon as the stop returned, and a second application started in the same process drains it; timed from the second start until every message was handled and deleted. The baseline drains the same backlog with the plain SDK loop. ${reps} interleaved run(s), median shown; "vs baseline" is the median of the per-round ratios. A stop that aborted its long polls left them open at SQS, which handed the first messages of the backlog to them: those stayed hidden for the 30 s visibility timeout and the drain waited for them (measured from outside before the change: 0.08x).`,
      '',
      table(['subject', 'msg/s', 'vs baseline', 'CPU µs/msg', 'SQS requests / 1,000 msgs', 'runs (msg/s)'], rows),
    ].join('\n'),
    targets: [
      {
        label: 'SNS+SQS backlog drain after a restart ≥ 0.95x the plain SDK loop',
        met: ratio >= 0.95,
        detail: `${fmt.x(ratio)} (median of per-round ratios)`,
      },
    ],
    data: Object.fromEntries(runs),
  });
}
