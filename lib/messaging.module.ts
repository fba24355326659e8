import {
  Inject,
  Logger,
  Module,
  Optional,
  type DynamicModule,
  type InjectionToken,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
} from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import { getMessagingClientToken } from './client/client-token.js';
import { MessagingClient } from './client/messaging.client.js';
import {
  MESSAGING_BROKER,
  MESSAGING_BROKER_FACTORY,
  MESSAGING_CONNECTIONS,
  MESSAGING_ENVELOPE,
  MESSAGING_OPTIONS,
  MESSAGING_TRANSPORT,
  namedConnectionToken,
} from './constants.js';
import { EnvelopeResolver } from './envelopes/envelope-resolver.js';
import { MessagingOptionsError } from './errors.js';
import { JsonEnvelope } from './envelopes/json.envelope.js';
import type { MessageEnvelope } from './envelopes/message-envelope.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE } from './messaging.module-definition.js';
import type { MessagingModuleOptions, ResolvedMessagingOptions } from './messaging.options.js';
import type { MessagingTracing } from './observability/tracing/messaging-tracing.js';
import { MessagingHealthIndicator } from './observability/health/messaging-health.indicator.js';
import { loadMetrics } from './observability/metrics/load-metrics.js';
import { MessagingMetrics } from './observability/metrics/messaging-metrics.js';
import { MESSAGING_TRACING } from './observability/observability.tokens.js';
import { loadTracing } from './observability/tracing/load-tracing.js';
import { DEFAULT_CONNECTION } from './options/connection-names.js';
import { OPTIONS } from './options/option-records.js';
import { resolveModuleOptions } from './options/resolve-options.js';
import { MessagingConnection } from './server/messaging-connection.js';
import { MessagingServer } from './server/messaging.server.js';
import { UnstartedServerWarning } from './server/unstarted-server-warning.js';
import { recordHandlerFailures } from './server/handler-failure.js';
import { ServiceIdentity } from './service-identity.js';
import { createBroker, type BrokerFactory } from './transport/broker-factory.js';
import type { Broker } from './transport/broker.js';
import type { ConnectionList } from './transport/connection.js';
import { loadTransport } from './transport/load-transport.js';
import type { TransportDefinition } from './transport/transport-definition.js';

