/** Every flush attached to a prom-client metric, run in turn each time its registry reads it. */
const flushes = new WeakMap<object, Set<(metric: never) => void | Promise<void>>>();

/**
 * Runs `flush(metric)` each time the registry reads the metric (prom-client calls a metric's `collect` before it
 * reports the values), so that values counted elsewhere are handed over then. Several MessagingModules in a process
 * share the registry's metrics, so each attaches its own flush; the returned function detaches it.
 */
export function collectInto<M extends object>(metric: M, flush: (metric: M) => void | Promise<void>): () => void {
  let attached = flushes.get(metric);
  if (!attached) {
    const set = new Set<(metric: never) => void | Promise<void>>();
    flushes.set(metric, set);
    (metric as { collect?: () => Promise<void> }).collect = async () => {
      for (const f of set) await f(metric as never);
    };
    attached = set;
  }
  const entry = flush as (metric: never) => void | Promise<void>;
  attached.add(entry);
  return () => attached.delete(entry);
}
