import type { TransportName } from '../../messaging.options.js';
import { requirePackages } from '../../optional-package.js';
import type { MessagingTracing } from './messaging-tracing.js';

/** Loads @opentelemetry/api (an optional peer) only when `tracing: true`; a MissingDependencyError names it otherwise. */
export async function loadTracing(transport: TransportName): Promise<MessagingTracing> {
  await requirePackages([{ name: '@opentelemetry/api', load: () => import('@opentelemetry/api') }], "the 'tracing' option");
  const [api, { OtelTracing }] = await Promise.all([import('@opentelemetry/api'), import('./otel-tracing.js')]);
  return new OtelTracing(api, transport);
}
