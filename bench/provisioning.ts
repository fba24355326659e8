/** Benchmark 6: AWS calls to start 20 subscriptions cold, then warm (a restart with unchanged config). */
import { uniqueName } from './support/common.js';
import { command, fmt, machineFacts, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';

export const name = 'provisioning';
export const title = 'Provisioning cost: 20 subscriptions, cold and warm';

interface Prov {
  subs: number;
  ms?: number;
  total: number;
  calls: Record<string, number>;
}

const isMutating = (op: string) => !/^(Get|List|Receive)/.test(op);

export async function run(): Promise<Section> {
  const subs = 20;
  const aws = await startFauxqsProcess();
  const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
  let oursCold: Prov;
  let oursWarm: Prov;
  let baseCold: Prov;
  let baseWarm: Prov;
  try {
    const basePrefix = uniqueName('bench-prov-base');
    baseCold = await runSubject<Prov>('sqs-baseline', 'provision', { prefix: basePrefix, subs }, { env });
    baseWarm = await runSubject<Prov>('sqs-baseline', 'provision', { prefix: basePrefix, subs }, { env });
    const oursPrefix = uniqueName('bench-prov-ours');
    oursCold = await runSubject<Prov>('sqs-ours', 'provision', { prefix: oursPrefix, subs }, { env });
    oursWarm = await runSubject<Prov>('sqs-ours', 'provision', { prefix: oursPrefix, subs }, { env });
    await runSubject('sqs-baseline', 'cleanup', { prefix: basePrefix }, { env });
    await runSubject('sqs-ours', 'cleanupPrefix', { prefix: oursPrefix }, { env });
  } finally {
    await aws.stop();
  }
  const mutating = (p: Prov) =>
    Object.entries(p.calls)
      .filter(([op]) => isMutating(op))
      .reduce((a, [, k]) => a + k, 0);
  const breakdown = (p: Prov) =>
    Object.entries(p.calls)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, k]) => `${op} ${k}`)
      .join(', ');
  const row = (label: string, p: Prov, base: Prov) => [
    label,
    fmt.int(p.total),
    fmt.int(mutating(p)),
    fmt.x(p.total / base.total),
    p.ms !== undefined ? fmt.int(p.ms) : '–',
    breakdown(p),
  ];
  return {
    name,
    title,
    date: new Date().toISOString(),
    command: command(name),
    machine: await machineFacts(),
    markdown: [
      `An application with ${subs} @EventPattern handlers, each on its own topic and generated competing queue with the default dead-letter queue, started against an empty account (cold), then restarted with the same configuration (warm, a new process). Every SNS/SQS call made by startup (listen) is counted on the library's clients. "Mutating" is every call that is not Get*/List*. The baseline is a straightforward provisioner that does create-topic, create-queue + DLQ, read ARNs, set policy/redrive/visibility and subscribe on every start.`,
      '',
      table(
        ['subject', 'calls', 'mutating calls', 'vs baseline', 'startup ms', 'by operation'],
        [
          row('baseline provisioner, cold', baseCold, baseCold),
          row('baseline provisioner, warm', baseWarm, baseWarm),
          row('**nestjs-messaging**, cold', oursCold, baseCold),
          row('**nestjs-messaging**, warm', oursWarm, baseWarm),
        ],
      ),
    ].join('\n'),
    targets: [
      {
        label: 'Warm start makes no mutating call',
        met: mutating(oursWarm) === 0,
        detail: `${mutating(oursWarm)} mutating of ${oursWarm.total} calls warm (${oursCold.total} cold)`,
      },
    ],
    data: { baseCold, baseWarm, oursCold, oursWarm },
  };
}
