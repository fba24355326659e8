import { MessagingError } from '../errors.js';
import { regionOfArn } from '../naming/topic-arn.js';
import { splitPlaceholders } from './arn-placeholders.js';
import { ResourceIds, terraformName } from './resource-ids.js';
import type { MessagingTopology, TopologyQueue } from './topology.types.js';

export interface TerraformJson {
  '//': string;
  resource: Record<string, Record<string, Record<string, unknown>>>;
  output: Record<string, { value: string }>;
}

/** SQS attribute → aws_sqs_queue argument; values stay strings where Terraform takes JSON text. */
const ARGUMENTS: Record<string, { name: string; type: 'number' | 'string' | 'bool' | 'json' }> = {
  VisibilityTimeout: { name: 'visibility_timeout_seconds', type: 'number' },
  MessageRetentionPeriod: { name: 'message_retention_seconds', type: 'number' },
  DelaySeconds: { name: 'delay_seconds', type: 'number' },
  MaximumMessageSize: { name: 'max_message_size', type: 'number' },
  KmsMasterKeyId: { name: 'kms_master_key_id', type: 'string' },
  KmsDataKeyReusePeriodSeconds: { name: 'kms_data_key_reuse_period_seconds', type: 'number' },
  SqsManagedSseEnabled: { name: 'sqs_managed_sse_enabled', type: 'bool' },
  ContentBasedDeduplication: { name: 'content_based_deduplication', type: 'bool' },
  RedrivePolicy: { name: 'redrive_policy', type: 'json' },
  RedriveAllowPolicy: { name: 'redrive_allow_policy', type: 'json' },
};

/** A literal for a Terraform JSON string, which is a template: `${` and `%{` are escaped. */
const literal = (text: string) => text.replace(/([$%])\{/g, (_match, sigil: string) => `${sigil}${sigil}{`);

/**
 * Terraform JSON (`*.tf.json`) declaring the SNS+SQS topology: aws_sns_topic, aws_sqs_queue, aws_sqs_queue_policy
 * and aws_sns_topic_subscription, ARNs as references. Per-process queues are left out (named in the `//` comment).
 */
export function toTerraform(topology: MessagingTopology): TerraformJson {
  if (topology.transport !== 'sns-sqs')
    throw new MessagingError(
      `Terraform output describes SNS+SQS resources; this topology's transport is '${topology.transport}': describe an SNS+SQS connection (describeTopology({ connection }), the topology CLI's --connection)`,
    );
  const ids = new ResourceIds(terraformName);
  const topicRef = (name: string) => `aws_sns_topic.${ids.id('topic', name)}`;
  const queueRef = (name: string) => `aws_sqs_queue.${ids.id('queue', name)}`;
  /** A JSON document (as text) with its placeholder ARNs turned into interpolations. */
  const interpolate = (json: string) =>
    splitPlaceholders(json)
      .map((p) => (typeof p === 'string' ? literal(p) : `\${${p.kind === 'topic' ? topicRef(p.name) : queueRef(p.name)}.arn}`))
      .join('');
  const topics: Record<string, Record<string, unknown>> = {};
  const queues: Record<string, Record<string, unknown>> = {};
  const policies: Record<string, Record<string, unknown>> = {};
  const subscriptions: Record<string, Record<string, unknown>> = {};
  const output: TerraformJson['output'] = {};

  for (const topic of topology.topics) {
    topics[ids.id('topic', topic.name)] = {
      name: literal(topic.name),
      ...(topic.fifo ? { fifo_topic: true } : {}),
      ...(topic.kmsMasterKeyId ? { kms_master_key_id: literal(topic.kmsMasterKeyId) } : {}),
      ...(Object.keys(topic.tags).length > 0 ? { tags: literalTags(topic.tags) } : {}),
    };
  }
  for (const queue of topology.queues.filter((q) => !q.perProcess)) {
    const id = ids.id('queue', queue.name);
    queues[id] = queueArguments(queue, interpolate);
    output[`${id}_url`] = { value: `\${${queueRef(queue.name)}.url}` };
    if (queue.policy) policies[id] = { queue_url: `\${${queueRef(queue.name)}.id}`, policy: interpolate(queue.policy.document) };
  }
  for (const sub of topology.subscriptions.filter((s) => !s.perProcess)) {
    subscriptions[ids.id('subscription', `${sub.topicArn ?? sub.topic}--${sub.queue}`)] = {
      topic_arn: sub.topicArn ?? `\${${topicRef(sub.topic)}.arn}`,
      // a topic named by ARN may be in another region: the subscription is made there (AWS provider 6 or later)
      ...(sub.topicArn !== undefined ? { region: regionOfArn(sub.topicArn) } : {}),
      protocol: 'sqs',
      endpoint: `\${${queueRef(sub.queue)}.arn}`,
      raw_message_delivery: false,
      ...(sub.filterPolicy !== undefined ? { filter_policy: literal(sub.filterPolicy), filter_policy_scope: sub.filterPolicyScope } : {}),
      // SNS delivers only once the queue policy lets the topic send
      depends_on: [`aws_sqs_queue_policy.${ids.id('queue', sub.queue)}`],
    };
  }
  const resource: TerraformJson['resource'] = {};
  if (Object.keys(topics).length > 0) resource.aws_sns_topic = topics;
  if (Object.keys(queues).length > 0) resource.aws_sqs_queue = queues;
  if (Object.keys(policies).length > 0) resource.aws_sqs_queue_policy = policies;
  if (Object.keys(subscriptions).length > 0) resource.aws_sns_topic_subscription = subscriptions;
  const skipped = [
    topology.perProcessQueues.length > 0 ? ` Per-process queues not declared: ${topology.perProcessQueues.join(', ')}.` : '',
    topology.existingQueues.length > 0 ? ` Existing queues (the queue extra) not declared: ${topology.existingQueues.join(', ')}.` : '',
    topology.wildcardSubscriptions.length > 0
      ? ` Wildcard subscriptions not declared (subscribe each matching topic): ${topology.wildcardSubscriptions.map((w) => `${w.queue} <- ${w.pattern}`).join(', ')}.`
      : '',
  ].join('');
  return {
    '//': `SNS topics, SQS queues and subscriptions the handlers of ${topology.serviceName} need (generated by nestjs-messaging).${skipped}`,
    resource,
    output,
  };
}

function literalTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, literal(v)]));
}

function queueArguments(queue: TopologyQueue, interpolate: (json: string) => string): Record<string, unknown> {
  const args: Record<string, unknown> = { name: literal(queue.name) };
  if (queue.fifo) args.fifo_queue = true;
  for (const [attribute, value] of Object.entries(queue.attributes)) {
    const argument = ARGUMENTS[attribute];
    if (!argument) throw new MessagingError(`No aws_sqs_queue argument is known for SQS attribute ${attribute}`);
    if (value === '') continue; // '' = none: leave the argument out
    if (argument.type === 'number') args[argument.name] = Number(value);
    else if (argument.type === 'bool') args[argument.name] = value === 'true';
    else if (argument.type === 'json') args[argument.name] = interpolate(value);
    else args[argument.name] = literal(value);
  }
  if (Object.keys(queue.tags).length > 0) args.tags = literalTags(queue.tags);
  return args;
}
