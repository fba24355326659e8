/** Benchmark 5: peak RSS of a consumer draining a backlog: bounded by concurrency, not by the backlog. */
import { scaled, uniqueName } from './support/common.js';
import { fmt, section, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'memory';
export const title = 'Memory while draining a backlog';

interface Drain {
  n: number;
  ms: number;
  cpuMs: number;
  rssStart: number;
  rssAtFirst?: number;
  rssAtMark: number;
  rssAtEnd: number;
  rssPeak: number;
  heapPeak?: number;
  heapAtMark: number;
  heapAtEnd: number;
}

const gc = { nodeArgs: ['--expose-gc'] };
/** V8's young generation capped at 4 MiB semi-spaces (it grows to 16 MiB under a high allocation rate by default). */
const SEMI_SPACE_FLAG = '--max-semi-space-size=4';
const gcSmallYoung = { nodeArgs: ['--expose-gc', SEMI_SPACE_FLAG] };

export async function run(): Promise<Section> {
  const amqpN = scaled(100_000, 2_000);
  const sqsN = scaled(20_000, 1_000);
  const mark = Math.min(10_000, Math.floor(Math.min(amqpN, sqsN) / 2));
  const prefetch = 100;
  const concurrency = 50;

  const baseQueue = uniqueName('bench-mem-amqp-base');
  await runSubject('amqp-baseline', 'prefill', { queue: baseQueue, n: amqpN });
  const amqpBase = await runSubject<Drain>('amqp-baseline', 'drain', { queue: baseQueue, n: amqpN, markAt: mark }, gc);
  const oursPrefix = uniqueName('bench-mem-amqp-ours');
  await runSubject('amqp-ours', 'prefill', { prefix: oursPrefix, n: amqpN, prefetch });
  const amqpOurs = await runSubject<Drain>('amqp-ours', 'drain', { prefix: oursPrefix, n: amqpN, markAt: mark, prefetch }, gc);
  const oursSmallPrefix = uniqueName('bench-mem-amqp-ours-semi');
  await runSubject('amqp-ours', 'prefill', { prefix: oursSmallPrefix, n: amqpN, prefetch });
  const amqpOursSmall = await runSubject<Drain>(
    'amqp-ours',
    'drain',
    { prefix: oursSmallPrefix, n: amqpN, markAt: mark, prefetch },
    gcSmallYoung,
  );
  const golevelupQueue = uniqueName('bench-mem-amqp-golevelup');
  await runSubject('amqp-baseline', 'prefill', { queue: golevelupQueue, n: amqpN });
  const amqpGolevelup = await runSubject<Drain>('amqp-golevelup', 'drain', { queue: golevelupQueue, n: amqpN, markAt: mark }, gc);
  /** BENCH_MEMORY=amqp: the AMQP rows only (the SNS+SQS drain needs fauxqs and a few minutes). */
  const amqpOnly = process.env.BENCH_MEMORY === 'amqp';

  let sqsBase: Drain | undefined;
  let sqsOurs: Drain | undefined;
  const aws = amqpOnly ? undefined : await startFauxqsProcess();
  if (aws)
    try {
      const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
      const sqsName = uniqueName('bench-mem-sqs-base');
      await runSubject('sqs-baseline', 'prefill', { name: sqsName, n: sqsN }, { env });
      sqsBase = await runSubject<Drain>(
        'sqs-baseline',
        'drain',
        { name: sqsName, n: sqsN, markAt: mark, pollers: concurrency / 10 },
        { env, ...gc },
      );
      const sqsPrefix = uniqueName('bench-mem-sqs-ours');
      await runSubject('sqs-ours', 'prefill', { prefix: sqsPrefix, n: sqsN, concurrency }, { env });
      sqsOurs = await runSubject<Drain>('sqs-ours', 'drain', { prefix: sqsPrefix, n: sqsN, markAt: mark, concurrency }, { env, ...gc });
    } finally {
      await aws.stop();
    }
  const row = (label: string, x: Drain, base: Drain) => [
    label,
    fmt.int(x.n),
    fmt.mb(x.rssStart),
    fmt.mb(x.rssAtMark),
    fmt.mb(x.rssAtEnd),
    fmt.mb(x.rssPeak),
    x.rssAtFirst ? `+${fmt.mb(x.rssPeak - x.rssAtFirst)}` : '–',
    fmt.x(x.rssPeak / base.rssPeak),
    x.heapPeak ? fmt.mb(x.heapPeak) : '–',
    fmt.mb(x.heapAtMark),
    fmt.mb(x.heapAtEnd),
    fmt.int((x.n / x.ms) * 1000),
  ];
  const growthOf = (x: Drain) => x.rssPeak - (x.rssAtFirst ?? x.rssStart);
  const growth = growthOf(amqpOurs);
  const heapRatio = (amqpOurs.heapPeak ?? 0) / (amqpGolevelup.heapPeak ?? 1);
  return section(name, title, {
    markdown: [
      `A backlog is published first (by a separate process), then a fresh consumer process drains it; RSS is sampled every 25 ms. AMQP: ${fmt.int(amqpN)} messages, prefetch ${prefetch}. SNS+SQS: ${fmt.int(sqsN)} messages, concurrency ${concurrency} (${concurrency / 10} pollers). RSS in MiB. "Heap after GC" is the JS heap still in use after a forced full GC (--expose-gc) at ${fmt.int(mark)} messages and at the end: it stays flat when memory is bounded by concurrency rather than by the backlog, whereas RSS also reflects how lazily V8 returns memory.`,
      '',
      table(
        [
          'consumer',
          'backlog',
          'RSS at start',
          `RSS at ${fmt.int(mark)}`,
          'RSS at end',
          'peak RSS',
          'RSS growth while draining (peak − RSS at the first message)',
          'peak vs baseline',
          'heapUsed peak',
          `heap after GC at ${fmt.int(mark)}`,
          'heap after GC at end',
          'drain msg/s',
        ],
        [
          row('AMQP baseline: amqplib loop', amqpBase, amqpBase),
          row('**nestjs-messaging**, AMQP', amqpOurs, amqpBase),
          row(`**nestjs-messaging**, AMQP, node ${SEMI_SPACE_FLAG}`, amqpOursSmall, amqpBase),
          row('@golevelup/nestjs-rabbitmq 9, AMQP', amqpGolevelup, amqpBase),
          ...(sqsBase && sqsOurs
            ? [row('SNS+SQS baseline: SDK loop', sqsBase, sqsBase), row('**nestjs-messaging**, SNS+SQS', sqsOurs, sqsBase)]
            : []),
        ],
      ),
      '',
      `Where the AMQP RSS growth goes: the heap after a full GC stays flat (${fmt.mb(amqpOurs.heapAtMark)} → ${fmt.mb(amqpOurs.heapAtEnd)} MiB), so nothing is retained; the growth is V8's young generation, whose semi-spaces grow from 1 to 16 MiB under a high allocation rate and are not given back. With \`${SEMI_SPACE_FLAG}\` (e.g. \`NODE_OPTIONS=${SEMI_SPACE_FLAG}\`) the same drain grows RSS by +${fmt.mb(growthOf(amqpOursSmall))} MiB; see the drain rates for its cost.`,
      '',
      "RSS at start is the process before the consumer connected (Node + Nest + the transport's modules for nestjs-messaging and golevelup, before the Nest application is created; Node + amqplib or the AWS SDK for the baselines). golevelup drains the same envelope-sized messages (the baseline's prefill) and its drain rate includes creating its application (it consumes from init).",
    ].join('\n'),
    targets: [
      {
        label: 'AMQP consumer RSS growth draining the backlog ≤ 10 MB',
        met: growth <= 10 * 2 ** 20,
        detail: `+${fmt.mb(growth)} MiB (baseline +${fmt.mb(growthOf(amqpBase))}, golevelup +${fmt.mb(growthOf(amqpGolevelup))})`,
      },
      {
        label: "AMQP consumer RSS growth draining the backlog ≤ golevelup's (default V8 flags)",
        met: growth <= growthOf(amqpGolevelup),
        detail: `+${fmt.mb(growth)} vs +${fmt.mb(growthOf(amqpGolevelup))} MiB`,
      },
      {
        label: `AMQP consumer RSS growth draining the backlog ≤ 10 MB with node ${SEMI_SPACE_FLAG}`,
        met: growthOf(amqpOursSmall) <= 10 * 2 ** 20,
        detail: `+${fmt.mb(growthOf(amqpOursSmall))} MiB, heapUsed peak ${fmt.mb(amqpOursSmall.heapPeak ?? 0)} MiB, drain ${fmt.int((amqpOursSmall.n / amqpOursSmall.ms) * 1000)} vs ${fmt.int((amqpOurs.n / amqpOurs.ms) * 1000)} msg/s with the default`,
      },
      {
        label: "AMQP consumer heapUsed peak ≤ 1.5x golevelup's",
        met: heapRatio <= 1.5,
        detail: `${fmt.mb(amqpOurs.heapPeak ?? 0)} vs ${fmt.mb(amqpGolevelup.heapPeak ?? 0)} MiB (${fmt.x(heapRatio)})`,
      },
      {
        label: 'AMQP consumer memory bounded by concurrency (heap after GC grows < 8 MiB from 10k to end)',
        met: amqpOurs.heapAtEnd - amqpOurs.heapAtMark < 8 * 2 ** 20,
        detail: `heap ${fmt.mb(amqpOurs.heapAtMark)} → ${fmt.mb(amqpOurs.heapAtEnd)} MiB; RSS ${fmt.mb(amqpOurs.rssAtMark)} → ${fmt.mb(amqpOurs.rssAtEnd)}, peak ${fmt.mb(amqpOurs.rssPeak)} MiB (${fmt.x(amqpOurs.rssPeak / amqpBase.rssPeak)} baseline)`,
      },
      ...(sqsBase && sqsOurs
        ? [
            {
              label: 'SNS+SQS consumer memory bounded by concurrency (heap after GC grows < 8 MiB from 10k to end)',
              met: sqsOurs.heapAtEnd - sqsOurs.heapAtMark < 8 * 2 ** 20,
              detail: `heap ${fmt.mb(sqsOurs.heapAtMark)} → ${fmt.mb(sqsOurs.heapAtEnd)} MiB; RSS ${fmt.mb(sqsOurs.rssAtMark)} → ${fmt.mb(sqsOurs.rssAtEnd)}, peak ${fmt.mb(sqsOurs.rssPeak)} MiB (${fmt.x(sqsOurs.rssPeak / sqsBase.rssPeak)} baseline)`,
            },
          ]
        : []),
    ],
    data: { amqpBase, amqpOurs, amqpGolevelup, sqsBase, sqsOurs },
  });
}
