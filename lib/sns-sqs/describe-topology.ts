import type { ResolvedMessagingOptions } from '../messaging.options.js';
import {
  deadLetterQueueAttributes,
  fifoTopicAttributes,
  mainQueueAttributes,
  queueFingerprint,
  subscriptionFilter,
  topicKmsKey,
  userTags,
} from './desired-state.js';
import { sqsDeadLetterQueueName, queueName, topicName, validateQueuePlans } from './naming.js';
import { queuePolicy } from './policy.js';
import { isWildcardPattern } from './wildcard-topics.js';
import type { QueuePlan } from '../transport/broker.js';
import { arnPlaceholder } from '../topology/arn-placeholders.js';
import { parseTopicArn } from '../naming/topic-arn.js';
import type { MessagingTopology, TopologyQueue, TopologySubscription, TopologyTopic } from '../topology/topology.types.js';

/**
 * The SNS+SQS topology of the queue plans: the names the broker uses (naming.ts), the attributes `create` sets and
 * `verify` compares (desired-state.ts) and the queue policy `create` writes (policy.ts). No I/O.
 */
export function describeSnsSqsTopology(plans: readonly QueuePlan[], options: ResolvedMessagingOptions): MessagingTopology {
  validateQueuePlans(plans, options.topicPrefix);
  const tags = userTags(options);
  const kms = topicKmsKey(options);
  const topics = new Map<string, TopologyTopic>();
  const queues: TopologyQueue[] = [];
  const subscriptions: TopologySubscription[] = [];
  const existingQueues: string[] = [];
  const wildcardSubscriptions: MessagingTopology['wildcardSubscriptions'] = [];
  for (const plan of plans) {
    if (plan.existingQueue !== undefined) {
      existingQueues.push(plan.existingQueue);
      continue;
    }
    const perProcessQueue = !plan.competing;
    const name = queueName(plan);
    const dlqName = sqsDeadLetterQueueName(plan);
    if (dlqName) {
      queues.push({
        name: dlqName,
        role: 'dead-letter',
        fifo: plan.fifo,
        perProcess: perProcessQueue,
        attributes: deadLetterQueueAttributes(options),
        tags,
      });
    }
    const byArn = plan.subscriptions.filter((sub) => sub.topicArn !== undefined);
    const literal = plan.subscriptions.filter((sub) => sub.topicArn === undefined && !isWildcardPattern(sub.pattern));
    for (const sub of plan.subscriptions.filter((s) => isWildcardPattern(s.pattern))) {
      const { filterPolicy } = subscriptionFilter(sub);
      wildcardSubscriptions.push({ queue: name, pattern: sub.pattern, ...(filterPolicy !== undefined ? { filterPolicy } : {}) });
    }
    const topicNames = literal.map((sub) => topicName(options.topicPrefix, sub.pattern, plan.fifo));
    for (const [i, sub] of literal.entries()) {
      const topic = topicNames[i];
      const known = topics.get(topic);
      if (known) {
        if (!known.patterns.includes(sub.pattern)) known.patterns.push(sub.pattern);
      } else {
        topics.set(topic, { name: topic, patterns: [sub.pattern], fifo: plan.fifo, ...(kms ? { kmsMasterKeyId: kms } : {}), tags });
      }
      const { filterPolicy, scope } = subscriptionFilter(sub);
      subscriptions.push({
        topic,
        queue: name,
        pattern: sub.pattern,
        ...(filterPolicy !== undefined ? { filterPolicy, filterPolicyScope: scope } : {}),
        rawMessageDelivery: false,
        perProcess: perProcessQueue,
      });
    }
    // a topic of another account or region is its owner's: only the subscription and our queue policy are ours
    for (const sub of byArn) {
      const { filterPolicy, scope } = subscriptionFilter(sub);
      subscriptions.push({
        topic: parseTopicArn(sub.topicArn!)!.name,
        topicArn: sub.topicArn,
        queue: name,
        pattern: sub.pattern,
        ...(filterPolicy !== undefined ? { filterPolicy, filterPolicyScope: scope } : {}),
        rawMessageDelivery: false,
        perProcess: perProcessQueue,
      });
    }
    const foreignArns = byArn.map((sub) => sub.topicArn!);
    const allowedTopics = [...new Set([...topicNames, ...foreignArns])].sort();
    queues.push({
      name,
      role: 'main',
      fifo: plan.fifo,
      perProcess: perProcessQueue,
      visibilityTimeout: plan.visibilityTimeout,
      ...(dlqName ? { deadLetter: { queue: dlqName, maxReceiveCount: plan.maxReceiveCount } } : {}),
      attributes: mainQueueAttributes(plan, options, dlqName ? arnPlaceholder('queue', dlqName) : undefined),
      tags,
      policy: {
        allowedTopics,
        // with the fingerprint provisioning 'create' keeps as its Id, so a queue made from the export starts warm; not
        // when it would vouch for a topic setting the export does not carry (FIFO content-based deduplication)
        document: queuePolicy(
          arnPlaceholder('queue', name),
          allowedTopics.map((t) => (foreignArns.includes(t) ? t : arnPlaceholder('topic', t))),
          Object.keys(fifoTopicAttributes(options, plan.fifo)).length === 0 ? queueFingerprint(undefined, plan, options) : undefined,
        ),
      },
    });
  }
  return {
    transport: 'sns-sqs',
    serviceName: options.serviceName,
    topics: [...topics.values()],
    queues,
    subscriptions,
    perProcessQueues: plans.filter((p) => !p.competing && p.existingQueue === undefined).map((p) => queueName(p)),
    existingQueues,
    wildcardSubscriptions,
  };
}
