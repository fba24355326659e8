import type { DeliveryHandler, InboundDelivery, QueuePlan } from '../transport/broker.js';
import { settle } from '../transport/settlement.js';
import type { QueueDeliveryResult } from './types.js';

/**
 * Runs one message through a queue's consumer (the MessagingServer's dispatch: envelope decode, pipes, guards,
 * interceptors, filters, handler) and carries out the same settlement decision a real consumer does. With
 * `redeliver`, a retried message is delivered again at once with the next receive count.
 */
export async function deliverToQueue(
  plan: QueuePlan,
  handler: DeliveryHandler,
  delivery: InboundDelivery,
  redeliver: boolean,
): Promise<QueueDeliveryResult> {
  let receiveCount = delivery.receiveCount;
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const outcome = await handler({ ...delivery, receiveCount });
    const settlement = settle(outcome, receiveCount, plan);
    if (settlement.action === 'ack') return { queue: plan.name, outcome: 'success', attempts };
    if (settlement.action === 'dead-letter') return { queue: plan.name, outcome: 'dead-letter', reason: settlement.reason, attempts };
    if (!redeliver || settlement.deadLetterMissing) {
      return {
        queue: plan.name,
        outcome: 'retry',
        reason: settlement.reason,
        attempts,
        retryDelaySeconds: settlement.delaySeconds,
        ...(settlement.deadLetterMissing ? { deadLetterMissing: true as const } : {}),
      };
    }
    receiveCount += 1;
  }
}
