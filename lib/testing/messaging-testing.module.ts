import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE } from '../constants.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import { MessagingError } from '../errors.js';
import { MessagingModule } from '../messaging.module.js';
import type { MessagingModuleOptions } from '../messaging.options.js';
import { MessagingServer } from '../server/messaging.server.js';
import { InMemoryBroker } from './in-memory-broker.js';
import { DEFAULT_TIMEOUT_MS, kitFor, MessagingTesting } from './messaging-testing.js';

export interface MessagingTestingKitOptions {
  /** Default deadline of `waitFor…` in ms; default 5000. */
  timeoutMs?: number;
}

/** MessagingModule.forRoot's options, all optional (transport 'sns-sqs' and serviceName 'test-service' by default), plus the kit's. */
export interface MessagingTestingOptions extends Partial<MessagingModuleOptions>, MessagingTestingKitOptions {
  /** As for MessagingModule.forRoot; default true. */
  isGlobal?: boolean;
}

/** What `MessagingTestingModule.override` needs of @nestjs/testing's TestingModuleBuilder (the kit does not import it). */
export interface BrokerOverridable<B> {
  overrideProvider(token: symbol): { useFactory(options: { factory: (...args: any[]) => unknown; inject?: any[] }): B };
}

function brokerProvider(timeoutMs: number) {
  return { factory: (envelope: MessageEnvelope) => new InMemoryBroker(envelope, timeoutMs), inject: [MESSAGING_ENVELOPE] };
}

/**
 * The testing kit's module. Two ways in:
 * - `MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] }))`: the app's own
 *   MessagingModule (forRoot or forRootAsync, options unchanged) gets the in-memory broker;
 * - `MessagingTestingModule.forRoot(options?)`: in place of `MessagingModule.forRoot(options)` in a module composed
 *   for the test (also with NestFactory, without @nestjs/testing); provides MessagingTesting for injection.
 * Either way `MessagingTesting.of(app)` / `await MessagingTesting.start(app)` returns the kit.
 */
@Module({})
export class MessagingTestingModule {
  static forRoot(options: MessagingTestingOptions = {}): DynamicModule {
    const { timeoutMs = DEFAULT_TIMEOUT_MS, ...moduleOptions } = options;
    const base = MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'test-service', ...moduleOptions });
    const broker = brokerProvider(timeoutMs);
    const providers: Provider[] = [
      // the dynamic module's providers come after MessagingModule's own, so this one replaces its broker
      { provide: MESSAGING_BROKER, useFactory: broker.factory, inject: broker.inject },
      {
        provide: MessagingTesting,
        useFactory: (inMemory: InMemoryBroker, envelope: MessageEnvelope, server: MessagingServer, modules: ModulesContainer) => {
          assertSingleMessagingModule(modules);
          return kitFor(inMemory, () => new MessagingTesting(inMemory, envelope, server, timeoutMs));
        },
        inject: [MESSAGING_BROKER, MESSAGING_ENVELOPE, MessagingServer, ModulesContainer],
      },
    ];
    return { ...base, providers: [...(base.providers ?? []), ...providers], exports: [...(base.exports ?? []), MessagingTesting] };
  }

  /**
   * Replaces the broker of the app's own MessagingModule with the in-memory one, on a @nestjs/testing
   * TestingModuleBuilder; returns the builder, so `.compile()` or further overrides chain on.
   */
  static override<B>(builder: BrokerOverridable<B>, options: MessagingTestingKitOptions = {}): B {
    const broker = brokerProvider(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    return builder.overrideProvider(MESSAGING_BROKER).useFactory({ factory: broker.factory, inject: broker.inject });
  }
}

function assertSingleMessagingModule(modules: ModulesContainer): void {
  const count = [...modules.values()].filter((m) => m.metatype === MessagingModule).length;
  if (count > 1) {
    throw new MessagingError(
      'MessagingTestingModule.forRoot() takes the place of MessagingModule.forRoot(), but the app imports MessagingModule as well (e.g. through AppModule). ' +
        'To test a module that imports MessagingModule, give it the in-memory broker instead: MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] }))',
    );
  }
}
