import { randomUUID } from 'node:crypto';
import { snsSqsTransport } from '../definition.js';
import { Logger } from '@nestjs/common';
import { DeleteTopicCommand, PublishCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, PurgeQueueCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SUBSCRIPTION_DEFAULTS, type ResolvedMessagingOptions } from '../../messaging.options.js';
import { toSnsAttributes } from '../attributes.js';
import { SnsSqsProvisioner } from '../provisioner.js';
import { queueName, sqsDeadLetterQueueNameOf, topicFromArn, topicName } from '../naming.js';
import { queuePolicy, sameJson } from '../policy.js';
import type { AdminBackend, RawPeeked } from '../../transport/admin-backend.js';
import type { QueuePlan } from '../../transport/broker.js';
import {
  AdminConflictError,
  AdminInvalidArgumentError,
  AdminPeekSpendsReceiveError,
  AdminResourceNotFoundError,
} from '../../transport/admin.errors.js';
import { checkSnsTopicName, checkSqsQueueName } from './sqs-names.js';
import type * as Admin from '../../transport/admin.types.js';
import { policySources } from './policy-sources.js';
import { SnsTopics } from './sns-topics.js';
import { peekQueue, redriveQueue } from './sqs-messages.js';
import { queueNameOf, redrivePolicy, redriveTarget, SqsQueues } from './sqs-queues.js';

/** The admin operations on SNS+SQS, with the module's clients, topicPrefix, KMS and tag settings. */
export class SnsSqsAdmin implements AdminBackend {
  private readonly queues: SqsQueues;
  private readonly topics: SnsTopics;
  private readonly provisioner: SnsSqsProvisioner;

  constructor(
    private readonly clients: { sns: SNSClient; sqs: SQSClient },
    private readonly options: ResolvedMessagingOptions,
  ) {
    this.queues = new SqsQueues(clients.sqs);
    this.topics = new SnsTopics(clients.sns, options.topicPrefix);
    this.provisioner = new SnsSqsProvisioner(clients, options, new Logger('MessagingAdmin'));
  }

  async listQueues({ prefix }: Admin.ListOptions): Promise<Admin.QueueSummary[]> {
    return (await this.queues.list(prefix)).map((url) => ({ name: queueNameOf(url), url })).sort((a, b) => a.name.localeCompare(b.name));
  }

