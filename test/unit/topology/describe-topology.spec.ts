import type { ConnectionTopology, MessagingTopology } from '../../../lib/index.js';
import { fixtureTopology, withConnectionsApp } from '../../fixtures/topology/fixture-topology.js';

describe('MessagingServer.describeTopology() (no broker, microservice never connected)', () => {
  let topology: MessagingTopology;
  beforeAll(async () => {
    topology = await fixtureTopology();
  });

  it('names the topics (prefixed, encoded, .fifo) with KMS and tags', () => {
    expect(topology.transport).toBe('sns-sqs');
    expect(topology.topics.map((t) => t.name).sort()).toEqual(['prod-ledger-entry.fifo', 'prod-order-refunded', 'prod-order___2e_paid']);
    for (const topic of topology.topics) {
      expect(topic.kmsMasterKeyId).toBe('alias/topics');
      expect(topic.tags).toEqual({ team: 'payments' });
    }
  });

  it('declares the shared queue once, with its DLQ, redrive, visibility timeout, KMS and a policy for both topics', () => {
    const main = topology.queues.find((q) => q.name === 'prod-billing-orders')!;
    expect(main).toMatchObject({
      role: 'main',
      fifo: false,
      perProcess: false,
      visibilityTimeout: 45,
      deadLetter: { queue: 'prod-billing-orders-dlq', maxReceiveCount: 5 },
      tags: { team: 'payments' },
    });
    expect(main.attributes).toEqual({
      VisibilityTimeout: '45',
      KmsMasterKeyId: 'alias/queues',
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: '{{queue-arn:prod-billing-orders-dlq}}', maxReceiveCount: 5 }),
    });
    expect(main.policy!.allowedTopics).toEqual(['prod-order-refunded', 'prod-order___2e_paid']);
    const statement = JSON.parse(main.policy!.document).Statement[0];
    expect(statement.Resource).toBe('{{queue-arn:prod-billing-orders}}');
    expect(statement.Condition.ArnEquals['aws:SourceArn']).toEqual([
      '{{topic-arn:prod-order-refunded}}',
      '{{topic-arn:prod-order___2e_paid}}',
    ]);
    const dlq = topology.queues.find((q) => q.name === 'prod-billing-orders-dlq')!;
    expect(dlq).toMatchObject({ role: 'dead-letter', attributes: { MessageRetentionPeriod: '1209600', KmsMasterKeyId: 'alias/queues' } });
    expect(dlq.policy).toBeUndefined();
  });

  it('gives the FIFO handler a generated queue name with .fifo and its named dead-letter queue', () => {
    const fifo = topology.queues.find((q) => q.role === 'main' && q.fifo)!;
    expect(fifo.name).toBe('prod-billing--ledger-entry.fifo');
    expect(fifo.deadLetter).toEqual({ queue: 'prod-billing-ledger-dead.fifo', maxReceiveCount: 3 });
    expect(topology.queues.filter((q) => q.role === 'dead-letter').map((q) => q.name)).toContain('prod-billing-ledger-dead.fifo');
  });

  it('lists one subscription per handler, with the filter policy where there is one and raw delivery off', () => {
    expect(topology.subscriptions).toHaveLength(3);
    expect(topology.subscriptions.find((s) => s.pattern === 'order.paid')).toEqual({
      topic: 'prod-order___2e_paid',
      queue: 'prod-billing-orders',
      pattern: 'order.paid',
      filterPolicy: JSON.stringify({ currency: ['EUR', 'USD'] }),
      filterPolicyScope: 'MessageAttributes',
      rawMessageDelivery: false,
      perProcess: false,
    });
    expect(topology.subscriptions.find((s) => s.pattern === 'order-refunded')!.filterPolicy).toBeUndefined();
    expect(topology.perProcessQueues).toEqual([]);
  });
});

describe('describeTopology({ connection }) and describeTopologies() with three connections (no broker I/O)', () => {
  let single: MessagingTopology;
  let all: ConnectionTopology[];
  let partner: MessagingTopology;
  let rabbit: MessagingTopology;
  let byDefault: MessagingTopology;
  beforeAll(async () => {
    single = await fixtureTopology();
    ({ all, partner, rabbit, byDefault } = await withConnectionsApp((server) => ({
      all: server.describeTopologies(),
      partner: server.describeTopology({ connection: 'partner' }),
      rabbit: server.describeTopology({ connection: 'rabbit' }),
      byDefault: server.describeTopology(),
    })));
  });

  it('describeTopologies() labels each connection, the default first; the default is described as in a one-connection app', () => {
    expect(all.map(({ connection, topology }) => [connection, topology.transport])).toEqual([
      ['default', 'sns-sqs'],
      ['partner', 'sns-sqs'],
      ['rabbit', 'amqp'],
    ]);
    expect(all[0].topology).toEqual(single);
    expect(byDefault).toEqual(single);
    expect(all[1].topology).toEqual(partner);
    expect(all[2].topology).toEqual(rabbit);
  });

  it('a named SNS+SQS connection: only its handlers, with its own options (topicPrefix, no queueNamePrefix, no KMS or tags)', () => {
    expect(partner.topics).toEqual([{ name: 'partner-invoice-requested', patterns: ['invoice-requested'], fifo: false, tags: {} }]);
    expect(partner.queues.map((q) => [q.name, q.role])).toEqual([
      ['billing--invoice-requested-dlq', 'dead-letter'],
      ['billing--invoice-requested', 'main'],
    ]);
    expect(partner.queues.find((q) => q.role === 'main')!.attributes.KmsMasterKeyId).toBeUndefined();
    expect(partner.subscriptions).toEqual([
      expect.objectContaining({
        topic: 'partner-invoice-requested',
        queue: 'billing--invoice-requested',
        filterPolicy: JSON.stringify({ tier: ['gold'] }),
      }),
    ]);
  });

  it('a named AMQP connection: described by the AMQP transport (exchange binding, retry and dead-letter queues)', () => {
    expect(rabbit.topics).toEqual([expect.objectContaining({ name: 'amq.topic', patterns: ['stock.*'], predeclared: true })]);
    expect(rabbit.queues.map((q) => [q.name, q.role])).toEqual([
      ['stock-changes', 'main'],
      ['stock-changes-retry', 'retry'],
      ['stock-changes-dlq', 'dead-letter'],
    ]);
    expect(rabbit.subscriptions).toEqual([expect.objectContaining({ topic: 'amq.topic', queue: 'stock-changes', routingKey: 'stock.*' })]);
  });
});
