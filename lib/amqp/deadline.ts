/**
 * Waits for the promise until `deadline` (epoch ms): `{ done: true, value }` when it settled in time (value undefined
 * when it rejected), `{ done: false }` when the deadline passed first; never rejects. Not to be confused with settle(),
 * which decides what happens to a message.
 */
export async function awaitUntil<T>(promise: Promise<T>, deadline: number): Promise<{ done: true; value: T } | { done: false }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<{ done: false }>((resolve) => {
    timer = setTimeout(() => resolve({ done: false }), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ done: true as const, value }),
        () => ({ done: true as const, value: undefined as T }),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Milliseconds close() may spend on closing channels and the connection after the drain deadline. */
export const CLOSE_GRACE_MS = 1000;
