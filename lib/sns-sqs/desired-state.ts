import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan, SubscriptionPlan } from '../transport/broker.js';
import { kmsValue } from './kms.js';

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
