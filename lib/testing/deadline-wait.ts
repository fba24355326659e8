import { MessagingError } from '../errors.js';

/** Why a wait gave up: the deadline passed (the message says what was being waited for and what was seen), or reset(). */
export class MessagingTestingTimeoutError extends MessagingError {}

interface Waiter {
  check(): boolean;
  fail(error: Error): void;
}

/**
 * Deadline-based waits: a condition is checked at once, whenever the kit records something (`notify`), and every
 * `intervalMs` for conditions on the app's own state; it rejects when the deadline passes. No sleeping for luck.
 */
export class DeadlineWaits {
  private readonly waiters = new Set<Waiter>();

  notify(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** Rejects every pending wait (reset between tests), so none outlives its test. */
  cancelAll(reason: string): void {
    for (const waiter of [...this.waiters]) waiter.fail(new MessagingTestingTimeoutError(reason));
  }

  until<T>(condition: () => T | undefined | false, timeoutMs: number, describe: () => string, intervalMs = 10): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let interval: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(deadline);
        clearInterval(interval);
        this.waiters.delete(waiter);
      };
      const waiter: Waiter = {
        check: () => {
          let value: T | undefined | false;
          try {
            value = condition();
          } catch (error) {
            done();
            reject(error);
            return true;
          }
          if (value === undefined || value === false) return false;
          done();
          resolve(value);
          return true;
        },
        fail: (error) => {
          done();
          reject(error);
        },
      };
      const deadline = setTimeout(() => waiter.fail(new MessagingTestingTimeoutError(`${describe()} (waited ${timeoutMs} ms)`)), timeoutMs);
      if (waiter.check()) return;
      this.waiters.add(waiter);
      interval = setInterval(() => waiter.check(), intervalMs);
    });
  }
}
