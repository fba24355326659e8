import type { Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MESSAGING_BROKER, MessagingOptionsError, MessagingServer } from '../../../lib/index.js';
import { InMemoryBroker, MessagingTestingModule } from '../../../lib/testing/index.js';

/**
 * Starts the messaging microservice of `appModule` on the in-memory broker and returns what startAllMicroservices()
 * rejected with (undefined when it started) and the broker, to check that nothing was provisioned. The app is closed.
 */
export async function startupError(appModule: Type): Promise<{ error: unknown; broker: InMemoryBroker }> {
  const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [appModule] })).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const broker = app.get<symbol, InMemoryBroker>(MESSAGING_BROKER);
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  try {
    const error = await app.startAllMicroservices().then(
      () => undefined,
      (e: unknown) => e,
    );
    return { error, broker };
  } finally {
    await app.close();
  }
}

/** The MessagingOptionsError `fn` throws; fails the test when it throws nothing or something else. */
export function caught(fn: () => unknown): MessagingOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MessagingOptionsError);
    return error as MessagingOptionsError;
  }
  throw new Error('expected a MessagingOptionsError');
}
