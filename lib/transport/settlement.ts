import type { DeliveryOutcome, QueuePlan } from './broker.js';

/** The longest retry delay, in seconds, whatever the attempt (SQS caps visibility backoffs here too). */
export const MAX_RETRY_DELAY_SECONDS = 900;
/** Reasons are stored with dead-lettered messages (SQS attribute, AMQP header): keep them readable and small. */
export const MAX_REASON_LENGTH = 1000;

export type Settlement =
  | { action: 'ack' }
  /** `deadLetterMissing`: it should have been dead-lettered but the queue has none (the consumer logs an error). */
  | { action: 'retry'; delaySeconds: number; reason: string; deadLetterMissing?: true }
  | { action: 'dead-letter'; reason: string };

type SettlementPolicy = Pick<QueuePlan, 'maxReceiveCount' | 'retryBackoff' | 'deadLetter'>;

/**
 * What happens to a delivered message, for every transport: ack when the handler resolved; retry after
 * `retryBackoff × 2^(attempt−1)` seconds (at most 900) while attempts remain; dead-letter once `maxReceiveCount`
 * attempts failed, or at once when the dispatcher asked for it. A queue without a dead-letter queue keeps retrying
 * on the same capped backoff (the consumer logs it as an error): nothing is dropped.
 */
export function settle(outcome: DeliveryOutcome, receiveCount: number, policy: SettlementPolicy): Settlement {
  if (outcome.kind === 'ack') return { action: 'ack' };
  const retry = (reason: string): Settlement => ({
    action: 'retry',
    delaySeconds: retryDelaySeconds(policy.retryBackoff, receiveCount),
    reason: truncateReason(reason),
  });
  if (outcome.kind === 'retry' && receiveCount < policy.maxReceiveCount) return retry(outcome.reason);
  const reason = outcome.kind === 'retry' ? `failed ${receiveCount} time(s), last: ${outcome.reason}` : outcome.reason;
  if (!policy.deadLetter) return { ...retry(reason), deadLetterMissing: true } as Settlement;
  return { action: 'dead-letter', reason: truncateReason(reason) };
}

/** The delay before attempt `receiveCount + 1`: doubles per attempt from `retryBackoff`, capped at 900 s. */
export function retryDelaySeconds(retryBackoff: number, receiveCount: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, retryBackoff * 2 ** (Math.max(1, receiveCount) - 1));
}

export function truncateReason(reason: string): string {
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason;
}
