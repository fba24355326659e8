import { Module, type INestApplication, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { MessagingAdminModule } from '../admin/messaging-admin.module.js';
import type { MessagingAdminModuleOptions } from '../admin/admin-module.options.js';
import { AdminTokenGuard, checkAdminToken } from '../admin/http/admin-token.guard.js';
import { MessagingOptionsError } from '../errors.js';
import { MessagingModule } from '../messaging.module.js';
import type { MessagingModuleOptions, TransportName } from '../messaging.options.js';
import { requirePackages } from '../optional-package.js';
import { loadTransport, TRANSPORT_NAMES } from '../transport/load-transport.js';

export const ADMIN_SERVER_USAGE = `nestjs-messaging-admin: the admin REST API, Swagger UI and live dashboard as a standalone server.
Environment:
  MESSAGING_TRANSPORT       sns-sqs or amqp (required)
  MESSAGING_ADMIN_TOKEN     the bearer token every request must carry (required, 32+ varied characters:
                            openssl rand -hex 32); browsers sign in at /<path> and keep it in a cookie
  PORT, HOST                where to listen (default 3000, every interface)
  MESSAGING_PREFIX          topicPrefix and queueNamePrefix; the watcher shows the queues and topics starting with it
  MESSAGING_ADMIN_PATH      URL path (default messaging); MESSAGING_ADMIN_WATCH_MS: watcher interval (default 10000)
  MESSAGING_SERVICE_NAME    envelope service.name of what it publishes (default messaging-admin)
  sns-sqs: AWS_REGION, AWS_ENDPOINT_URL (emulators), AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (else the SDK's chain)
  amqp:    AMQP_URL, RABBITMQ_MANAGEMENT_URL (listing, e.g. http://guest:guest@127.0.0.1:15672)`;

type Env = Record<string, string | undefined>;

interface AdminServerSettings {
  messaging: MessagingModuleOptions;
  admin: MessagingAdminModuleOptions;
  port: number;
  host?: string;
}

export interface AdminServer {
  app: INestApplication;
  /** Where the dashboard is, e.g. http://127.0.0.1:3000/messaging. */
  url: string;
  close(): Promise<void>;
}

/** The server's module options from environment variables (see ADMIN_SERVER_USAGE); fails naming the variable. */
async function adminServerSettings(env: Env): Promise<AdminServerSettings> {
  const transport = env.MESSAGING_TRANSPORT;
  if (!(TRANSPORT_NAMES as readonly string[]).includes(transport ?? ''))
    throw new MessagingOptionsError('MESSAGING_TRANSPORT', `must be ${TRANSPORT_NAMES.join(' or ')}`, transport ?? '(unset)');
  const token = checkAdminToken(env.MESSAGING_ADMIN_TOKEN, 'MESSAGING_ADMIN_TOKEN');
  const prefix = env.MESSAGING_PREFIX ?? '';
  const definition = await loadTransport(transport as TransportName);
  const messaging: MessagingModuleOptions = {
    transport: definition.name,
    serviceName: env.MESSAGING_SERVICE_NAME ?? 'messaging-admin',
    topicPrefix: prefix,
    queueNamePrefix: prefix,
    ...definition.connectionOptionsFromEnv(env),
  };
  return {
    messaging,
    admin: {
      path: env.MESSAGING_ADMIN_PATH ?? 'messaging',
      guard: new AdminTokenGuard(token),
      watch: { intervalMs: integer(env, 'MESSAGING_ADMIN_WATCH_MS', 10_000, 100, 86_400_000), prefix },
    },
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host: env.HOST || undefined,
  };
}

/** Starts the standalone admin server (an Express Nest app with MessagingModule and MessagingAdminModule). */
export async function startAdminServer(
  env: Env = process.env,
  logger: LogLevel[] | false = ['error', 'warn', 'log'],
): Promise<AdminServer> {
  const settings = await adminServerSettings(env);
  await requirePackages([{ name: '@nestjs/platform-express', load: () => import('@nestjs/platform-express') }], 'nestjs-messaging-admin');

  @Module({ imports: [MessagingModule.forRoot(settings.messaging), MessagingAdminModule.forRoot(settings.admin)] })
  class MessagingAdminServerModule {}

  const app = await NestFactory.create(MessagingAdminServerModule, { logger, abortOnError: false });
  try {
    await (settings.host ? app.listen(settings.port, settings.host) : app.listen(settings.port));
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  const host = !settings.host || settings.host === '0.0.0.0' || settings.host === '::' ? 'localhost' : settings.host;
  return { app, url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/${settings.admin.path}`, close: () => app.close() };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new MessagingOptionsError(name, `must be an integer from ${min} to ${max}`, text);
  return value;
}
