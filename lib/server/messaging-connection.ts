import type { ModulesContainer } from '@nestjs/core';
import type { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import { MessagingOptionsError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { PublishListener } from '../observability/publish-event.js';
import type { MessagingTracing } from '../observability/tracing/messaging-tracing.js';
import type { ServiceIdentity } from '../service-identity.js';
import type { Broker } from '../transport/broker.js';
import type { Connection } from '../transport/connection.js';
import type { TransportDefinition } from '../transport/transport-definition.js';

/**
 * What MessagingServer consumes one connection with. A named `MessagingModule.forRoot({ name })` provides one; the
 * default connection's is built by the server from its own injections.
 */
export class MessagingConnection implements Connection {
  constructor(
    readonly name: string,
    readonly options: ResolvedMessagingOptions,
    readonly transport: TransportDefinition,
    readonly broker: Broker,
    readonly identity: ServiceIdentity,
    readonly envelopes: EnvelopeResolver,
    readonly tracing: MessagingTracing | undefined,
    /** A named connection's MessagingClient, as far as metrics need it (its emits); the default's is injected as such. */
    readonly publishes?: { addPublishListener(listener: PublishListener): () => void },
  ) {}
}

/**
 * The named connections of the app, found among its modules' providers (each named MessagingModule.forRoot
 * provides its MessagingConnection in a module of its own); a name given to two imports is refused.
 */
export function namedConnections(modules: ModulesContainer | undefined): MessagingConnection[] {
  const found = new Map<string, MessagingConnection>();
  for (const module of modules?.values() ?? []) {
    for (const wrapper of module.providers.values()) {
      const instance: unknown = wrapper.instance;
      if (!(instance instanceof MessagingConnection)) continue;
      const seen = found.get(instance.name);
      if (seen !== undefined && seen !== instance)
        throw new MessagingOptionsError(
          'name',
          'is given to two MessagingModule.forRoot imports; give each connection a name of its own',
          instance.name,
        );
      found.set(instance.name, instance);
    }
  }
  return [...found.values()];
}
