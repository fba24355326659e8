import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { getMessagingClientToken } from '../client/client-token.js';
import { MESSAGING_BROKER, MESSAGING_BROKER_FACTORY } from '../constants.js';
import { MessagingError } from '../errors.js';
import { MessagingModule } from '../messaging.module.js';
import type { MessagingModuleOptions } from '../messaging.options.js';
import { MessagingConnection } from '../server/messaging-connection.js';
import { MessagingServer } from '../server/messaging.server.js';
import { DEFAULT_CONNECTION } from '../options/connection-names.js';
import { InMemoryBroker, inMemoryBrokers } from './in-memory-broker.js';
import { DEFAULT_TIMEOUT_MS, kitFor } from './messaging-testing.js';
import { getMessagingTestingToken } from './testing-token.js';

export interface MessagingTestingKitOptions {
  /** Default deadline of `waitFor…` in ms; default 5000. */
  timeoutMs?: number;
}

/**
 * MessagingModule.forRoot's options, all optional (transport 'sns-sqs' and serviceName 'test-service' by default), plus
 * the kit's. With `name`, it stands in for `MessagingModule.forRoot({ name })`, a named connection.
 */
export interface MessagingTestingOptions extends Partial<MessagingModuleOptions>, MessagingTestingKitOptions {
  /** As for MessagingModule.forRoot; default true. */
  isGlobal?: boolean;
}

/** What `MessagingTestingModule.override` needs of @nestjs/testing's TestingModuleBuilder (the kit does not import it). */
export interface BrokerOverridable<B> {
  overrideProvider(token: symbol): { useFactory(options: { factory: (...args: any[]) => unknown; inject?: any[] }): B };
}

/**
 * The testing kit's module. Two ways in:
 * - `MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] }))`: every MessagingModule of
 *   the app (the default and each named connection, forRoot or forRootAsync, options unchanged) gets an in-memory broker;
 * - `MessagingTestingModule.forRoot(options?)`: in place of `MessagingModule.forRoot(options)` (with `name`, of a named
 *   connection's) in a module composed for the test (also with NestFactory, without @nestjs/testing); provides the
 *   connection's kit for injection (`MessagingTesting`, or `@InjectMessagingTesting(name)`).
 * Either way `MessagingTesting.of(app, name?)` / `await MessagingTesting.start(app, name?)` returns a connection's kit.
 */
@Module({})
export class MessagingTestingModule {
  static forRoot(options: MessagingTestingOptions = {}): DynamicModule {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, ...moduleOptions } = options;
    const base = MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'test-service', ...moduleOptions });
    const name = moduleOptions.name;
    const token = getMessagingTestingToken(name);
    const kit: Provider =
      name === undefined
        ? {
            provide: token,
            useFactory: (broker: InMemoryBroker, server: MessagingServer, modules: ModulesContainer) => {
              assertSingleMessagingModule(modules);
              return kitFor(broker, server, DEFAULT_CONNECTION);
            },
            inject: [MESSAGING_BROKER, MessagingServer, ModulesContainer],
          }
        : {
            provide: token,
            useFactory: (connection: MessagingConnection, server: MessagingServer, modules: ModulesContainer) => {
              assertSingleConnection(name, modules);
              return kitFor(connection.broker as InMemoryBroker, server, name);
            },
            inject: [MessagingConnection, MessagingServer, ModulesContainer],
          };
    // the dynamic module's providers come after the connection's own, so this factory replaces the real one
    // a factory provider, as override() gives: Nest 11 keeps a value provider's value when a test overrides it with a factory
    const providers: Provider[] = [{ provide: MESSAGING_BROKER_FACTORY, useFactory: () => inMemoryBrokers(timeoutMs) }, kit];
    return {
      ...base,
      providers: [...(base.providers ?? []), ...providers],
      exports: [...(base.exports ?? []), token],
    };
  }

  /**
   * Gives every connection of the app (the default one and each named one) an in-memory broker of its own, on a
   * @nestjs/testing TestingModuleBuilder; returns the builder, so `.compile()` or further overrides chain on.
   */
  static override<B>(builder: BrokerOverridable<B>, options: MessagingTestingKitOptions = {}): B {
    const factory = inMemoryBrokers(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return builder.overrideProvider(MESSAGING_BROKER_FACTORY).useFactory({ factory: () => factory });
  }
}

const OVERRIDE_HINT =
  'To test a module that imports MessagingModule, give it the in-memory broker instead: MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] }))';

function assertSingleMessagingModule(modules: ModulesContainer): void {
  const count = [...modules.values()].filter((m) => m.metatype === MessagingModule).length;
  if (count > 1) {
    throw new MessagingError(
      `MessagingTestingModule.forRoot() takes the place of MessagingModule.forRoot(), but the app imports MessagingModule as well (e.g. through AppModule). ${OVERRIDE_HINT}`,
    );
  }
}

/** A named connection's module is the one that provides its client. */
function assertSingleConnection(name: string, modules: ModulesContainer): void {
  const client = getMessagingClientToken(name);
  const count = [...modules.values()].filter((m) => m.providers.has(client)).length;
  if (count > 1) {
    throw new MessagingError(
      `MessagingTestingModule.forRoot({ name: '${name}' }) takes the place of MessagingModule.forRoot({ name: '${name}' }), but the app imports that connection as well (e.g. through AppModule). ${OVERRIDE_HINT}`,
    );
  }
}
