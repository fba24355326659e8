import {
  MAX_REASON_LENGTH,
  MAX_RETRY_DELAY_SECONDS,
  MIN_REQUEUE_DELAY_SECONDS,
  rejectionOutcome,
  retryDelaySeconds,
  settle,
  settleFailedMove,
  truncateReason,
  type RejectionCause,
} from '../../../lib/transport/settlement.js';

const withDlq = { maxReceiveCount: 3, retryBackoff: 1, deadLetter: { name: 'q-dlq' } };
const withoutDlq = { ...withDlq, deadLetter: null };

describe('settle: the one retry / dead-letter decision', () => {
  it('acks a handled message whatever its attempt', () => {
    expect(settle({ kind: 'ack' }, 1, withDlq)).toEqual({ action: 'ack' });
    expect(settle({ kind: 'ack' }, 99, withoutDlq)).toEqual({ action: 'ack' });
  });

  it('retries a failure while attempts remain, after a doubling backoff', () => {
    expect(settle({ kind: 'failed', reason: 'db down' }, 1, withDlq)).toEqual({ action: 'retry', delaySeconds: 1, reason: 'db down' });
    expect(settle({ kind: 'failed', reason: 'db down' }, 2, withDlq)).toEqual({ action: 'retry', delaySeconds: 2, reason: 'db down' });
  });

  it('dead-letters a failure on the last attempt, with the count and the last reason', () => {
    expect(settle({ kind: 'failed', reason: 'db down' }, 3, withDlq)).toEqual({
      action: 'dead-letter',
      reason: 'failed 3 time(s), last: db down',
    });
    expect(settle({ kind: 'failed', reason: 'db down' }, 7, withDlq)).toEqual({
      action: 'dead-letter',
      reason: 'failed 7 time(s), last: db down',
    });
  });

  it('dead-letters at once when the dispatcher asks, on any attempt', () => {
    expect(settle({ kind: 'dead-letter', reason: 'cannot decode message: x' }, 1, withDlq)).toEqual({
      action: 'dead-letter',
      reason: 'cannot decode message: x',
    });
  });

  it('without a dead-letter queue, keeps retrying on the capped backoff and says why', () => {
    expect(settle({ kind: 'failed', reason: 'db down' }, 2, withoutDlq)).toEqual({ action: 'retry', delaySeconds: 2, reason: 'db down' });
    expect(settle({ kind: 'failed', reason: 'db down' }, 3, withoutDlq)).toEqual({
      action: 'retry',
      delaySeconds: 4,
      reason: 'failed 3 time(s), last: db down',
      deadLetterMissing: true,
    });
    expect(settle({ kind: 'dead-letter', reason: 'poison' }, 1, withoutDlq)).toEqual({
      action: 'retry',
      delaySeconds: 1,
      reason: 'poison',
      deadLetterMissing: true,
    });
    expect(settle({ kind: 'failed', reason: 'db down' }, 40, withoutDlq)).toMatchObject({
      action: 'retry',
      delaySeconds: MAX_RETRY_DELAY_SECONDS,
    });
  });

  it('backoff: retryBackoff × 2^(attempt−1), capped at 900 s, fractions kept for the transport to round', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(0.2, n))).toEqual([0.2, 0.4, 0.8, 1.6]);
    expect(retryDelaySeconds(10, 7)).toBe(640);
    expect(retryDelaySeconds(10, 8)).toBe(900);
    expect(retryDelaySeconds(900, 1)).toBe(900);
    expect(retryDelaySeconds(0, 5)).toBe(0);
    expect(retryDelaySeconds(1, 0)).toBe(1);
  });

  it('truncates long reasons to 1000 characters plus an ellipsis, in every action', () => {
    const long = 'e'.repeat(5000);
    expect(truncateReason(long)).toHaveLength(MAX_REASON_LENGTH + 1);
    expect(truncateReason('short')).toBe('short');
    const dead = settle({ kind: 'dead-letter', reason: long }, 1, withDlq);
    expect(dead.action === 'dead-letter' && dead.reason.endsWith('…')).toBe(true);
    const retry = settle({ kind: 'failed', reason: long }, 1, withDlq);
    expect(retry.action === 'retry' && retry.reason.length).toBe(MAX_REASON_LENGTH + 1);
  });

  // what each rejection becomes, on attempt 1 and on the last attempt, with and without a dead-letter queue
  const REJECTIONS: [RejectionCause, string][] = [
    ['no-handler', 'dead-letter'],
    ['undecodable', 'dead-letter'],
    ['bad-encoding', 'dead-letter'],
    ['too-large', 'dead-letter'],
    ['payload-missing', 'dead-letter'],
    ['refused', 'dead-letter'],
    ['payload-unreadable', 'retry'],
  ];
  it.each(REJECTIONS)('a rejection (%s) on attempt 1 with a dead-letter queue: %s', (cause, action) => {
    expect(settle(rejectionOutcome(cause, 'why'), 1, withDlq)).toEqual(
      action === 'dead-letter' ? { action, reason: 'why' } : { action, delaySeconds: 1, reason: 'why' },
    );
  });

  it.each(REJECTIONS.map(([cause]) => cause))('a rejection (%s) on the last attempt is dead-lettered', (cause) => {
    expect(settle(rejectionOutcome(cause, 'why'), 3, withDlq)).toMatchObject({ action: 'dead-letter' });
  });

  it.each(REJECTIONS.map(([cause]) => cause))('a rejection (%s) without a dead-letter queue is retried, never dropped', (cause) => {
    expect(settle(rejectionOutcome(cause, 'why'), 3, withoutDlq)).toMatchObject({
      action: 'retry',
      delaySeconds: 4,
      deadLetterMissing: true,
    });
  });
});

