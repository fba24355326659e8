/** Resolves with the promise's value, or with `undefined` once `deadline` (epoch ms) passed; never rejects. */
export async function settleBy<T>(promise: Promise<T>, deadline: number): Promise<{ done: true; value: T } | { done: false }> {
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
