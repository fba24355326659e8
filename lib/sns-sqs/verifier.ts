import { GetSubscriptionAttributesCommand } from '@aws-sdk/client-sns';
import type { QueuePlan } from '../transport/broker.js';
import { TopologyVerificationError, type TopologyMismatch } from '../transport/verification-error.js';
import {
  deadLetterQueueAttributes,
  fifoTopicAttributes,
  mainQueueAttributes,
  subscriptionFilter,
  topicKmsKey,
  userTags,
} from './desired-state.js';
import { sqsDeadLetterQueueName, queueName, topicName } from './naming.js';
import { allowedSources, policyAllowsTopic } from './policy-check.js';
import { sameJson } from './policy.js';
import type { FoundQueue, SnsSqsLookup } from './lookup.js';
import type { ProvisionedQueue } from './provisioner.js';

/** Attributes compared as JSON documents rather than strings. */
const JSON_ATTRIBUTES = new Set(['RedrivePolicy']);
const show = (value: string | undefined) => (value === undefined || value === '' ? '(none)' : value);

/**
 * `provisioning: 'verify'`: read calls only. Checks every topic, queue, dead-letter queue (and redrive policy),
 * visibility timeout, KMS setting, queue policy, subscription (and filter policy) and tag the handlers need, and
 * throws one TopologyVerificationError listing every mismatch, each with what was expected and what was found.
 */
export async function verifySnsSqsTopology(lookup: SnsSqsLookup, plans: readonly QueuePlan[]): Promise<ProvisionedQueue[]> {
  const mismatches: TopologyMismatch[] = [];
  const provisioned: ProvisionedQueue[] = [];
  for (const plan of plans) {
    const queue = await verifyQueuePlan(lookup, plan, mismatches);
    if (queue) provisioned.push(queue);
  }
  if (mismatches.length > 0) throw new TopologyVerificationError('sns-sqs', await lookup.endpoint(), mismatches, 'verify');
  return provisioned;
}