describe('settleFailedMove: when carrying a decision out failed', () => {
  const withDlq = { maxReceiveCount: 3, retryBackoff: 1, deadLetter: { name: 'q-dlq' } };
  const withoutDlq = { ...withDlq, deadLetter: null };
  const transient = { to: 'retry' as const, reason: 'db down', error: 'channel closed', permanent: false };
  const permanent = { ...transient, error: 'headers too large', permanent: true };

  it.each([
    ['a failed move to the dead-letter queue', { to: 'dead-letter' as const }, withDlq, 2, { action: 'requeue', delaySeconds: 2 }],
    ['a failed republish to the retry queue', transient, withDlq, 3, { action: 'requeue', delaySeconds: 4 }],
    [
      'a retry that can never be republished, without a dead-letter queue',
      permanent,
      withoutDlq,
      1,
      { action: 'requeue', delaySeconds: 1 },
    ],
    [
      'a retry that can never be republished',
      permanent,
      withDlq,
      1,
      { action: 'dead-letter', reason: 'cannot be moved to the retry queue (headers too large) after: db down' },
    ],
  ])('%s', (_, move, policy, receiveCount, expected) => {
    expect(settleFailedMove(move, receiveCount, policy)).toEqual(expected);
  });

  it('requeues after at least a second, however short the backoff, and at most 900 s', () => {
    expect(settleFailedMove({ to: 'dead-letter' }, 1, { ...withDlq, retryBackoff: 0 })).toEqual({
      action: 'requeue',
      delaySeconds: MIN_REQUEUE_DELAY_SECONDS,
    });
    expect(settleFailedMove({ to: 'dead-letter' }, 2, { ...withDlq, retryBackoff: 0.2 })).toEqual({ action: 'requeue', delaySeconds: 1 });
    expect(settleFailedMove({ to: 'dead-letter' }, 40, withDlq)).toEqual({ action: 'requeue', delaySeconds: MAX_RETRY_DELAY_SECONDS });
  });

  it('truncates the dead-letter reason of a retry that can never be republished', () => {
    const next = settleFailedMove({ ...permanent, reason: 'e'.repeat(5000) }, 1, withDlq);
    expect(next.action === 'dead-letter' && next.reason.length).toBe(MAX_REASON_LENGTH + 1);
  });
});
