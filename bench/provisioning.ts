/**
 * Benchmark 6: AWS calls to start 20 subscriptions cold, then warm (a restart with unchanged config); and 500
 * subscriptions on 10 instances starting together, cold then warm, against an emulator throttled at the SNS API rates.
 */
import { scaled, uniqueName } from './support/common.js';
import { fmt, section, table, type Section } from './support/report.js';
import { runSubject, startFauxqsProcess } from './support/spawn.js';
import { SNS_TPS, startThrottlingProxy, type ThrottlingProxy } from './support/throttle-proxy.js';

export const name = 'provisioning';
export const title = 'Provisioning cost: 20 subscriptions, cold and warm; 500 subscriptions on 10 instances, throttled';

interface Prov {
  subs: number;
  ms?: number;
  total: number;
  calls: Record<string, number>;
  /** Calls that sent again a command the SDK had given up on (throttled): in `calls`, but no new call of provisioning's. */
  resent?: Record<string, number>;
  failed?: string;
}

/** 10 instances of one service started together: each instance's report, and the attempts the proxy throttled. */
interface Fleet {
  instances: Prov[];
  throttled: Record<string, number>;
}

const isMutating = (op: string) => !/^(Get|List|Receive)/.test(op);
/** The account-wide listings, paged (ListQueues 1,000 and ListSubscriptions / ListTopics 100 a page). */
const isListing = (op: string) => /^List(Queues|Subscriptions|Topics)$/.test(op);
const INSTANCES = 10;
/**
 * The fleet's snsSqs.requestTimeout: fauxqs shares the 2 cores with the 10 instances and answers far slower than AWS
 * under their load, so the default 5 s would time out calls AWS answers in milliseconds.
 */
const FLEET_REQUEST_TIMEOUT_MS = 30_000;
/** Time for every instance's process to load and build its application before they start together. */
const BOOT_MS = 20_000;

async function startFleet(proxy: ThrottlingProxy, prefix: string, subs: number): Promise<Fleet> {
  proxy.reset();
  const startAt = Date.now() + BOOT_MS;
  const instances = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      runSubject<Prov>(
        'sqs-ours',
        'provisionAt',
        { prefix, subs, startAt, requestTimeout: FLEET_REQUEST_TIMEOUT_MS },
        { env: { BENCH_AWS_ENDPOINT: proxy.endpoint } },
      ),
    ),
  );
  return { instances, throttled: { ...proxy.throttled } };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const counted = (f: Fleet, field: 'calls' | 'resent', pick: (op: string) => boolean) =>
  sum(
    f.instances.map((p) =>
      sum(
        Object.entries(p[field] ?? {})
          .filter(([op]) => pick(op))
          .map(([, k]) => k),
      ),
    ),
  );
const fleetCalls = (f: Fleet, pick: (op: string) => boolean = () => true) => counted(f, 'calls', pick);
/** Calls per subscription per instance: the listing pages and the resent calls (retry rounds) left out. */
const perSubscription = (f: Fleet, subs: number) =>
  (fleetCalls(f, (op) => !isListing(op)) - counted(f, 'resent', (op) => !isListing(op))) / (INSTANCES * subs);