async function verifyQueuePlan(
  lookup: SnsSqsLookup,
  plan: QueuePlan,
  mismatches: TopologyMismatch[],
): Promise<ProvisionedQueue | undefined> {
  const { options } = lookup;
  const tags = userTags(options);
  // The queue first: its ARN tells the account and region, so topics can be found even when none is listed yet.
  const name = queueName(plan);
  const queue = await lookup.findQueue(name);
  const dlqName = sqsDeadLetterQueueName(plan);
  const deadLetter = dlqName ? await lookup.findQueue(dlqName) : undefined;
  if (dlqName) {
    if (!deadLetter)
      mismatches.push({
        kind: 'dead-letter queue',
        resource: dlqName,
        expected: `a queue${plan.fifo ? ' (FIFO)' : ''} with ${describe(deadLetterQueueAttributes(options))}`,
        found: 'no such queue',
      });
    else {
      compareAttributes('dead-letter queue', dlqName, deadLetter, deadLetterQueueAttributes(options), mismatches);
      await compareQueueTags(lookup, 'dead-letter queue', dlqName, deadLetter, tags, mismatches);
    }
  }
  const topics = await Promise.all(
    plan.subscriptions.map(async (sub) => {
      // another account's topic is the owner's to keep: only its subscription and our queue policy are checked
      if (sub.topicArn !== undefined) return sub.topicArn;
      const topic = topicName(options.topicPrefix, sub.pattern, plan.fifo);
      const found = await lookup.findTopic(topic);
      if (!found) {
        mismatches.push({
          kind: 'topic',
          resource: topic,
          expected: `an SNS topic${plan.fifo ? ' (FIFO)' : ''} for @EventPattern('${sub.pattern}')`,
          found: 'no such topic',
        });
        return undefined;
      }
      for (const [attribute, expected] of Object.entries(fifoTopicAttributes(options, plan.fifo))) {
        if ((found.attributes[attribute] ?? '') !== expected)
          mismatches.push({ kind: 'topic', resource: topic, attribute, expected, found: show(found.attributes[attribute]) });
      }
      const kms = topicKmsKey(options);
      if (kms !== undefined && (found.attributes.KmsMasterKeyId ?? '') !== kms) {
        mismatches.push({
          kind: 'topic',
          resource: topic,
          attribute: 'KmsMasterKeyId',
          expected: show(kms),
          found: show(found.attributes.KmsMasterKeyId),
        });
      }
      if (Object.keys(tags).length > 0) compareTags('topic', topic, tags, await lookup.topicTags(found.arn), mismatches);
      return found.arn;
    }),
  );
  if (!queue) {
    mismatches.push({
      kind: 'queue',
      resource: name,
      expected: `a queue${plan.fifo ? ' (FIFO)' : ''} with ${describe(mainQueueAttributes(plan, options, deadLetter?.arn ?? (dlqName ? `<arn of ${dlqName}>` : undefined)))}`,
      found: 'no such queue',
    });
    return undefined;
  }
  compareAttributes(
    'queue',
    name,
    queue,
    mainQueueAttributes(plan, options, deadLetter?.arn ?? (dlqName ? `<arn of ${dlqName}>` : undefined)),
    mismatches,
  );
  await compareQueueTags(lookup, 'queue', name, queue, tags, mismatches);
  const subscriptionArns: string[] = [];
  for (const [i, sub] of plan.subscriptions.entries()) {
    const topicArn = topics[i];
    if (!topicArn) continue;
    if (!policyAllowsTopic(queue.attributes.Policy, topicArn)) {
      const sources = allowedSources(queue.attributes.Policy);
      mismatches.push({
        kind: 'queue',
        resource: name,
        attribute: 'Policy',
        expected: `an Allow statement for sqs:SendMessage from sns.amazonaws.com with aws:SourceArn ${topicArn}`,
        found: queue.attributes.Policy
          ? `SendMessage allowed from ${sources.length > 0 ? sources.join(', ') : 'no SNS topic'}`
          : '(no policy)',
      });
    }
    const subscriptionArn = await lookup.findSubscription(topicArn, queue.arn, sub.topicArn !== undefined);
    const resource = `${topicArn} → ${queue.arn}`;
    const { filterPolicy, scope } = subscriptionFilter(sub);
    if (!subscriptionArn) {
      mismatches.push({
        kind: 'subscription',
        resource,
        expected: `an sqs subscription${filterPolicy ? ` with FilterPolicy ${filterPolicy}` : ''}`,
        found: 'no such subscription',
      });
      continue;
    }
    subscriptionArns.push(subscriptionArn);
    const { Attributes = {} } = await lookup.send(
      'sns',
      subscriptionArn,
      new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }),
    );
    const currentPolicy = Attributes.FilterPolicy ?? '';
    if (filterPolicy === undefined ? currentPolicy !== '' && currentPolicy !== '{}' : !sameJson(currentPolicy, filterPolicy)) {
      mismatches.push({
        kind: 'subscription',
        resource,
        attribute: 'FilterPolicy',
        expected: show(filterPolicy),
        found: show(currentPolicy),
      });
    }
    if (scope !== undefined && (Attributes.FilterPolicyScope ?? 'MessageAttributes') !== scope) {
      mismatches.push({
        kind: 'subscription',
        resource,
        attribute: 'FilterPolicyScope',
        expected: scope,
        found: Attributes.FilterPolicyScope ?? 'MessageAttributes',
      });
    }
    if (Attributes.RawMessageDelivery === 'true') {
      mismatches.push({
        kind: 'subscription',
        resource,
        attribute: 'RawMessageDelivery',
        expected: 'false (handlers read the SNS notification)',
        found: 'true',
      });
    }
  }
  return {
    plan,
    url: queue.url,
    arn: queue.arn,
    deadLetter: deadLetter ? { url: deadLetter.url, arn: deadLetter.arn } : undefined,
    subscriptionArns,
  };
}

function compareAttributes(
  kind: string,
  resource: string,
  queue: FoundQueue,
  wanted: Record<string, string>,
  mismatches: TopologyMismatch[],
): void {
  for (const [attribute, expected] of Object.entries(wanted)) {
    const found = queue.attributes[attribute] ?? '';
    if (JSON_ATTRIBUTES.has(attribute) ? sameJson(found, expected) : found === expected) continue;
    mismatches.push({ kind, resource, attribute, expected: show(expected), found: show(found) });
  }
}

async function compareQueueTags(
  lookup: SnsSqsLookup,
  kind: string,
  resource: string,
  queue: FoundQueue,
  tags: Record<string, string>,
  mismatches: TopologyMismatch[],
): Promise<void> {
  if (Object.keys(tags).length === 0) return;
  compareTags(kind, resource, tags, await lookup.queueTags(queue.url, resource), mismatches);
}

function compareTags(
  kind: string,
  resource: string,
  wanted: Record<string, string>,
  current: Record<string, string>,
  mismatches: TopologyMismatch[],
): void {
  for (const [key, value] of Object.entries(wanted)) {
    if (current[key] !== value)
      mismatches.push({
        kind,
        resource,
        attribute: `tag ${key}`,
        expected: JSON.stringify(value),
        found: key in current ? JSON.stringify(current[key]) : '(no such tag)',
      });
  }
}

function describe(attributes: Record<string, string>): string {
  const entries = Object.entries(attributes).map(([k, v]) => `${k}=${show(v)}`);
  return entries.length > 0 ? entries.join(', ') : 'default attributes';
}
