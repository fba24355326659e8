import type { QueuePlan } from '../transport/broker.js';
import { TopologyVerificationError, type TopologyMismatch } from '../transport/verification-error.js';
import { sqsDeadLetterQueueName, queueName } from './naming.js';
import type { ProvisionedQueue, SnsSqsProvisioner } from './provisioner.js';

/**
 * `provisioning: 'off'`: trusts the configuration. Looks up each queue's and dead-letter queue's URL and ARN
 * (GetQueueUrl, GetQueueAttributes QueueArn) and nothing else; topics are looked up when first published to.
 * A queue that does not exist fails the start, all of them listed at once.
 */
export async function lookUpSnsSqsTopology(provisioner: SnsSqsProvisioner, plans: readonly QueuePlan[]): Promise<ProvisionedQueue[]> {
  const missing: TopologyMismatch[] = [];
  const provisioned: ProvisionedQueue[] = [];
  for (const plan of plans) {
    const name = queueName(plan);
    const dlqName = sqsDeadLetterQueueName(plan);
    const [queue, deadLetter] = await Promise.all([
      provisioner.queueUrlAndArn(name),
      dlqName ? provisioner.queueUrlAndArn(dlqName) : undefined,
    ]);
    if (!queue) missing.push({ kind: 'queue', resource: name, expected: 'an existing queue', found: 'no such queue' });
    if (dlqName && !deadLetter)
      missing.push({ kind: 'dead-letter queue', resource: dlqName, expected: 'an existing queue', found: 'no such queue' });
    if (queue) provisioned.push({ plan, url: queue.url, arn: queue.arn, deadLetter, subscriptionArns: [] });
  }
  if (missing.length > 0) throw new TopologyVerificationError('sns-sqs', await provisioner.endpoint(), missing, 'off');
  return provisioned;
}
