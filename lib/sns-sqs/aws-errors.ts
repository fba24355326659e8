/** True for the "does not exist" errors of SQS (GetQueueUrl) and SNS (GetTopicAttributes, GetSubscriptionAttributes). */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const code = `${e?.name ?? ''} ${e?.Code ?? ''}`;
  return /NotFound|NonExistentQueue|QueueDoesNotExist/i.test(code);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Sleeps `ms`, returning early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
