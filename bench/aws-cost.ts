/** Benchmark 3: AWS API requests per 1,000 messages, end to end, counted by an SDK middleware on the library's clients. */
import { scaled } from './support/common.js';
import { fmt, section, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'aws-cost';
export const title = 'AWS cost: API requests per 1,000 messages';

interface Count {
  n: number;
  total: number;
  calls: Record<string, number>;
}

export async function run(): Promise<Section> {
  const n = scaled(10_000, 200);
  const aws = await startFauxqsProcess();
  let ours: { underLoad: Count; lone: Count };
  let base: Count;
  try {
    const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
    base = await runSubject<Count>('sqs-baseline', 'throughput', { n, pollers: 5, window: 10 }, { env });
    ours = await runSubject('sqs-ours', 'cost', { n, concurrency: 50, window: 100 }, { env });
  } finally {
    await aws.stop();
  }
  const ops = [
    'PublishBatch',
    'Publish',
    'ReceiveMessage',
    'DeleteMessageBatch',
    'DeleteMessage',
    'ChangeMessageVisibility',
    'ChangeMessageVisibilityBatch',
  ];
  const others = (c: Count) =>
    Object.entries(c.calls)
      .filter(([op]) => !ops.includes(op))
      .map(([op, k]) => `${op} ${k}`)
      .join(', ') || '–';
  const per1000 = (c: Count, k: number) => fmt.int((k / c.n) * 1000);
  const row = (label: string, c: Count, perMessage: boolean) => [
    label,
    fmt.int(c.n),
    ...ops.map((op) => (perMessage ? per1000(c, c.calls[op] ?? 0) : String(c.calls[op] ?? 0))),
    perMessage ? per1000(c, c.total) : String(c.total),
    others(c),
  ];
  const perK = (ours.underLoad.total / ours.underLoad.n) * 1000;
  const basePerK = (base.total / base.n) * 1000;
  return section(name, title, {
    markdown: [
      `Every SNS and SQS call completed between the first publish and the last delete, counted by a middleware on the clients the library exposes (\`MessagingServer.unwrap()\` / \`MessagingClient.unwrap()\` → \`{ sns, sqs }\`); failed calls count too. Under load: ${fmt.int(n)} messages, concurrency 50, 100 emits in flight. Lone message: one emit after the consumer sat idle for 1 s (long polling, WaitTimeSeconds 20), counted until its delete completed plus 300 ms. The floor is 300 per 1,000 (PublishBatch + ReceiveMessage + DeleteMessageBatch, 10 messages each); one Publish and one DeleteMessage per message costs about 2,100.`,
      '',
      '**Per 1,000 messages under load** (lone message: absolute calls)',
      '',
      table(
        ['subject', 'messages', ...ops, 'total', 'other'],
        [
          row('baseline: hand-written SDK loop', base, true),
          row('**nestjs-messaging**, under load', ours.underLoad, true),
          row('**nestjs-messaging**, one lone message (calls)', ours.lone, false),
        ],
      ),
      '',
      `nestjs-messaging under load: **${fmt.int(perK)} requests per 1,000 messages** (${fmt.x(perK / basePerK)} the baseline's ${fmt.int(basePerK)}; floor 300, target ≤ 330). An idle consumer costs one ReceiveMessage per poller per 20 s long poll (concurrency 50 → 5 pollers: ~15 requests a minute per queue).`,
      '',
      'Emulator artefact: fauxqs answers **every** waiting long poll of a queue when one message arrives (checked here: 5 pollers waiting, one SendMessage → 1 poll returns the message and 4 return empty at once), where SQS keeps the others waiting. So the lone message shows one ReceiveMessage per poller (concurrency 50 → 5); on AWS it would be 1 PublishBatch + 1 ReceiveMessage + 1 DeleteMessageBatch = 3. The same effect adds a few empty receives under load.',
    ].join('\n'),
    targets: [
      {
        label: 'AWS requests ≤ 330 per 1,000 messages under load',
        met: perK <= 330,
        detail: `${fmt.int(perK)} per 1,000 (lone message: ${ours.lone.total} calls)`,
      },
    ],
    data: { base, ours },
  });
}
