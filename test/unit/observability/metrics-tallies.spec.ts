import * as prom from 'prom-client';
import { Subject } from 'rxjs';
import { MessagingMetrics } from '../../../lib/index.js';
import { DeliveryObservers, type DeliveryListener } from '../../../lib/observability/delivery-observers.js';
import { ListenerList } from '../../../lib/observability/listener-list.js';
import type { PublishListener } from '../../../lib/observability/publish-event.js';
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
    const sources = () => {
      const deliveries = new DeliveryObservers();
      const publishes = new ListenerList<PublishListener>();
      return {
        deliveries,
        publishes,
        sources: {
          connection: 'default',
          transport: 'amqp' as const,
          deliveries: { addDeliveryListener: (l: DeliveryListener) => deliveries.add(l) },
          publishes: { addPublishListener: (l: PublishListener) => publishes.add(l) },
          status$: new Subject<BrokerStatus>(),
        },
      };
    };
    const one = sources();
    const two = sources();
    const first = new MessagingMetrics(prom, registry, one.sources);
    const second = new MessagingMetrics(prom, registry, two.sources);
    const deliver = (s: ReturnType<typeof sources>) => {
      for (const l of s.deliveries.items) l.received('q', 't');
      for (const l of s.deliveries.items) l.settled('q', 't', 'ack', 2);
      for (const l of s.publishes.items) l.published('t', 'success', 1);
    };
    for (const s of [one, two, two]) deliver(s);
    const value = async (name: string, labels: Record<string, string>) => {
      const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)!;
      return metric.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value;
    };
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(3);
    expect(await value('messaging_messages_handled_total', { queue: 'q', outcome: 'success' })).toBe(3);
    expect(await value('messaging_messages_published_total', { topic: 't', outcome: 'success' })).toBe(3);
    for (const l of two.deliveries.items) l.received('q', 't');
    second.onModuleDestroy();
    expect(two.deliveries.items).toHaveLength(0); // detached: what it would be told now is not counted
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(4);
    expect(await value('messaging_messages_received_total', { queue: 'q', topic: 't' })).toBe(4);
    first.onModuleDestroy();
  });
  it('messaging_batch_size counts the messages per batch handler call, only for queues and topics that had a batch', async () => {
    const registry = new prom.Registry();
    const deliveries = new DeliveryObservers();
    const metrics = new MessagingMetrics(prom, registry, {
      connection: 'default',
      transport: 'sns-sqs',
      deliveries: { addDeliveryListener: (l: DeliveryListener) => deliveries.add(l) },
      publishes: { addPublishListener: () => () => undefined },
      status$: new Subject<BrokerStatus>(),
    });
    for (const l of deliveries.items) l.received('q', 'single');
    deliveries.batched('q', 'bulk', 3);
    deliveries.batched('q', 'bulk', 50);
    const batchSize = (await registry.getMetricsAsJSON()).find((m) => m.name === 'messaging_batch_size')!;
    const of = (metricName: string, le?: number) =>
      batchSize.values.filter((v) => (v as { metricName?: string }).metricName === metricName && (le === undefined || v.labels.le === le));
    expect(of('messaging_batch_size_count').map((v) => [v.labels.topic, v.value])).toEqual([['bulk', 2]]);
    expect(of('messaging_batch_size_sum').map((v) => v.value)).toEqual([53]);
    expect(of('messaging_batch_size_bucket', 2).map((v) => v.value)).toEqual([0]);
    expect(of('messaging_batch_size_bucket', 5).map((v) => v.value)).toEqual([1]);
    expect(of('messaging_batch_size_bucket', 50).map((v) => v.value)).toEqual([2]);
    metrics.onModuleDestroy();
  });
});
