import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  MESSAGING_BROKER,
  MessagingEventPattern,
  MessagingModule,
  MessagingServer,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { NoIoBroker } from '../../../lib/bin/no-io-broker.js';
import { toCloudFormation } from '../../../lib/topology/cloudformation.js';
import { toTerraform } from '../../../lib/topology/terraform.js';

@Controller()
class ExtrasController {
  @MessagingEventPattern('order.*', { queueName: 'audit', filterPolicy: { region: ['eu'] } })
  onAnyOrder(@Payload() data: unknown) {
    return data;
  }

  @MessagingEventPattern('order.paid', { queueName: 'audit' })
  onPaid(@Payload() data: unknown) {
    return data;
  }

  @MessagingEventPattern('legacy.import', { queue: 'legacy-inbox' })
  onLegacy(@Payload() data: unknown) {
    return data;
  }
}

async function topologyOf(options: MessagingModuleOptions) {
  @Module({ imports: [MessagingModule.forRoot(options)], controllers: [ExtrasController] })
  class ExtrasModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ExtrasModule] })
    .overrideProvider(MESSAGING_BROKER)
    .useValue(new NoIoBroker())
    .compile();
  try {
    return moduleRef.get(MessagingServer).describeTopology();
  } finally {
    await moduleRef.close();
  }
}

describe('describeTopology() with queue-only handlers and wildcard patterns', () => {
  it('SNS+SQS: an existing queue gets no queue, topic or subscription; a wildcard gets no literal topic but is listed', async () => {
    const topology = await topologyOf({ transport: 'sns-sqs', serviceName: 'svc', snsSqs: { region: 'eu-west-1' } });
    expect(topology.existingQueues).toEqual(['legacy-inbox']);
    expect(topology.queues.map((q) => q.name).sort()).toEqual(['audit', 'audit-dlq']);
    expect(topology.topics.map((t) => t.name)).toEqual(['order___2e_paid']);
    expect(topology.subscriptions.map((s) => [s.queue, s.pattern])).toEqual([['audit', 'order.paid']]);
    expect(topology.wildcardSubscriptions).toEqual([
      { queue: 'audit', pattern: 'order.*', filterPolicy: JSON.stringify({ region: ['eu'] }) },
    ]);
    expect(topology.queues.find((q) => q.name === 'audit')!.policy!.allowedTopics).toEqual(['order___2e_paid']);
    const template = toCloudFormation(topology) as unknown as { Metadata: Record<string, Record<string, unknown>> };
    expect(template.Metadata['nestjs-messaging']).toEqual({
      existingQueuesNotDeclared: ['legacy-inbox'],
      wildcardSubscriptionsNotDeclared: topology.wildcardSubscriptions,
    });
  });

  it('AMQP: an existing queue is neither declared nor bound, only its -retry queue; wildcards bind as routing keys', async () => {
    const topology = await topologyOf({ transport: 'amqp', serviceName: 'svc' });
    expect(topology.existingQueues).toEqual(['legacy-inbox']);
    expect(topology.queues.map((q) => q.name).sort()).toEqual(['audit', 'audit-dlq', 'audit-retry', 'legacy-inbox-retry']);
    expect(topology.subscriptions.map((s) => s.routingKey).sort()).toEqual(['order.*', 'order.paid']);
    expect(topology.wildcardSubscriptions).toEqual([]);
  });
});

const PARTNER_TOPIC = 'arn:aws:sns:us-east-2:222222222222:partner-orders';

@Controller()
class PartnerTopicController {
  @MessagingEventPattern('partner-order', { topicArn: PARTNER_TOPIC, filterPolicy: { region: ['eu'] } })
  onPartnerOrder(@Payload() data: unknown) {
    return data;
  }

  @MessagingEventPattern('order.paid')
  onPaid(@Payload() data: unknown) {
    return data;
  }
}

describe('describeTopology() with a topic of another account or region (topicArn)', () => {
  it("declares the queue and subscription but not the owner's topic; the queue policy names the topic's ARN", async () => {
    @Module({
      imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'svc', snsSqs: { region: 'eu-west-1' } })],
      controllers: [PartnerTopicController],
    })
    class PartnerModule {}
    const moduleRef = await Test.createTestingModule({ imports: [PartnerModule] })
      .overrideProvider(MESSAGING_BROKER)
      .useValue(new NoIoBroker())
      .compile();
    const topology = moduleRef.get(MessagingServer).describeTopology();
    await moduleRef.close();

    expect(topology.topics.map((t) => t.name)).toEqual(['order___2e_paid']);
    const subscription = topology.subscriptions.find((s) => s.pattern === 'partner-order')!;
    expect(subscription).toMatchObject({ topic: 'partner-orders', topicArn: PARTNER_TOPIC, queue: 'svc--partner-order' });
    const queue = topology.queues.find((q) => q.name === 'svc--partner-order')!;
    expect(queue.policy!.allowedTopics).toEqual([PARTNER_TOPIC]);
    expect(JSON.parse(queue.policy!.document).Statement[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': PARTNER_TOPIC } });

    const template = toCloudFormation(topology) as unknown as { Resources: Record<string, { Type: string; Properties: any }> };
    const resources = Object.values(template.Resources);
    expect(resources.filter((r) => r.Type === 'AWS::SNS::Topic')).toHaveLength(1);
    const subscribed = resources.find((r) => r.Type === 'AWS::SNS::Subscription' && r.Properties.TopicArn === PARTNER_TOPIC);
    expect(subscribed?.Properties).toMatchObject({ Region: 'us-east-2', Protocol: 'sqs', FilterPolicy: { region: ['eu'] } });
    const policy = resources.find(
      (r) => r.Type === 'AWS::SQS::QueuePolicy' && JSON.stringify(r.Properties.PolicyDocument).includes(PARTNER_TOPIC),
    );
    expect(policy?.Properties.PolicyDocument.Statement[0].Condition).toEqual({ ArnEquals: { 'aws:SourceArn': PARTNER_TOPIC } });

    const terraform = toTerraform(topology);
    const tfSubscriptions = Object.values(terraform.resource.aws_sns_topic_subscription ?? {}) as Array<{
      topic_arn: string;
      region?: string;
    }>;
    expect(tfSubscriptions.find((s) => s.topic_arn === PARTNER_TOPIC)?.region).toBe('us-east-2');
    expect(tfSubscriptions.filter((s) => s.topic_arn !== PARTNER_TOPIC).map((s) => s.region)).toEqual([undefined]);
  });
});
