import { Inject, Logger, Module, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { MessagingClient } from './client/messaging.client.js';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE, MESSAGING_OPTIONS, MESSAGING_TRANSPORT } from './constants.js';
import { EnvelopeResolver } from './envelopes/envelope-resolver.js';
import { JsonEnvelope } from './envelopes/json.envelope.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './messaging.module-definition.js';
import type { MessagingModuleOptions, ResolvedMessagingOptions } from './messaging.options.js';
import { MessagingHealthIndicator } from './observability/health/messaging-health.indicator.js';
import { loadMetrics } from './observability/metrics/load-metrics.js';
import { MessagingMetrics } from './observability/metrics/messaging-metrics.js';
import { MESSAGING_TRACING } from './observability/observability.tokens.js';
import { loadTracing } from './observability/tracing/load-tracing.js';
import { resolveModuleOptions } from './options/resolve-options.js';
import { MessagingServer } from './server/messaging.server.js';
import { UnstartedServerWarning } from './server/unstarted-server-warning.js';
import { recordHandlerFailures } from './server/handler-failure.js';
import { ServiceIdentity } from './service-identity.js';
import { createBroker } from './transport/broker-factory.js';
import type { Broker } from './transport/broker.js';
import { loadTransport } from './transport/load-transport.js';
import type { TransportDefinition } from './transport/transport-definition.js';

/** Tracing, metrics and health for MessagingModule; each optional peer is loaded only when its option is on. */
const observabilityProviders: Provider[] = [
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

const providers: Provider[] = [
  {
    provide: MESSAGING_OPTIONS,
    useFactory: (options: MessagingModuleOptions) => resolveModuleOptions(options),
    inject: [MODULE_OPTIONS_TOKEN],
  },
  {
    provide: ServiceIdentity,
    useFactory: (options: ResolvedMessagingOptions) => new ServiceIdentity(options.serviceName),
    inject: [MESSAGING_OPTIONS],
  },
  {
    provide: MESSAGING_TRANSPORT,
    useFactory: (options: ResolvedMessagingOptions) => loadTransport(options.transport),
    inject: [MESSAGING_OPTIONS],
  },
  {
    provide: MESSAGING_BROKER,
    useFactory: (options: ResolvedMessagingOptions, transport: TransportDefinition) =>
      createBroker(transport, options, new Logger('Messaging')),
    inject: [MESSAGING_OPTIONS, MESSAGING_TRANSPORT],
  },
  {
    provide: MESSAGING_ENVELOPE,
    useFactory: (options: ResolvedMessagingOptions, resolver: EnvelopeResolver) => resolver.resolve(options.envelope ?? JsonEnvelope),
    inject: [MESSAGING_OPTIONS, EnvelopeResolver],
  },
  {
    // while providers are created, before Nest builds the handlers' call chains
    provide: Symbol('handler failure recording'),
    useFactory: (modules: ModulesContainer) => recordHandlerFailures(modules),
    inject: [ModulesContainer],
  },
  EnvelopeResolver,
  MessagingServer,
  MessagingClient,
  UnstartedServerWarning,
  ...observabilityProviders,
];

/**
 * `MessagingModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`: provides MessagingServer
 * (pass it to connectMicroservice) and MessagingClient (inject it to emit). Global unless `isGlobal: false`.
 */
@Module({
  providers,
  exports: [
    MessagingServer,
    MessagingClient,
    MESSAGING_OPTIONS,
    MESSAGING_BROKER,
    MESSAGING_ENVELOPE,
    ServiceIdentity,
    MessagingMetrics,
    MessagingHealthIndicator,
  ],
})
export class MessagingModule extends ConfigurableModuleClass implements OnApplicationShutdown {
  constructor(@Inject(MESSAGING_BROKER) private readonly broker: Broker) {
    super();
  }

  static forRoot(options: typeof OPTIONS_TYPE) {
    return super.forRoot(options);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }

  /** Runs after the microservice server drained, so in-flight handlers can still publish. */
  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}
