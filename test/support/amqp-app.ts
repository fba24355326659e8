import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { MessagingModule, MessagingServer, type MessagingModuleOptions } from '../../lib/index.js';
import { AMQP_URL } from './rabbitmq.js';

const run = promisify(execFile);

/**
 * A Nest app over AMQP whose start may fail: the app is returned either way (so the test can close it), with the
 * start error, if any.
 */
export async function tryStartAmqpApp(
  options: Omit<MessagingModuleOptions, 'transport'>,
  controllers: Type[] = [],
): Promise<{ app: INestApplication; error?: unknown }> {
  const moduleRef = await Test.createTestingModule({
    imports: [MessagingModule.forRoot({ ...options, transport: 'amqp', amqp: { url: AMQP_URL, ...options.amqp } })],
    controllers,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? undefined : false });
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  try {
    await app.startAllMicroservices();
    await app.init();
    return { app };
  } catch (error) {
    return { app, error };
  }
}

/** A RabbitMQ user of our own on vhost "/" with the given configure/write/read patterns; remove() deletes it. */
export async function createRestrictedUser(permissions: { configure: string; write: string; read: string }): Promise<{ url: string; password: string; remove: () => Promise<void> }> {
  const user = `restricted-${randomBytes(5).toString('hex')}`;
  const password = `restrictedPw${randomBytes(8).toString('hex')}`;
  await run('rabbitmqctl', ['add_user', user, password]);
  await run('rabbitmqctl', ['set_permissions', '-p', '/', user, permissions.configure, permissions.write, permissions.read]);
  const base = new URL(AMQP_URL);
  return {
    url: `amqp://${user}:${password}@${base.host}`,
    password,
    remove: async () => { await run('rabbitmqctl', ['delete_user', user]).catch(() => undefined); },
  };
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
