import { Controller } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
} from '@aws-sdk/client-sqs';
import { DeleteTopicCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
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
    const { QueueUrls = [] } = await emulator.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    for (const QueueUrl of QueueUrls) await emulator.sqs.send(new DeleteQueueCommand({ QueueUrl }));
    const { Topics = [] } = await emulator.sns.send(new ListTopicsCommand({}));
    for (const t of Topics) if (t.TopicArn?.includes(prefix)) await emulator.sns.send(new DeleteTopicCommand({ TopicArn: t.TopicArn }));
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
});
