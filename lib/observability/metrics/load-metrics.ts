import type { MetricsOptions } from '../../messaging.options.js';
import { requirePackages } from '../../optional-package.js';
import { MessagingMetrics, type MetricsSources } from './messaging-metrics.js';

/** Loads prom-client (an optional peer) only when `metrics` is on; a MissingDependencyError names it otherwise. */
export async function loadMetrics(setting: true | MetricsOptions, sources: MetricsSources): Promise<MessagingMetrics> {
  await requirePackages([{ name: 'prom-client', load: () => import('prom-client') }], "the 'metrics' option");
  const loaded = await import('prom-client');
  // a CommonJS package: from ESM its exports may only be on `default`
  const prom = typeof loaded.Counter === 'function' ? loaded : (loaded as unknown as { default: typeof loaded }).default;
  return new MessagingMetrics(prom, setting === true ? undefined : setting.registry, sources);
}
