/** Benchmark: AMQP publishing alone, confirmed publishes into a queue nobody consumes, 1000 in flight. */
import { scaled } from './support/common.js';
import { fmt, section, repeats, table, type Section } from './support/report.js';
import { ALL_SUBJECTS } from './amqp-throughput.js';
import { noiseLine, runRounds, STATS_HEADERS, statsAgainst, statsRow } from './support/rounds.js';

export const name = 'amqp-publish';
export const title = 'AMQP publish-only throughput';

const PUBLISHING = new Set(['baseline', 'baseline-envelope', 'ours', 'ours-raw', 'nest-rmq', 'golevelup']);
const SUBJECTS = ALL_SUBJECTS.filter((s) => PUBLISHING.has(s.id));

export async function run(): Promise<Section> {
  const n = scaled(50_000, 500);
  const params = { n, window: 1000 };
  const reps = repeats(5);
  const runs = await runRounds(SUBJECTS, 'publishOnly', params, reps);
  const stats = statsAgainst(runs, 'baseline');
  const raw = stats.get('ours-raw')!;
  const golevelup = stats.get('golevelup')!;
  return section(name, title, {
    markdown: [
      `${fmt.int(n)} persistent messages of ~100 bytes of data per subject, ${params.window} publishes in flight, each awaited until the broker's confirm, into a durable queue bound to the routing key that nobody consumes (deleted afterwards). Timed from the first publish to the last confirm. Each subject in its own process, ${reps} interleaved round(s); msg/s and CPU µs/msg are medians over the rounds, "vs baseline" the median of the per-round ratios. nestjs-messaging publishes through \`lastValueFrom(client.emit(...))\` as an application does; golevelup through \`AmqpConnection.publish\`; Nest RMQ through \`lastValueFrom(ClientRMQ.emit(...))\`.`,
      '',
      table(
        STATS_HEADERS,
        SUBJECTS.map((s) => statsRow(s.label, stats.get(s.id)!, runs.get(s.id)!)),
      ),
      '',
      noiseLine(runs.get('baseline')!),
    ].join('\n'),
    targets: [
      {
        label: 'AMQP publish only ≥ 0.95x the plain amqplib loop (RawEnvelope)',
        met: raw.rateRatio >= 0.95,
        detail: `${fmt.x(raw.rateRatio)} (${fmt.int(raw.rate)} vs ${fmt.int(stats.get('baseline')!.rate)} msg/s; golevelup ${fmt.x(golevelup.rateRatio)}; CPU ${fmt.x(raw.cpuRatio)} vs golevelup's ${fmt.x(golevelup.cpuRatio)})`,
      },
    ],
    data: { params, runs: Object.fromEntries(runs) },
  });
}
