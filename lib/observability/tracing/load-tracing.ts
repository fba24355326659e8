import { requirePackages } from '../../optional-package.js';
import type { TransportTracing } from '../../transport/transport-definition.js';
import type { MessagingTracing } from './messaging-tracing.js';

/** Loads @opentelemetry/api (an optional peer) only when `tracing: true`; a MissingDependencyError names it otherwise. */
export async function loadTracing(transport: TransportTracing): Promise<MessagingTracing> {
  await requirePackages([{ name: '@opentelemetry/api', load: () => import('@opentelemetry/api') }], "the 'tracing' option");
  const [api, { OtelTracing }] = await Promise.all([import('@opentelemetry/api'), import('./otel-tracing.js')]);
  return new OtelTracing(api, transport);
}
