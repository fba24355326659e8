import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import { GetTopicAttributesCommand, ListTagsForResourceCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { topicName } from '../../../lib/sns-sqs/naming.js';
import { deleteSnsSqsResources, SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsOptions, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName } from '../../support/wait-for.js';
import { startAdminApp, type AdminHttpApp } from './admin-app.js';

const prefix = uniqueName('adp');
const TOPIC = uniqueName('order.placed');
const STARTUP_QUEUE = 'startup';

@Controller()
class FifoController {
  @EventPattern(TOPIC, { fifo: true, queueName: STARTUP_QUEUE, visibilityTimeout: 45, maxReceiveCount: 3 })
  handle() {}
}

/** Attributes that name or date the queue itself, or count its messages: they differ between any two queues. */
const OWN = /^(QueueArn|CreatedTimestamp|LastModifiedTimestamp|Approximate.*|Policy)$/;

describe.each(SNS_SQS_EMULATORS)('admin createQueue provisions as startup does (%s)', (_emulator, start) => {
  let emulator: Fauxqs;
  let http: AdminHttpApp;

  beforeAll(async () => {
    emulator = await start();
    http = await startAdminApp(
      fauxqsOptions(emulator, {
        serviceName: 'admin-provisioning',
        topicPrefix: `${prefix}-`,
        queueNamePrefix: `${prefix}-`,
        snsSqs: {
          tags: { team: 'billing' },
          snsKmsMasterKeyId: 'alias/topic-key',
          sqsKmsMasterKeyId: 'alias/queue-key',
          sqsKmsDataKeyReusePeriod: 600,
          contentBasedDeduplication: true,
        },
      }),
      undefined,
      { controllers: [FifoController] },
    );
  });

  afterAll(async () => {
    await http?.close();
    if (!emulator) return;
    await deleteSnsSqsResources(emulator, prefix);
    await emulator.stop();
  });

  /** A queue's attributes (its own ones left out; the RedrivePolicy's target by name) and tags. */
  const settings = async (name: string) => {
    const { QueueUrl } = await emulator.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes = {} } = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    const { Tags = {} } = await emulator.sqs.send(new ListQueueTagsCommand({ QueueUrl }));
    const attributes = Object.fromEntries(Object.entries(Attributes).filter(([key]) => !OWN.test(key)));
    if (attributes.RedrivePolicy) {
      const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(attributes.RedrivePolicy) as Record<string, unknown>;
      attributes.RedrivePolicy = JSON.stringify({ deadLetterQueue: String(deadLetterTargetArn).split(':').pop(), maxReceiveCount });
    }
    return { attributes, tags: Tags };
  };

  it("gives a FIFO queue and its dead-letter queue the attributes and tags startup gives a handler's queue", async () => {
    const name = `${prefix}-admin.fifo`;
    const created = await http.call('POST', '/queues', { name, visibilityTimeout: 45, maxReceiveCount: 3 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name, created: true });

    const [startup, admin] = await Promise.all([settings(`${prefix}-${STARTUP_QUEUE}.fifo`), settings(name)]);
    expect(admin.attributes).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'true', KmsMasterKeyId: 'alias/queue-key' });
    expect(admin.tags).toEqual({ team: 'billing' });
    expect(JSON.parse(admin.attributes.RedrivePolicy)).toEqual({ deadLetterQueue: `${prefix}-admin-dlq.fifo`, maxReceiveCount: 3 });
    expect({ ...admin, attributes: { ...admin.attributes, RedrivePolicy: undefined } }).toEqual({
      ...startup,
      attributes: { ...startup.attributes, RedrivePolicy: undefined },
    });

    const [startupDlq, adminDlq] = await Promise.all([
      settings(`${prefix}-${STARTUP_QUEUE}-dlq.fifo`),
      settings(`${prefix}-admin-dlq.fifo`),
    ]);
    expect(adminDlq.attributes.MessageRetentionPeriod).toBe('1209600');
    expect(adminDlq).toEqual(startupDlq);
  });

  /** The topic attributes the library decides, and the topic's tags. */
  const topicSettings = async (arn: string) => {
    const { Attributes = {} } = await emulator.sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    const { Tags = [] } = await emulator.sns.send(new ListTagsForResourceCommand({ ResourceArn: arn }));
    const decided = ['FifoTopic', 'ContentBasedDeduplication', 'KmsMasterKeyId'];
    return { attributes: Object.fromEntries(Object.entries(Attributes).filter(([key]) => decided.includes(key))), tags: Tags };
  };

  it('gives a FIFO topic the attributes and tags startup gives, and subscribes a queue with its filter policy', async () => {
    const topic = uniqueName('order.shipped');
    const created = await http.call('POST', '/topics', { name: topic, fifo: true });
    expect(created.status).toBe(201);
    const { Topics = [] } = await emulator.sns.send(new ListTopicsCommand({}));
    const startupTopic = Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topicName(`${prefix}-`, TOPIC, true)}`))!;
    const [startup, admin] = await Promise.all([topicSettings(startupTopic), topicSettings(created.json.arn)]);
    expect(admin.attributes).toEqual({ FifoTopic: 'true', ContentBasedDeduplication: 'true', KmsMasterKeyId: 'alias/topic-key' });
    expect(admin).toEqual(startup);

    const queue = `${prefix}-sub.fifo`;
    expect((await http.call('POST', '/queues', { name: queue, deadLetterQueue: false })).status).toBe(201);
    const subscribed = await http.call('POST', '/subscriptions', { topic, queue, filterPolicy: { color: ['red'] } });
    expect(subscribed.status).toBe(201);
    const again = await http.call('POST', '/subscriptions', { topic, queue, filterPolicy: { color: ['blue'] } });
    expect(again.json).toMatchObject({ id: subscribed.json.id, filterPolicy: { color: ['blue'] }, filterPolicyScope: 'MessageAttributes' });
    const described = await http.call('GET', `/topics/${encodeURIComponent(topic)}`);
    expect(described.json.subscriptions).toEqual([
      expect.objectContaining({ id: subscribed.json.id, queue, filterPolicy: { color: ['blue'] }, filterPolicyScope: 'MessageAttributes' }),
    ]);
  });
});
