import {
  MAX_REASON_LENGTH,
  MAX_RETRY_DELAY_SECONDS,
  retryDelaySeconds,
  settle,
  truncateReason,
} from '../../../lib/transport/settlement.js';

const withDlq = { maxReceiveCount: 3, retryBackoff: 1, deadLetter: { name: 'q-dlq' } };
const withoutDlq = { ...withDlq, deadLetter: null };

describe('settle: the one retry / dead-letter decision', () => {
  it('acks a handled message whatever its attempt', () => {
    expect(settle({ kind: 'ack' }, 1, withDlq)).toEqual({ action: 'ack' });
    expect(settle({ kind: 'ack' }, 99, withoutDlq)).toEqual({ action: 'ack' });
  });

  it('retries a failure while attempts remain, after a doubling backoff', () => {
    expect(settle({ kind: 'retry', reason: 'db down' }, 1, withDlq)).toEqual({ action: 'retry', delaySeconds: 1, reason: 'db down' });
    expect(settle({ kind: 'retry', reason: 'db down' }, 2, withDlq)).toEqual({ action: 'retry', delaySeconds: 2, reason: 'db down' });
  });

  it('dead-letters a failure on the last attempt, with the count and the last reason', () => {
    expect(settle({ kind: 'retry', reason: 'db down' }, 3, withDlq)).toEqual({
      action: 'dead-letter',
      reason: 'failed 3 time(s), last: db down',
    });
    expect(settle({ kind: 'retry', reason: 'db down' }, 7, withDlq)).toEqual({
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
    expect(settle({ kind: 'retry', reason: 'db down' }, 2, withoutDlq)).toEqual({ action: 'retry', delaySeconds: 2, reason: 'db down' });
    expect(settle({ kind: 'retry', reason: 'db down' }, 3, withoutDlq)).toEqual({
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
    expect(settle({ kind: 'retry', reason: 'db down' }, 40, withoutDlq)).toMatchObject({
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
    const retry = settle({ kind: 'retry', reason: long }, 1, withDlq);
    expect(retry.action === 'retry' && retry.reason.length).toBe(MAX_REASON_LENGTH + 1);
  });
});
