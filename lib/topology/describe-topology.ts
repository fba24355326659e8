import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { QueuePlan } from '../transport/broker.js';
import { describeAmqpTopology } from './describe-amqp.js';
import { describeSnsSqsTopology } from './describe-sns-sqs.js';
import type { MessagingTopology } from './topology.types.js';

/** The topology of the queue plans on the configured transport, with the broker's name checks. No I/O. */
export function describeTopologyOf(plans: readonly QueuePlan[], options: ResolvedMessagingOptions): MessagingTopology {
  return options.transport === 'amqp' ? describeAmqpTopology(plans, options) : describeSnsSqsTopology(plans, options);
}
