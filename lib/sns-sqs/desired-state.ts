import { createHash } from 'node:crypto';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan, SubscriptionPlan } from '../transport/broker.js';
import { kmsValue } from './kms.js';
import { sqsDeadLetterQueueName, topicName } from './naming.js';

/** Dead-letter queues keep messages for the SQS maximum, 14 days. */
const DLQ_RETENTION_SECONDS = '1209600';

/**
 * The attributes the library wants on SNS+SQS resources, in one place: `create` sets them, `verify` compares them,
 * describeTopology() declares them. An attribute absent here is left as it is.
 */
export function queueKmsAttributes(options: ResolvedMessagingOptions): Record<string, string> {
  const kms = kmsValue(options.snsSqs.sqsKmsMasterKeyId);
  if (kms === undefined) return {};
  const attributes: Record<string, string> = { KmsMasterKeyId: kms };
  if (kms !== '' && options.snsSqs.sqsKmsDataKeyReusePeriod !== undefined) {
    attributes.KmsDataKeyReusePeriodSeconds = String(options.snsSqs.sqsKmsDataKeyReusePeriod);
  }
  return attributes;
}

export function deadLetterQueueAttributes(options: ResolvedMessagingOptions): Record<string, string> {
  return { MessageRetentionPeriod: DLQ_RETENTION_SECONDS, ...queueKmsAttributes(options) };
}

/** The main queue's attributes; RedrivePolicy is '' (none) when the plan has no dead-letter queue. */
export function mainQueueAttributes(
  plan: QueuePlan,
  options: ResolvedMessagingOptions,
  deadLetterArn: string | undefined,
): Record<string, string> {
  return {
    VisibilityTimeout: String(plan.visibilityTimeout),
    ...queueKmsAttributes(options),
    ...fifoQueueAttributes(plan, options),
    RedrivePolicy: deadLetterArn ? JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: plan.maxReceiveCount }) : '',
  };
}

/** A FIFO queue's deduplication and throughput settings, only those configured (the rest are left as they are). */
function fifoQueueAttributes(plan: QueuePlan, options: ResolvedMessagingOptions): Record<string, string> {
  if (!plan.fifo) return {};
  const attributes: Record<string, string> = {};
  const contentBased = plan.contentBasedDeduplication ?? options.snsSqs.contentBasedDeduplication;
  if (contentBased !== undefined) attributes.ContentBasedDeduplication = String(contentBased);
  if (plan.deduplicationScope) attributes.DeduplicationScope = plan.deduplicationScope;
  if (plan.fifoThroughputLimit) attributes.FifoThroughputLimit = plan.fifoThroughputLimit;
  return attributes;
}

/** A FIFO topic's ContentBasedDeduplication when `snsSqs.contentBasedDeduplication` is set; nothing otherwise. */
export function fifoTopicAttributes(options: ResolvedMessagingOptions, fifo: boolean): Record<string, string> {
  const contentBased = options.snsSqs.contentBasedDeduplication;
  return fifo && contentBased !== undefined ? { ContentBasedDeduplication: String(contentBased) } : {};
}

/** The topic's KmsMasterKeyId: undefined leaves it as it is, '' means none. */
export function topicKmsKey(options: ResolvedMessagingOptions): string | undefined {
  return kmsValue(options.snsSqs.snsKmsMasterKeyId);
}

/** The subscription's FilterPolicy (JSON) and FilterPolicyScope, both undefined when it has none. */
export function subscriptionFilter(sub: SubscriptionPlan): { filterPolicy?: string; scope?: 'MessageAttributes' | 'MessageBody' } {
  if (sub.filterPolicy === undefined) return {};
  return { filterPolicy: JSON.stringify(sub.filterPolicy), scope: sub.filterPolicyScope ?? 'MessageAttributes' };
}

/** The user's `snsSqs.tags` (empty when unset). */
export function userTags(options: ResolvedMessagingOptions): Record<string, string> {
  return { ...(options.snsSqs.tags ?? {}) };
}

/** Tags of `wanted` that `current` lacks or holds with another value. */
export function tagChanges(wanted: Record<string, string>, current: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(wanted).filter(([key, value]) => current[key] !== value));
}

/** Marks a queue policy `Id` as the fingerprint provisioning 'create' wrote (see queueFingerprint). */
const FINGERPRINT_PREFIX = 'nestjs-messaging:';

/**
 * The fingerprint of what a warm start does not read back, one short hash per setting the configuration pins: `d` the
 * dead-letter queue (name, retention), `n` the topics feeding the queue, `k` the queues' KMS setting, `c` the topics'
 * ContentBasedDeduplication, `t` the topics' KMS key (the last three only when configured: unset leaves them as they
 * are, so any value is right). Provisioning 'create' keeps it as the queue policy's `Id`, written once all of these were
 * applied. A start whose pinned settings all match it (and whose dead-letter queue is listed) reads none of them again:
 * a change of configuration is always applied, but the same settings changed out of band (a dead-letter queue's
 * retention or KMS key, a topic's KMS key) are not repaired by a warm start; `provisioning: 'verify'` reads and reports
 * them all. What a warm start reads (the queue's attributes and policy, each subscription and its attributes, that the
 * dead-letter queue exists, the queue's tags when snsSqs.tags is set) is repaired as before.
 */
function fingerprintParts(plan: QueuePlan, options: ResolvedMessagingOptions): Record<string, string> {
  const deadLetter = sqsDeadLetterQueueName(plan);
  const queueKms = queueKmsAttributes(options);
  const topicAttributes = fifoTopicAttributes(options, plan.fifo);
  const topicKms = topicKmsKey(options);
  const topics = plan.subscriptions.map((s) => s.topicArn ?? topicName(options.topicPrefix, s.pattern, plan.fifo)).sort();
  const parts: Record<string, unknown> = {
    d: deadLetter ? [deadLetter, DLQ_RETENTION_SECONDS] : 'none',
    n: topics,
    ...(Object.keys(queueKms).length > 0 ? { k: queueKms } : {}),
    ...(Object.keys(topicAttributes).length > 0 ? { c: topicAttributes } : {}),
    ...(topicKms !== undefined ? { t: topicKms } : {}),
  };
  return Object.fromEntries(
    Object.entries(parts).map(([key, value]) => [key, createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12)]),
  );
}

function parseFingerprint(id: string | undefined): Record<string, string> | undefined {
  if (!id?.startsWith(FINGERPRINT_PREFIX)) return undefined;
  return Object.fromEntries(
    id
      .slice(FINGERPRINT_PREFIX.length)
      .split(',')
      .map((part) => part.split('=') as [string, string]),
  );
}

/** Whether policy `Id` `id` says every setting the configuration pins for `plan` was applied. */
export function fingerprintMatches(id: string | undefined, plan: QueuePlan, options: ResolvedMessagingOptions): boolean {
  const found = parseFingerprint(id);
  return found !== undefined && Object.entries(fingerprintParts(plan, options)).every(([key, hash]) => found[key] === hash);
}

/** The fingerprint to write once `plan` was applied: the pinned settings' hashes over those `current` (an `Id`) holds. */
export function queueFingerprint(current: string | undefined, plan: QueuePlan, options: ResolvedMessagingOptions): string {
  const parts = { ...parseFingerprint(current), ...fingerprintParts(plan, options) };
  return `${FINGERPRINT_PREFIX}${Object.keys(parts)
    .sort()
    .map((key) => `${key}=${parts[key]}`)
    .join(',')}`;
}
