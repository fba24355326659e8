import type { Provider } from '@nestjs/common';
import { MessagingClient } from '../client/messaging.client.js';
import { MESSAGING_BROKER, MESSAGING_OPTIONS, MESSAGING_TRANSPORT } from '../constants.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { MessagingServer } from '../server/messaging.server.js';
import type { Broker } from '../transport/broker.js';
import type { TransportDefinition } from '../transport/transport-definition.js';
import { MessagingHealthIndicator } from './health/messaging-health.indicator.js';
import { loadMetrics } from './metrics/load-metrics.js';
import { MessagingMetrics } from './metrics/messaging-metrics.js';
import { MESSAGING_TRACING } from './observability.tokens.js';
import { loadTracing } from './tracing/load-tracing.js';

/** Tracing, metrics and health for MessagingModule; each optional peer is loaded only when its option is on. */
export const observabilityProviders: Provider[] = [
  {
    provide: MESSAGING_TRACING,
    useFactory: (options: ResolvedMessagingOptions, transport: TransportDefinition) =>
      options.tracing ? loadTracing(transport.tracing) : undefined,
    inject: [MESSAGING_OPTIONS, MESSAGING_TRANSPORT],
  },
  {
    // null when metrics are off: inject it with @Optional() only where they may be
    provide: MessagingMetrics,
    useFactory: (options: ResolvedMessagingOptions, server: MessagingServer, client: MessagingClient, broker: Broker) =>
      options.metrics
        ? loadMetrics(options.metrics, {
            transport: options.transport,
            deliveries: server,
            publishes: client,
            status$: broker.status$,
            queueDepths:
              options.metrics !== true && options.metrics.queueDepth && broker.queueDepths ? () => broker.queueDepths!() : undefined,
          })
        : null,
    inject: [MESSAGING_OPTIONS, MessagingServer, MessagingClient, MESSAGING_BROKER],
  },
  MessagingHealthIndicator,
];

export const observabilityExports = [MessagingMetrics, MessagingHealthIndicator];
