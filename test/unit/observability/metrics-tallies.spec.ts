import * as prom from 'prom-client';
import { Subject } from 'rxjs';
import { MessagingMetrics } from '../../../lib/index.js';
import type { MessagingEvent } from '../../../lib/observability/messaging-event.js';
import type { PublishEvent } from '../../../lib/observability/publish-event.js';
import { TalliedHistogram } from '../../../lib/observability/metrics/tallied-histogram.js';
import type { BrokerStatus } from '../../../lib/transport/broker.js';

describe('metrics tallied outside prom-client', () => {
  it('a TalliedHistogram reads exactly like a prom-client Histogram given the same observations', async () => {
    const ours = new prom.Registry();
    const theirs = new prom.Registry();
    const tallied = new TalliedHistogram('h_seconds', 'help text', ['queue']);
    ours.registerMetric(tallied as unknown as prom.Metric);
    const reference = new prom.Histogram({ name: 'h_seconds', help: 'help text', labelNames: ['queue'], registers: [theirs] });
    const observations: Array<[string, number]> = [
      ['a', 0.001],
      ['a', 0.005],
      ['a', 0.3],
      ['b', 12],
      ['a', 0.0051],
    ];
    for (const [queue, seconds] of observations) {
      tallied.tally({ queue }).observe(seconds);
      reference.observe({ queue }, seconds);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    tallied.reset();
    reference.reset();
    tallied.tally({ queue: 'a' }).observe(1);
    reference.observe({ queue: 'a' }, 1);
    // after a reset prom-client forgets label set b, ours keeps it at zero: compare a only
    expect((await ours.metrics()).split('\n').filter((l) => l.includes('queue="a"'))).toEqual(
      (await theirs.metrics()).split('\n').filter((l) => l.includes('queue="a"')),
    );
  });

  it('two modules on one registry add up, and a module leaving hands over what it counted', async () => {
    const registry = new prom.Registry();
    const sources = () => ({
      transport: 'amqp' as const,
      events$: new Subject<MessagingEvent>(),
      published$: new Subject<PublishEvent>(),
      status$: new Subject<BrokerStatus>(),
    });
    const one = sources();
    const two = sources();
    const first = new MessagingMetrics(prom, registry, one);
    const second = new MessagingMetrics(prom, registry, two);
    const base = { transport: 'amqp' as const, queue: 'q', topic: 't', pattern: 't', messageId: 'm', attempt: 1 };
    for (const s of [one, two, two]) {
      s.events$.next({ type: 'received', ...base });
      s.events$.next({ type: 'handled', ...base, durationMs: 2 });
      s.published$.next({ topic: 't', outcome: 'success', durationMs: 1 });
    }
    const value = async (name: string, labels: Record<string, string>) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
      return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    };
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(3);
    expect(await value('messaging_messages_handled_total', { queue: 'q', outcome: 'success' })).toBe(3);
    expect(await value('messaging_messages_published_total', { topic: 't', outcome: 'success' })).toBe(3);
    two.events$.next({ type: 'received', ...base });
    second.onModuleDestroy();
    two.events$.next({ type: 'received', ...base }); // after it left: not counted
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(4);
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(4);
    first.onModuleDestroy();
  });
});
