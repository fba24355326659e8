import { randomBytes } from 'node:crypto';

/** Polls `condition` until it returns a truthy value or the deadline passes; no fixed sleeps in tests. */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 15_000, intervalMs = 25, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The test run's marker: set by jest's globalSetup (test/support/global-setup.mjs) and inherited by the workers and
 * their child processes; the run's start time in base 36. Outside a jest run, this process's start.
 */
const RUN_MARKER = process.env.NESTJS_MESSAGING_TEST_RUN ?? Date.now().toString(36);

/**
 * A name no other test run uses: tests create their own topics and queues. It carries the run's marker, which is how
 * the end-of-run check (test/support/global-teardown.mjs) tells what this run left on RabbitMQ.
 */
export function uniqueName(base: string): string {
  return `${base}-${RUN_MARKER}-${randomBytes(4).readUInt32BE().toString(36).padStart(6, '0').slice(-6)}`;
}
