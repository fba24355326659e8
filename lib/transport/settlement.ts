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
 * attempts failed, or at once when the outcome asks for it (rejectionOutcome()). A queue without a dead-letter queue keeps retrying
 * on the same capped backoff (the consumer logs it as an error): nothing is dropped.
 */
export function settle(outcome: DeliveryOutcome, receiveCount: number, policy: SettlementPolicy): Settlement {
  if (outcome.kind === 'ack') return { action: 'ack' };
  const retry = (reason: string): Settlement => ({
    action: 'retry',
    delaySeconds: retryDelaySeconds(policy.retryBackoff, receiveCount),
    reason: truncateReason(reason),
  });
  if (outcome.kind === 'failed' && receiveCount < policy.maxReceiveCount) return retry(outcome.reason);
  const reason = outcome.kind === 'failed' ? `failed ${receiveCount} time(s), last: ${outcome.reason}` : outcome.reason;
  if (!policy.deadLetter) return { ...retry(reason), deadLetterMissing: true } as Settlement;
  return { action: 'dead-letter', reason: truncateReason(reason) };
}

/**
 * Why a message never reached its handler (or its handler refused it), as the transports and the dispatcher find it.
 * Each is settled like a handler's outcome: rejectionOutcome() says which.
 */
export type RejectionCause =
  /** No handler on the queue matches the message's topic. */
  | 'no-handler'
  /** The body is not an SNS notification, a queue body or an envelope this route decodes. */
  | 'undecodable'
  /** A content-encoding the transport cannot inflate, or a body that does not inflate within maxDecodedBytes. */
  | 'bad-encoding'
  /** The body (decoded, or a large payload in S3) is over maxDecodedBytes. */
  | 'too-large'
  /** A large-payload pointer that is not valid, or whose S3 object is gone. */
  | 'payload-missing'
  /** Reading the large payload from S3 failed: S3 may answer on a later attempt. */
  | 'payload-unreadable'
  /** The handler threw DeadLetterError. */
  | 'refused';

/**
 * The outcome of a rejected message: to the dead-letter queue at once (no attempt can succeed where this one could
 * not), except an S3 read that failed, which is retried like a handler failure. settle() then decides as for any
 * outcome (a queue without a dead-letter queue keeps retrying).
 */
export function rejectionOutcome(cause: RejectionCause, reason: string): DeliveryOutcome {
  return cause === 'payload-unreadable' ? { kind: 'failed', reason } : { kind: 'dead-letter', reason };
}

/**
 * Carrying out a decision failed: the move to the dead-letter queue, or (AMQP) the republish to the retry queue, with
 * the decision's reason, the error, and whether the same republish would fail the same way on every attempt (headers
 * over AMQP's 64 KB field table).
 */
export type FailedMove = { to: 'dead-letter' } | { to: 'retry'; reason: string; error: string; permanent: boolean };

/** The failed move to the dead-letter queue (it carries nothing else). */
export const DEAD_LETTER_MOVE = { to: 'dead-letter' } as const satisfies FailedMove;

/** The least a message whose move failed stays away: a broker that refuses the move is not asked again at once. */
export const MIN_REQUEUE_DELAY_SECONDS = 1;

type Requeue = { action: 'requeue'; delaySeconds: number };

/**
 * What happens when a move failed, for every transport: a retry that can never be republished goes to the dead-letter
 * queue now (when the queue has one); otherwise the message stays in (or returns to) its queue and comes back after
 * the attempt's backoff, at least MIN_REQUEUE_DELAY_SECONDS, as another attempt, so it reaches the dead-letter queue in
 * the end.
 */
export function settleFailedMove(move: { to: 'dead-letter' }, receiveCount: number, policy: SettlementPolicy): Requeue;
export function settleFailedMove(
  move: FailedMove,
  receiveCount: number,
  policy: SettlementPolicy,
): Requeue | { action: 'dead-letter'; reason: string };
export function settleFailedMove(
  move: FailedMove,
  receiveCount: number,
  policy: SettlementPolicy,
): Requeue | { action: 'dead-letter'; reason: string } {
  if (move.to === 'retry' && move.permanent && policy.deadLetter)
    return { action: 'dead-letter', reason: truncateReason(`cannot be moved to the retry queue (${move.error}) after: ${move.reason}`) };
  return { action: 'requeue', delaySeconds: Math.max(MIN_REQUEUE_DELAY_SECONDS, retryDelaySeconds(policy.retryBackoff, receiveCount)) };
}

/** The delay before attempt `receiveCount + 1`: doubles per attempt from `retryBackoff`, capped at 900 s. */
export function retryDelaySeconds(retryBackoff: number, receiveCount: number): number {
  return Math.min(MAX_RETRY_DELAY_SECONDS, retryBackoff * 2 ** (Math.max(1, receiveCount) - 1));
}

export function truncateReason(reason: string): string {
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}…` : reason;
}