/** Metrics and health for MessagingModule; each optional peer is loaded only when its option is on. */
const observabilityProviders: Provider[] = [
  {
    // null when metrics are off: inject it with @Optional() only where they may be
    provide: MessagingMetrics,
    useFactory: (options: ResolvedMessagingOptions, server: MessagingServer, client: MessagingClient, broker: Broker) =>
      options.metrics
        ? loadMetrics(options.metrics, {
            connection: DEFAULT_CONNECTION,
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
  {
    provide: MESSAGING_CONNECTIONS,
    useFactory:
      (server: MessagingServer): ConnectionList =>
      () =>
        server.connections(),
    inject: [MessagingServer],
  },
  MessagingHealthIndicator,
];

/** The options as forRoot's or forRootAsync's factory gave them; `name` belongs beside the factory, not in what it returns. */
function resolveConnectionOptions(options: MessagingModuleOptions): ResolvedMessagingOptions {
  if (options.name !== undefined)
    throw new MessagingOptionsError(
      'name',
      "is set on forRootAsync({ name, useFactory }) itself, beside the factory: the module's providers are named before the factory runs; remove it from what the factory returns",
      options.name,
    );
  return resolveModuleOptions(options);
}

/** The tokens of one connection's providers: the default connection's are the public ones, a named one's its own. */
interface ConnectionTokens {
  options: InjectionToken;
  identity: InjectionToken;
  transport: InjectionToken;
  broker: InjectionToken;
  envelope: InjectionToken;
  envelopes: InjectionToken;
  tracing: InjectionToken;
  client: InjectionToken;
}

const DEFAULT_TOKENS: ConnectionTokens = {
  options: MESSAGING_OPTIONS,
  identity: ServiceIdentity,
  transport: MESSAGING_TRANSPORT,
  broker: MESSAGING_BROKER,
  envelope: MESSAGING_ENVELOPE,
  envelopes: EnvelopeResolver,
  tracing: MESSAGING_TRACING,
  client: MessagingClient,
};

/**
 * A named connection's tokens, none of them the default's: `app.get(MessagingClient)` or `app.get(MESSAGING_BROKER)`,
 * which search every module, keep finding the default connection's.
 */
function namedTokens(name: string): ConnectionTokens {
  const token = (what: string) => namedConnectionToken(what, name);
  return {
    options: token('options'),
    identity: token('ServiceIdentity'),
    transport: token('transport'),
    broker: token('broker'),
    envelope: token('envelope'),
    envelopes: token('EnvelopeResolver'),
    tracing: token('tracing'),
    client: getMessagingClientToken(name),
  };
}

/** What every connection, the default and each named one, has of its own: options, broker, envelope, tracing and client. */
function connectionProviders(
  connection: string,
  tokens: ConnectionTokens,
  resolveOptions: (options: MessagingModuleOptions) => ResolvedMessagingOptions,
  logContext = 'Messaging',
): Provider[] {
  return [
    { provide: tokens.options, useFactory: resolveOptions, inject: [MODULE_OPTIONS_TOKEN] },
    {
      provide: tokens.identity,
      useFactory: (options: ResolvedMessagingOptions) => new ServiceIdentity(options.serviceName),
      inject: [tokens.options],
    },
    {
      provide: tokens.transport,
      useFactory: (options: ResolvedMessagingOptions) => loadTransport(options.transport),
      inject: [tokens.options],
    },
    // the same token in every connection's module: MessagingTestingModule.override replaces it in all of them at once
    // (a factory provider, not useValue: Nest 11 keeps a value provider's value when a test overrides it with a factory)
    { provide: MESSAGING_BROKER_FACTORY, useFactory: (): BrokerFactory => createBroker },
    {
      provide: tokens.broker,
      useFactory: (options: ResolvedMessagingOptions, transport: TransportDefinition, envelope: MessageEnvelope, factory: BrokerFactory) =>
        factory({ connection, options, transport, envelope, logger: new Logger(logContext) }),
      inject: [tokens.options, tokens.transport, tokens.envelope, MESSAGING_BROKER_FACTORY],
    },
    { provide: tokens.envelopes, useFactory: (moduleRef: ModuleRef) => new EnvelopeResolver(moduleRef), inject: [ModuleRef] },
    {
      provide: tokens.envelope,
      useFactory: (options: ResolvedMessagingOptions, resolver: EnvelopeResolver) => resolver.resolve(options.envelope ?? JsonEnvelope),
      inject: [tokens.options, tokens.envelopes],
    },
    {
      provide: tokens.tracing,
      useFactory: (options: ResolvedMessagingOptions, transport: TransportDefinition) =>
        options.tracing ? loadTracing(transport.tracing) : undefined,
      inject: [tokens.options, tokens.transport],
    },
    {
      provide: tokens.client,
      useFactory: (
        broker: Broker,
        envelope: MessageEnvelope,
        envelopes: EnvelopeResolver,
        identity: ServiceIdentity,
        tracing: MessagingTracing | undefined,
      ) => new MessagingClient(broker, envelope, envelopes, identity, tracing),
      inject: [tokens.broker, tokens.envelope, tokens.envelopes, tokens.identity, tokens.tracing],
    },
  ];
}

const providers: Provider[] = [
  ...connectionProviders(DEFAULT_CONNECTION, DEFAULT_TOKENS, resolveConnectionOptions),
  {
    // while providers are created, before Nest builds the handlers' call chains
    provide: Symbol('handler failure recording'),
    useFactory: (modules: ModulesContainer) => recordHandlerFailures(modules),
    inject: [ModulesContainer],
  },
  MessagingServer,
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
export class MessagingModule extends ConfigurableModuleClass implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    private readonly server: MessagingServer,
    @Optional() @Inject(MessagingMetrics) private readonly metrics: MessagingMetrics | null,
  ) {
    super();
  }

  /** Once every module exists: the metrics count the named connections too, each under its `connection` label. */
  onApplicationBootstrap(): void {
    if (!this.metrics) return;
    const readDepths = this.options.metrics !== false && this.options.metrics !== true && this.options.metrics.queueDepth;
    for (const connection of this.server.connections()) {
      if (!connection.publishes) continue; // the default connection's are counted from the start
      const { name, options, broker } = connection;
      this.metrics.attach({
        connection: name,
        transport: options.transport,
        deliveries: { addDeliveryListener: (listener) => this.server.addDeliveryListener(listener, name) },
        publishes: connection.publishes,
        status$: broker.status$,
        queueDepths: readDepths && broker.queueDepths ? () => broker.queueDepths!() : undefined,
      });
    }
  }

  /** `name` makes it a further connection beside the default one (see MessagingConnectionModule). */
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    const definition = super.forRoot(options);
    return options.name === undefined ? definition : namedConnectionModule(options.name, definition);
  }

  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE): DynamicModule {
    const definition = super.forRootAsync(options);
    return options.name === undefined ? definition : namedConnectionModule(options.name, definition);
  }

  /** Runs after the microservice server drained, so in-flight handlers can still publish. */
  async onApplicationShutdown(): Promise<void> {
    await this.broker.close();
  }
}

/**
 * A named connection (`MessagingModule.forRoot({ name })`): a module of its own, so that its options, broker, envelope
 * and client stay apart from the default connection's. It exports only its client, under getMessagingClientToken(name);
 * the default connection's MessagingServer finds its MessagingConnection among the app's modules and consumes its
 * handlers (the `connection` extra).
 */
@Module({})
class MessagingConnectionModule implements OnApplicationShutdown {
  constructor(private readonly connection: MessagingConnection) {}

  /** Runs after the microservice server drained, so in-flight handlers can still publish. */
  async onApplicationShutdown(): Promise<void> {
    await this.connection.broker.close();
  }
}

function namedConnectionModule(name: string, definition: DynamicModule): DynamicModule {
  OPTIONS.name.rule.check(name, 'name');
  const tokens = namedTokens(name);
  return {
    ...definition,
    module: MessagingConnectionModule,
    providers: [
      ...(definition.providers ?? []),
      ...connectionProviders(
        name,
        tokens,
        (options) => {
          const resolved = resolveConnectionOptions(options);
          if (resolved.metrics !== false)
            throw new MessagingOptionsError(
              'metrics',
              `is set on the unnamed MessagingModule.forRoot only: its metrics cover every connection, labelled connection="${name}" for this one; remove it here`,
              resolved.metrics,
            );
          return resolved;
        },
        `Messaging:${name}`,
      ),
      {
        provide: MessagingConnection,
        useFactory: (
          options: ResolvedMessagingOptions,
          transport: TransportDefinition,
          broker: Broker,
          identity: ServiceIdentity,
          envelopes: EnvelopeResolver,
          tracing: MessagingTracing | undefined,
          client: MessagingClient,
        ) => new MessagingConnection(name, options, transport, broker, identity, envelopes, tracing, client),
        inject: [tokens.options, tokens.transport, tokens.broker, tokens.identity, tokens.envelopes, tokens.tracing, tokens.client],
      },
    ],
    exports: [tokens.client],
  };
}