  async queueInfo(name: string): Promise<Admin.QueueInfo> {
    checkSqsQueueName(name);
    const queue = await this.queues.find(name);
    const a = queue.attributes;
    const info: Admin.QueueInfo = {
      transport: 'sns-sqs',
      name,
      url: queue.url,
      arn: queue.arn,
      messages: Number(a.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      attributes: a,
      topics: policySources(a.Policy),
    };
    const maxReceiveCount = redrivePolicy(a)?.maxReceiveCount;
    if (maxReceiveCount !== undefined) info.maxReceiveCount = maxReceiveCount;
    const dlqArn = redriveTarget(a);
    if (dlqArn) {
      const dlqName = queueNameOf(dlqArn);
      const dlq = await this.queues.find(dlqName).catch((error: unknown) => {
        if (error instanceof AdminResourceNotFoundError) return undefined;
        throw error;
      });
      info.deadLetterQueue = { name: dlqName, arn: dlqArn, messages: Number(dlq?.attributes.ApproximateNumberOfMessages ?? 0) };
    }
    return info;
  }

  /** The queue is made as startup provisioning makes a plan's queue (provisioner.ts); an existing one is only compared. */
  async createQueue(name: string, options: Admin.CreateQueueOptions): Promise<Admin.CreatedResource> {
    const fifo = options.fifo === true || name.endsWith('.fifo');
    const full = queueName({ name, fifo });
    checkSqsQueueName(full);
    const dlqSetting = options.deadLetterQueue ?? (this.options.deadLetterQueue ? sqsDeadLetterQueueNameOf(full) : false);
    const dlqName = dlqSetting === false ? undefined : queueName({ name: dlqSetting, fifo });
    if (dlqName) checkSqsQueueName(dlqName, 'deadLetterQueue');
    if (dlqName === full)
      throw new AdminInvalidArgumentError('deadLetterQueue', 'must be another queue than the queue itself', options.deadLetterQueue);
    const plan: QueuePlan = {
      name: full,
      competing: true,
      fifo,
      visibilityTimeout: options.visibilityTimeout ?? SUBSCRIPTION_DEFAULTS.visibilityTimeout,
      deadLetter: dlqName ? { name: dlqName } : null,
      maxReceiveCount: options.maxReceiveCount ?? this.options.maxReceiveCount,
      retryBackoff: this.options.retryBackoff,
      concurrency: snsSqsTransport.defaultConcurrency(this.options),
      subscriptions: [],
    };

    const existing = await this.provisioner.lookup.findQueue(full);
    if (existing) {
      const differences = settingsDiffering(existing.attributes, {
        visibilityTimeout: options.visibilityTimeout === undefined ? undefined : String(plan.visibilityTimeout),
        deadLetterQueue: options.deadLetterQueue === undefined ? undefined : (dlqName ?? false),
        maxReceiveCount: options.maxReceiveCount,
      });
      if (differences.length > 0) throw new AdminConflictError(full, differences.join('; '));
      return { name: full, url: existing.url, arn: existing.arn, created: false };
    }
    const { queue } = await this.provisioner.ensurePlannedQueue(plan, undefined, null);
    return { name: full, url: queue.url, arn: queue.arn, created: true };
  }

  async deleteQueue(name: string): Promise<void> {
    checkSqsQueueName(name);
    await this.clients.sqs.send(new DeleteQueueCommand({ QueueUrl: await this.queues.url(name) }));
  }

  async listTopics({ prefix }: Admin.ListOptions): Promise<Admin.TopicSummary[]> {
    return (await this.topics.list())
      .map((arn) => ({ name: arn.slice(arn.lastIndexOf(':') + 1), arn, topic: topicFromArn(arn, this.options.topicPrefix) }))
      .filter((t) => !prefix || t.name.startsWith(prefix))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async topicInfo(topic: string): Promise<Admin.TopicInfo> {
    const arn = await this.topics.arn(topic);
    const [attributes, subscriptions] = await Promise.all([this.topics.attributes(arn), this.topics.subscriptions(arn)]);
    const described = await Promise.all(
      subscriptions
        .filter((s) => s.SubscriptionArn && s.SubscriptionArn !== 'PendingConfirmation')
        .map(async (s): Promise<Admin.SubscriptionInfo> => {
          const a = (await this.topics.subscriptionAttributes(s.SubscriptionArn!)) ?? {};
          return {
            id: s.SubscriptionArn!,
            topic: arn,
            queue: queueNameOf(s.Endpoint ?? ''),
            ...(a.FilterPolicy
              ? { filterPolicy: JSON.parse(a.FilterPolicy), filterPolicyScope: a.FilterPolicyScope ?? 'MessageAttributes' }
              : {}),
          };
        }),
    );
    return { transport: 'sns-sqs', name: arn.slice(arn.lastIndexOf(':') + 1), arn, attributes, subscriptions: described };
  }

  async createTopic(topic: string, options: Admin.CreateTopicOptions): Promise<Admin.CreatedResource> {
    const name = topicName(this.options.topicPrefix, topic, options.fifo === true);
    checkSnsTopicName(name, topic);
    const existing = await this.provisioner.lookup.findTopic(name);
    if (existing) return { name, arn: existing.arn, created: false };
    return { name, arn: await this.provisioner.createTopic(name, options.fifo === true), created: true };
  }

  async deleteTopic(topic: string): Promise<void> {
    await this.clients.sns.send(new DeleteTopicCommand({ TopicArn: await this.topics.arn(topic) }));
  }

  /** Lets the topic send to the queue (merged into the queue policy), then subscribes with the filter policy (or updates it). */
  async subscribe(topic: string, queueName: string, options: Admin.SubscribeOptions): Promise<Admin.SubscriptionInfo> {
    checkSqsQueueName(queueName);
    const [topicArn, queue] = await Promise.all([this.topics.arn(topic), this.queues.find(queueName)]);
    const policy = queuePolicy(queue.arn, [...policySources(queue.attributes.Policy), topicArn]);
    if (!sameJson(queue.attributes.Policy, policy)) await this.queues.setAttributes(queue.url, { Policy: policy });
    const { filterPolicy, filterPolicyScope } = options;
    const id = await this.provisioner.ensureSubscription(topicArn, queue.arn, { pattern: topic, filterPolicy, filterPolicyScope });
    return {
      id,
      topic: topicArn,
      queue: queueName,
      ...(filterPolicy ? { filterPolicy, filterPolicyScope: filterPolicyScope ?? 'MessageAttributes' } : {}),
    };
  }

  async unsubscribe(id: string): Promise<void> {
    if (!id.startsWith('arn:')) throw new AdminInvalidArgumentError('subscription', 'an SNS SubscriptionArn', id);
    if (!(await this.topics.subscriptionAttributes(id))) throw new AdminResourceNotFoundError('subscription', id);
    await this.clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: id }));
  }

  async envelopeTopic(topic: string): Promise<string> {
    if (!topic.startsWith('arn:')) return topic;
    return topicFromArn(topic, this.options.topicPrefix) ?? topic.slice(topic.lastIndexOf(':') + 1);
  }

  async publish(topic: string, body: string | Buffer, options: Admin.PublishOptions): Promise<Admin.SentMessage> {
    const arn = await this.topics.arn(topic);
    const attributes = toSnsAttributes(options.attributes ?? {}, topic);
    const fifo = arn.endsWith('.fifo');
    refuseGroupWithoutFifo(options.groupId, fifo, `topic "${topic}"`);
    const { MessageId } = await this.clients.sns.send(
      new PublishCommand({
        TopicArn: arn,
        Message: text(body),
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
        ...(fifo ? { MessageGroupId: options.groupId ?? 'admin', MessageDeduplicationId: randomUUID() } : {}),
      }),
    );
    return { messageId: MessageId };
  }

  /** The envelope wrapped as the SNS notification a subscribed queue would hold, so the app's consumer dispatches it by `topic`. */
  async sendToQueue(
    queueName: string,
    topic: string,
    body: string | Buffer,
    options: Admin.SendToQueueOptions,
  ): Promise<Admin.SentMessage> {
    checkSqsQueueName(queueName);
    const fifo = queueName.endsWith('.fifo');
    refuseGroupWithoutFifo(options.groupId, fifo, `queue "${queueName}"`);
    const queue = await this.queues.find(queueName);
    const [, partition, , region, account] = queue.arn.split(':');
    const messageId = randomUUID();
    const attributes = toSnsAttributes(options.attributes ?? {}, topic);
    const notification = {
      Type: 'Notification',
      MessageId: messageId,
      TopicArn: `arn:${partition}:sns:${region}:${account}:${topicName(this.options.topicPrefix, topic, fifo)}`,
      Message: text(body),
      Timestamp: new Date().toISOString(),
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [
          k,
          { Type: v.DataType, Value: v.StringValue ?? Buffer.from(v.BinaryValue ?? new Uint8Array()).toString('base64') },
        ]),
      ),
    };
    await this.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify(notification),
        ...(options.delaySeconds !== undefined ? { DelaySeconds: options.delaySeconds } : {}),
        ...(fifo ? { MessageGroupId: options.groupId ?? 'admin', MessageDeduplicationId: messageId } : {}),
      }),
    );
    return { messageId };
  }

  /** A receive on SQS: refused on a queue that dead-letters by receive count unless the caller accepts spending one. */
  async peek(queueName: string, max: number, spendReceive: boolean): Promise<RawPeeked[]> {
    checkSqsQueueName(queueName);
    const queue = await this.queues.find(queueName);
    const policy = redrivePolicy(queue.attributes);
    if (policy && !spendReceive)
      throw new AdminPeekSpendsReceiveError(queueName, policy.maxReceiveCount, queueNameOf(policy.deadLetterTargetArn));
    return peekQueue(this.clients.sqs, queue.url, max, this.options.topicPrefix);
  }

  async purge(queueName: string): Promise<void> {
    checkSqsQueueName(queueName);
    await this.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: await this.queues.url(queueName) }));
  }

  async redrive(deadLetterQueue: string, options: Admin.RedriveOptions): Promise<Admin.RedriveResult> {
    checkSqsQueueName(deadLetterQueue);
    if (options.to !== undefined) checkSqsQueueName(options.to, 'to');
    if (options.to === deadLetterQueue)
      throw new AdminInvalidArgumentError('to', 'must be another queue than the dead-letter queue', options.to);
    const from = await this.queues.find(deadLetterQueue);
    let to: string;
    let toUrl: string;
    // what is in the queue now: messages that come back during the move (a loop through other queues) stay for next time
    const waiting = Number(from.attributes.ApproximateNumberOfMessages ?? 0);
    if (options.to !== undefined) {
      to = options.to;
      toUrl = await this.queues.url(to);
    } else {
      const sources = await this.queues.sourcesOf(from.arn);
      if (sources.length !== 1)
        throw new AdminResourceNotFoundError(
          'dead-letter source',
          deadLetterQueue,
          sources.length === 0
            ? 'no queue has it as its RedrivePolicy target; pass { to } to name the queue to move the messages to'
            : `${sources.length} queues send to it (${sources.map((s) => s.name).join(', ')}); pass { to } to choose one`,
        );
      to = sources[0].name;
      toUrl = sources[0].url;
    }
    if (toUrl === from.url)
      throw new AdminInvalidArgumentError(
        'to',
        `the RedrivePolicy of "${deadLetterQueue}" names the queue itself, so moving its messages "back" would move them in a circle; pass { to } naming another queue`,
      );
    const moved = await redriveQueue(this.clients.sqs, from.url, toUrl, Math.min(options.max ?? waiting, waiting), options.signal);
    return { from: deadLetterQueue, to, moved };
  }

  /** The clients belong to MessagingModule's broker. */
  async close(): Promise<void> {}
}

