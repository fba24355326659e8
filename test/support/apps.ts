import 'reflect-metadata';
import type { INestApplication, LoggerService, LogLevel, ModuleMetadata, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { MESSAGING_BROKER, MessagingClient, MessagingModule, MessagingServer, type MessagingModuleOptions } from '../../lib/index.js';
import type { Broker } from '../../lib/transport/broker.js';

export interface TestAppSettings {
  /** Connect and start the messaging microservice (consume the controllers' handlers); false: publish only. */
  listen?: boolean;
  /** Nest's logger; by default silent unless TEST_LOGS is set. */
  logger?: LoggerService | LogLevel[] | false;
  /** Replaces the broker MessagingModule would build (e.g. one whose SDK clients count calls). */
  broker?: Broker;
}

function defaultLogger(): LogLevel[] | false {
  return process.env.TEST_LOGS ? ['fatal', 'error', 'warn', 'log'] : false;
}

/**
 * The one way tests build a Nest app with MessagingModule: the given module options (transport included; see
 * fauxqsOptions / rabbitMqOptions), the controllers, and the messaging microservice started. The app is returned
 * even when the start fails, with the error, so the test can close it and look at what went wrong.
 */
export async function tryStartTestApp(
  options: MessagingModuleOptions,
  controllers: Type[] = [],
  settings: TestAppSettings = {},
): Promise<{ app: INestApplication; error?: unknown }> {
  return tryStartModuleApp({ imports: [MessagingModule.forRoot(options)], controllers }, settings);
}

/** tryStartTestApp for a module of the test's own making (several MessagingModule imports, providers). */
export async function tryStartModuleApp(
  metadata: ModuleMetadata,
  settings: TestAppSettings = {},
): Promise<{ app: INestApplication; error?: unknown }> {
  let builder = Test.createTestingModule(metadata);
  if (settings.broker) builder = builder.overrideProvider(MESSAGING_BROKER).useValue(settings.broker);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: settings.logger ?? defaultLogger() });
  try {
    if (settings.listen ?? true) {
      app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
      await app.startAllMicroservices();
    }
    await app.init();
    return { app };
  } catch (error) {
    return { app, error };
  }
}

/** tryStartTestApp that throws the start error (after closing the half-started app). */
export async function startTestApp(
  options: MessagingModuleOptions,
  controllers: Type[] = [],
  settings: TestAppSettings = {},
): Promise<INestApplication> {
  const { app, error } = await tryStartTestApp(options, controllers, settings);
  if (error !== undefined) {
    await app.close().catch(() => undefined);
    throw error;
  }
  return app;
}

/** MessagingClient.emit, resolved once the broker accepted the message. */
export function emit(app: INestApplication, topic: string, data: unknown): Promise<unknown> {
  return lastValueFrom(app.get(MessagingClient).emit(topic, data), { defaultValue: undefined });
}
