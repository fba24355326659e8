/** Benchmark: idle ReceiveMessage requests per minute per queue, fresh and after a trickle of messages (issue 9, finding 11). */
import { scaled } from './support/common.js';
import { fmt, section, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'idle-cost';
export const title = 'SNS+SQS idle cost: ReceiveMessage requests per minute per queue';

interface Idle {
  concurrency: number;
  windowMs: number;
  trickle: number;
  fresh: number;
  afterTrickle: number;
  freshPeak: number;
  peak: number;
}

export async function run(): Promise<Section> {
  const windowMs = scaled(60_000, 20_000);
  const aws = await startFauxqsProcess();
  let results: Idle[];
  try {
    const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
    // idle subjects barely use the CPU: both concurrencies run side by side
    results = await Promise.all(
      [10, 50].map((concurrency) => runSubject<Idle>('sqs-idle', 'idle', { concurrency, windowMs, trickle: 30 }, { env })),
    );
  } finally {
    await aws.stop();
  }
  const perMinute = (count: number) => (count * 60_000) / windowMs;
  const rows = results.map((r) => {
    const floor = Math.ceil(r.concurrency / 10) * 3; // ceil(concurrency/10) polls, one every 20 s each
    return [
      `concurrency ${r.concurrency}`,
      fmt.int(floor),
      perMinute(r.fresh).toFixed(1),
      perMinute(r.afterTrickle).toFixed(1),
      fmt.x(r.fresh > 0 ? r.afterTrickle / r.fresh : 0),
      `${r.freshPeak} / ${r.peak}`,
    ];
  });
  const worst = Math.max(...results.map((r) => (r.fresh > 0 ? r.afterTrickle / r.fresh : Infinity)));
  const polls = results.every((r) => r.peak <= Math.ceil(r.concurrency / 10));
  return section(name, title, {
    markdown: [
      `One queue per subject, long polling with the default waitTimeSeconds 20, on fauxqs in its own process. ReceiveMessage calls during ${fmt.int(windowMs / 1000)} s of idleness right after startup (the baseline: a fresh consumer), then 30 messages trickled in one at a time (each handled before the next is published), then another ${fmt.int(windowMs / 1000)} s of idleness. Each call is timed by a middleware on the client \`MessagingServer.unwrap()\` returns and counted by the share of its duration inside the window (so a 20 s poll loop counts 3 in any 60 s window, whatever its phase; counting starts or ends gives 2 or 3 by phase); scaled to requests per minute.`,
      '',
      table(
        [
          'subject',
          'ceiling: polls × 3 / min',
          'fresh / min (baseline)',
          'after trickle / min',
          'after vs fresh',
          'peak polls outstanding fresh / overall',
        ],
        rows,
      ),
      '',
      'The ceiling is ceil(concurrency / 10) long polls restarting every 20 s. Before the fix (receives started per freed slot), the slots spread over up to one poll per slot after a trickle: the fault test measured, with waitTimeSeconds 1, 20 receives in 3 s at concurrency 10 (fresh: 2) and 28 at concurrency 50 (fresh: 10), peak 10 and 14 polls outstanding; now at most 1 and 5.',
    ].join('\n'),
    targets: [
      {
        label: 'Idle SQS receives after a trickle ≤ 1.25x a fresh consumer (concurrency 10 and 50)',
        met: worst <= 1.25,
        detail: `worst ${fmt.x(worst)}`,
      },
      {
        label: 'At most ceil(concurrency / 10) long polls outstanding per queue',
        met: polls,
        detail: results.map((r) => `${r.peak} at concurrency ${r.concurrency}`).join(', '),
      },
    ],
    data: results,
  });
}
