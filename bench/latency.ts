/** Benchmark 4: publish -> handler latency at a low steady rate (100 msg/s for 10 s). */
import { command, fmt, machineFacts, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'latency';
export const title = 'Latency publish → handler at 100 msg/s';

interface Lat { n: number; p50: number; p99: number; max: number }

export async function run(): Promise<Section> {
  const seconds = Math.max(2, Math.round(10 * Math.min(1, Number(process.env.BENCH_SCALE ?? '1') * 2)));
  const rate = 100;
  const amqpBase = await runSubject<Lat>('amqp-baseline', 'latency', { rate, seconds });
  const amqpOurs = await runSubject<Lat>('amqp-ours', 'latency', { rate, seconds });
  const aws = await startFauxqsProcess();
  let sqsBase: Lat;
  let sqsOurs: Lat;
  try {
    const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
    sqsBase = await runSubject<Lat>('sqs-baseline', 'latency', { rate, seconds, pollers: 1 }, { env });
    sqsOurs = await runSubject<Lat>('sqs-ours', 'latency', { rate, seconds, concurrency: 10 }, { env });
  } finally {
    await aws.stop();
  }
  const row = (label: string, x: Lat, base: Lat) => [label, fmt.int(x.n), fmt.ms(x.p50), fmt.ms(x.p99), fmt.ms(x.max), fmt.x(x.p50 / base.p50), fmt.x(x.p99 / base.p99)];
  return {
    name, title, date: new Date().toISOString(), command: command(name), machine: await machineFacts(),
    markdown: [
      `${rate} messages a second for ${seconds} s, each published on schedule (not after the previous one completed); latency is from the publish call to the start of the handler, in the same process (ms).`,
      '',
      table(['subject', 'messages', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs baseline', 'p99 vs baseline'], [
        row('AMQP baseline: amqplib loop', amqpBase, amqpBase),
        row('**nestjs-messaging**, AMQP', amqpOurs, amqpBase),
        row('SNS+SQS baseline: SDK loop, 1 long-polling poller', sqsBase, sqsBase),
        row('**nestjs-messaging**, SNS+SQS (concurrency 10)', sqsOurs, sqsBase),
      ]),
    ].join('\n'),
    targets: [],
    data: { amqpBase, amqpOurs, sqsBase, sqsOurs },
  };
}
