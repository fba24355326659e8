import { toCloudFormation, toRabbitMqDefinitions, toTerraform, type MessagingTopology } from '../../../lib/index.js';
import { fixtureTopology } from '../../fixtures/topology/fixture-topology.js';

describe('topology generators (the fixture app: a shared queue with two topics, a FIFO queue, KMS, tags)', () => {
  let topology: MessagingTopology;
  beforeAll(async () => {
    topology = await fixtureTopology();
  });

  describe('CloudFormation', () => {
    const byType = (template: ReturnType<typeof toCloudFormation>, type: string) =>
      Object.entries(template.Resources).filter(([, r]) => r.Type === type);

    it('declares every topic, queue, queue policy and subscription', () => {
      const template = toCloudFormation(topology);
      expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
      expect(byType(template, 'AWS::SNS::Topic')).toHaveLength(3);
      expect(byType(template, 'AWS::SQS::Queue')).toHaveLength(4);
      expect(byType(template, 'AWS::SQS::QueuePolicy')).toHaveLength(2);
      expect(byType(template, 'AWS::SNS::Subscription')).toHaveLength(3);
      expect(JSON.stringify(template)).not.toMatch(/\{\{(queue|topic)-arn:/);
    });

    it('sets queue attributes with references: RedrivePolicy to the DLQ ARN, KMS, tags, FIFO', () => {
      const template = toCloudFormation(topology);
      const queue = template.Resources.QueueProdBillingOrders;
      expect(queue.Properties).toEqual({
        QueueName: 'prod-billing-orders',
        VisibilityTimeout: 45,
        KmsMasterKeyId: 'alias/queues',
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['QueueProdBillingOrdersDlq', 'Arn'] }, maxReceiveCount: 5 },
        Tags: [{ Key: 'team', Value: 'payments' }],
      });
      expect(template.Resources.QueueProdBillingOrdersDlq.Properties).toMatchObject({ MessageRetentionPeriod: 1209600 });
      const fifo = Object.values(template.Resources).find((r) => r.Properties.QueueName === 'prod-billing--ledger-entry.fifo')!;
      expect(fifo.Properties).toMatchObject({ FifoQueue: true, RedrivePolicy: { maxReceiveCount: 3 } });
      const fifoTopic = Object.values(template.Resources).find((r) => r.Properties.TopicName === 'prod-ledger-entry.fifo')!;
      expect(fifoTopic.Properties).toMatchObject({
        FifoTopic: true,
        KmsMasterKeyId: 'alias/topics',
        Tags: [{ Key: 'team', Value: 'payments' }],
      });
    });

    it('allows exactly the subscribed topics in the queue policy and subscribes with the filter policy, raw delivery off', () => {
      const template = toCloudFormation(topology);
      const policy = template.Resources.QueuePolicyProdBillingOrders.Properties as any;
      expect(policy.Queues).toEqual([{ Ref: 'QueueProdBillingOrders' }]);
      expect(policy.PolicyDocument.Statement[0]).toMatchObject({
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': ['QueueProdBillingOrders', 'Arn'] },
        Condition: { ArnEquals: { 'aws:SourceArn': [{ Ref: 'TopicProdOrderRefunded' }, { Ref: 'TopicProdOrder2ePaid' }] } },
      });
      const paid = byType(template, 'AWS::SNS::Subscription').find(
        ([, r]) => (r.Properties.TopicArn as any).Ref === 'TopicProdOrder2ePaid',
      )!;
      expect(paid[1]).toEqual({
        Type: 'AWS::SNS::Subscription',
        DependsOn: ['QueuePolicyProdBillingOrders'],
        Properties: {
          TopicArn: { Ref: 'TopicProdOrder2ePaid' },
          Protocol: 'sqs',
          Endpoint: { 'Fn::GetAtt': ['QueueProdBillingOrders', 'Arn'] },
          RawMessageDelivery: false,
          FilterPolicy: { currency: ['EUR', 'USD'] },
          FilterPolicyScope: 'MessageAttributes',
        },
      });
    });

    it('leaves per-process queues out and names them in Metadata', () => {
      const withPerProcess: MessagingTopology = {
        ...topology,
        queues: [...topology.queues, { ...topology.queues[0], name: 'solo', perProcess: true }],
        perProcessQueues: ['solo'],
      };
      const template = toCloudFormation(withPerProcess);
      expect(Object.values(template.Resources).some((r) => r.Properties.QueueName === 'solo')).toBe(false);
      expect(template.Metadata).toEqual({ 'nestjs-messaging': { perProcessQueuesNotDeclared: ['solo'] } });
    });
  });

  describe('Terraform JSON', () => {
    it('declares aws_sns_topic, aws_sqs_queue, aws_sqs_queue_policy and aws_sns_topic_subscription with interpolated ARNs', () => {
      const tf = toTerraform(topology);
      expect(Object.keys(tf.resource).sort()).toEqual([
        'aws_sns_topic',
        'aws_sns_topic_subscription',
        'aws_sqs_queue',
        'aws_sqs_queue_policy',
      ]);
      expect(Object.keys(tf.resource.aws_sns_topic)).toHaveLength(3);
      expect(Object.keys(tf.resource.aws_sqs_queue)).toHaveLength(4);
      expect(tf.resource.aws_sqs_queue['prod-billing-orders']).toEqual({
        name: 'prod-billing-orders',
        visibility_timeout_seconds: 45,
        kms_master_key_id: 'alias/queues',
        redrive_policy: JSON.stringify({ deadLetterTargetArn: '${aws_sqs_queue.prod-billing-orders-dlq.arn}', maxReceiveCount: 5 }),
        tags: { team: 'payments' },
      });
      expect(tf.resource.aws_sqs_queue['prod-billing--ledger-entry_fifo']).toMatchObject({ fifo_queue: true });
      expect(tf.resource.aws_sns_topic['prod-ledger-entry_fifo']).toMatchObject({ fifo_topic: true, kms_master_key_id: 'alias/topics' });
      const policy = tf.resource.aws_sqs_queue_policy['prod-billing-orders'] as { queue_url: string; policy: string };
      expect(policy.queue_url).toBe('${aws_sqs_queue.prod-billing-orders.id}');
      expect(JSON.parse(policy.policy).Statement[0].Condition.ArnEquals['aws:SourceArn']).toEqual([
        '${aws_sns_topic.prod-order-refunded.arn}',
        '${aws_sns_topic.prod-order___2e_paid.arn}',
      ]);
      const paid = Object.values(tf.resource.aws_sns_topic_subscription).find(
        (s) => s.topic_arn === '${aws_sns_topic.prod-order___2e_paid.arn}',
      );
      expect(paid).toEqual({
        topic_arn: '${aws_sns_topic.prod-order___2e_paid.arn}',
        protocol: 'sqs',
        endpoint: '${aws_sqs_queue.prod-billing-orders.arn}',
        raw_message_delivery: false,
        filter_policy: JSON.stringify({ currency: ['EUR', 'USD'] }),
        filter_policy_scope: 'MessageAttributes',
        depends_on: ['aws_sqs_queue_policy.prod-billing-orders'],
      });
    });

    it('escapes template sequences in literal values', () => {
      const tf = toTerraform({ ...topology, topics: [{ ...topology.topics[0], tags: { note: 'costs ${x} and %{y}' } }] });
      expect(Object.values(tf.resource.aws_sns_topic)[0].tags).toEqual({ note: 'costs $${x} and %%{y}' });
    });
  });

  it('RabbitMQ definitions refuse an SNS+SQS topology, CloudFormation and Terraform refuse an AMQP one', () => {
    expect(() => toRabbitMqDefinitions(topology)).toThrow("this topology's transport is 'sns-sqs': describe an AMQP connection");
    expect(() => toCloudFormation({ ...topology, transport: 'amqp' })).toThrow(
      "this topology's transport is 'amqp': describe an SNS+SQS connection",
    );
    expect(() => toTerraform({ ...topology, transport: 'amqp' })).toThrow(
      "this topology's transport is 'amqp': describe an SNS+SQS connection",
    );
  });
});
