import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { MessagingTesting, MessagingTestingModule } from '../../lib/testing/index.js';

/** An app of `module` on the in-memory broker, started, and its default connection's kit; close the app after. */
export async function startOnTestingKit(module: Type): Promise<{ app: INestApplication; messaging: MessagingTesting }> {
  const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [module] })).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  return { app, messaging: await MessagingTesting.start(app) };
}
