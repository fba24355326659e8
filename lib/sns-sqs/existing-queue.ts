import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { ProvisioningError } from '../errors.js';
import type { QueuePlan } from '../transport/broker.js';
import type { BrokerRedrive } from '../transport/settlement-log.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import { isNotFound } from './aws-errors.js';
import type { SnsSqsLookup } from './lookup.js';
import type { ProvisionedQueue } from './provisioner.js';

/**
 * A queue-only handler's queue (plan.existingQueue: name, URL or ARN), looked up with read calls only: GetQueueUrl
 * (not for a URL) and GetQueueAttributes QueueArn, VisibilityTimeout and RedrivePolicy (for the log lines: the owner's
 * dead-lettering moves a message the handler keeps failing). Nothing is created, subscribed or changed;
 * the plan's visibility timeout becomes the queue's own (the heartbeat keeps to it). A missing queue fails the start.
 */
export async function lookUpExistingQueue(lookup: SnsSqsLookup, plan: QueuePlan): Promise<ProvisionedQueue> {
  const given = plan.existingQueue!;
  const ref = parseQueueRef(given);
  let url: string | undefined = ref.kind === 'url' ? ref.url : undefined;
  const missing = async (cause?: unknown) =>
    new ProvisioningError(
      'sns-sqs',
      await lookup.endpoint(),
      `GetQueueUrl ${ref.name}`,
      'the queue does not exist',
      `@EventPattern('${plan.subscriptions[0]?.pattern}').queue names an existing queue ('${given}'), which the library never creates: create it, or correct the name (queueNamePrefix is added to a bare name), URL or ARN`,
      { cause },
    );
  if (!url) {
    try {
      const account = ref.kind === 'arn' && ref.account ? { QueueOwnerAWSAccountId: ref.account } : {};
      url = (await lookup.send('sqs', ref.name, new GetQueueUrlCommand({ QueueName: ref.name, ...account }), { notFound: 'pass' }))
        .QueueUrl;
    } catch (error) {
      if (isNotFound(error)) throw await missing(error);
      throw error;
    }
    if (!url) throw await missing();
  }
  let attributes: Record<string, string>;
  try {
    attributes =
      (
        await lookup.send(
          'sqs',
          ref.name,
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'VisibilityTimeout', 'RedrivePolicy'] }),
          {
            notFound: 'pass',
          },
        )
      ).Attributes ?? {};
  } catch (error) {
    if (isNotFound(error)) throw await missing(error);
    throw error;
  }
  const visibilityTimeout = Number(attributes.VisibilityTimeout);
  return {
    plan: { ...plan, visibilityTimeout: Number.isInteger(visibilityTimeout) ? visibilityTimeout : plan.visibilityTimeout },
    url,
    arn: attributes.QueueArn ?? '',
    subscriptionArns: [],
    redrive: redriveOf(attributes.RedrivePolicy),
  };
}

/** A queue's RedrivePolicy attribute as a BrokerRedrive; undefined when it has none or it cannot be read. */
function redriveOf(policy: string | undefined): BrokerRedrive | undefined {
  if (!policy) return undefined;
  try {
    const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(policy) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    const count = Number(maxReceiveCount);
    if (typeof deadLetterTargetArn !== 'string' || !Number.isInteger(count) || count < 1) return undefined;
    return { deadLetterQueue: deadLetterTargetArn.slice(deadLetterTargetArn.lastIndexOf(':') + 1), maxReceiveCount: count };
  } catch {
    return undefined;
  }
}