function text(body: string | Buffer): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

/** A message group orders messages only on FIFO topics and queues; elsewhere SNS and SQS would drop it silently. */
function refuseGroupWithoutFifo(groupId: string | undefined, fifo: boolean, target: string): void {
  if (groupId !== undefined && !fifo)
    throw new AdminInvalidArgumentError('groupId', `message groups exist only on FIFO topics and queues; ${target} is not one`, groupId);
}

/** What an existing queue has that the caller asked otherwise for, in words; empty when it matches. */
function settingsDiffering(
  existing: Record<string, string>,
  asked: { visibilityTimeout?: string; deadLetterQueue?: string | false; maxReceiveCount?: number },
): string[] {
  const differences: string[] = [];
  if (asked.visibilityTimeout !== undefined && existing.VisibilityTimeout !== asked.visibilityTimeout)
    differences.push(`VisibilityTimeout is ${existing.VisibilityTimeout}, not ${asked.visibilityTimeout}`);
  const policy = redrivePolicy(existing);
  const dlq = policy ? queueNameOf(policy.deadLetterTargetArn) : false;
  if (asked.deadLetterQueue !== undefined && dlq !== asked.deadLetterQueue)
    differences.push(
      `its dead-letter queue is ${dlq === false ? 'none' : `"${dlq}"`}, not ${asked.deadLetterQueue === false ? 'none' : `"${asked.deadLetterQueue}"`}`,
    );
  if (asked.maxReceiveCount !== undefined && policy?.maxReceiveCount !== asked.maxReceiveCount)
    differences.push(`maxReceiveCount is ${policy?.maxReceiveCount ?? 'unset (no RedrivePolicy)'}, not ${asked.maxReceiveCount}`);
  return differences;
}