export async function run(): Promise<Section> {
  const subs = 20;
  const aws = await startFauxqsProcess();
  const env = { BENCH_AWS_ENDPOINT: aws.endpoint };
  let oursCold: Prov;
  let oursWarm: Prov;
  let baseCold: Prov;
  let baseWarm: Prov;
  const bigSubs = scaled(500, 20);
  let fleetCold: Fleet;
  let fleetWarm: Fleet;
  try {
    const basePrefix = uniqueName('bench-prov-base');
    baseCold = await runSubject<Prov>('sqs-baseline', 'provision', { prefix: basePrefix, subs }, { env });
    baseWarm = await runSubject<Prov>('sqs-baseline', 'provision', { prefix: basePrefix, subs }, { env });
    const oursPrefix = uniqueName('bench-prov-ours');
    oursCold = await runSubject<Prov>('sqs-ours', 'provision', { prefix: oursPrefix, subs }, { env });
    oursWarm = await runSubject<Prov>('sqs-ours', 'provision', { prefix: oursPrefix, subs }, { env });
    await runSubject('sqs-baseline', 'cleanup', { prefix: basePrefix }, { env });
    await runSubject('sqs-ours', 'cleanupPrefix', { prefix: oursPrefix }, { env });

    const proxy = await startThrottlingProxy(aws.endpoint);
    try {
      const fleetPrefix = uniqueName('bench-prov-fleet');
      fleetCold = await startFleet(proxy, fleetPrefix, bigSubs);
      fleetWarm = await startFleet(proxy, fleetPrefix, bigSubs);
      await runSubject('sqs-ours', 'cleanupPrefix', { prefix: fleetPrefix }, { env });
    } finally {
      await proxy.stop();
    }
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
  const mergeCalls = (f: Fleet) => {
    const merged: Record<string, number> = {};
    for (const p of f.instances) for (const [op, k] of Object.entries(p.calls)) merged[op] = (merged[op] ?? 0) + k;
    return merged;
  };
  const row = (label: string, p: Prov, base: Prov) => [
    label,
    fmt.int(p.total),
    fmt.int(mutating(p)),
    fmt.x(p.total / base.total),
    p.ms !== undefined ? fmt.int(p.ms) : '–',
    breakdown(p),
  ];
  const fleetRow = (label: string, f: Fleet) => {
    const failed = f.instances.filter((p) => p.failed);
    const calls = fleetCalls(f);
    const pages = fleetCalls(f, isListing);
    return [
      label,
      fmt.int(Math.max(...f.instances.map((p) => p.ms ?? 0))),
      fmt.int(calls),
      fmt.int(fleetCalls(f, isMutating)),
      perSubscription(f, bigSubs).toFixed(2),
      fmt.int(pages),
      fmt.int(sum(Object.values(f.throttled))),
      fmt.int(counted(f, 'resent', () => true)),
      failed.length === 0 ? 'none' : `${failed.length}: ${failed[0].failed}`,
      breakdown({ subs: bigSubs, total: calls, calls: mergeCalls(f) }),
    ];
  };
  const warmPerSub = perSubscription(fleetWarm, bigSubs);
  const rates = Object.entries(SNS_TPS)
    .map(([op, tps]) => `${op} ${tps}`)
    .join(', ');
  return section(name, title, {
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
      '',
      `### ${bigSubs} subscriptions × ${INSTANCES} instances starting together, throttled at the SNS API rates`,
      '',
      `The same application with ${bigSubs} handlers, started by ${INSTANCES} processes at the same moment (a rollout), against an empty account (cold), then again (warm). Between them and fauxqs a proxy (bench/support/throttle-proxy.ts) throttles each SNS action per account with a token bucket at its rate and answers over it as AWS does (HTTP 400, \`Throttling\`, "Rate exceeded"), so the SDK's standard retry (backoff, retry quota; snsSqs.maxAttempts) runs as it would against AWS. Rates (TPS): ${rates}. The List*, Subscribe and Unsubscribe rates are those of the SNS API Reference (e.g. https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptionsByTopic.html, https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html); the others are taken as 100 TPS (see the General Reference's table, https://docs.aws.amazon.com/general/latest/gr/sns.html). The instances run with snsSqs.requestTimeout ${FLEET_REQUEST_TIMEOUT_MS / 1000} s: fauxqs shares the machine's cores with them and answers far slower than AWS under their load. SQS is not throttled: no per-action rate is published for its queue-management actions (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-quotas.html). "startup ms" is the slowest instance's listen(); "calls" are the calls the applications made (a throttled attempt the SDK retried counts once), "throttled" the attempts the proxy refused, "resent" the calls the library sent again after the SDK's attempts were all throttled (its retry rounds, counted in "calls"); "per subscription" leaves out the listing pages (ListQueues, ListSubscriptions, ListTopics) and the resent calls.`,
      '',
      table(
        [
          'run',
          'startup ms (slowest)',
          'calls',
          'mutating calls',
          'per subscription per instance',
          'listing pages',
          'throttled',
          'resent',
          'failed starts',
          'by operation',
        ],
        [
          fleetRow(`${INSTANCES} × ${bigSubs} subscriptions, cold`, fleetCold),
          fleetRow(`${INSTANCES} × ${bigSubs} subscriptions, warm`, fleetWarm),
        ],
      ),
    ].join('\n'),
    targets: [
      {
        label: 'Warm start makes no mutating call',
        met: mutating(oursWarm) === 0,
        detail: `${mutating(oursWarm)} mutating of ${oursWarm.total} calls warm (${oursCold.total} cold)`,
      },
      {
        label: `Warm start ≤ 2 calls per subscription (${bigSubs} subscriptions)`,
        met: warmPerSub <= 2 && fleetCalls(fleetWarm, isMutating) === 0 && fleetWarm.instances.every((p) => !p.failed),
        detail: `${warmPerSub.toFixed(2)} calls per subscription per instance besides ${fmt.int(fleetCalls(fleetWarm, isListing))} listing pages, ${fleetCalls(fleetWarm, isMutating)} mutating; ${INSTANCES} instances together: slowest ${fmt.int(Math.max(...fleetWarm.instances.map((p) => p.ms ?? 0)))} ms warm, ${fmt.int(Math.max(...fleetCold.instances.map((p) => p.ms ?? 0)))} ms cold`,
      },
    ],
    data: { baseCold, baseWarm, oursCold, oursWarm, fleetCold, fleetWarm },
  });
}
