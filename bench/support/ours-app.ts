/** A minimal Nest application around nestjs-messaging: one @EventPattern handler, wired as the README shows. */
import 'reflect-metadata';
import { Controller, Module, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingModule, MessagingServer, type MessagingModuleOptions } from '../../lib/index.js';

export const TOPIC = 'bench-event';
export const QUEUE = 'q';

/** What the handler does with each message; set by the subject before messages flow. */
export const sink: { onMessage: (data: { i: number }) => void | Promise<void> } = { onMessage: () => undefined };

@Controller()
class BenchController {
  @EventPattern(TOPIC, { queueName: QUEUE })
  handle(@Payload() data: { i: number }) {
    return sink.onMessage(data);
  }
}

export interface OursApp {
  app: INestApplication;
  client: MessagingClient;
  server: MessagingServer;
  emit: (data: unknown) => Promise<void>;
  /** Starts consuming (provisions first). */
  listen: () => Promise<void>;
  close: () => Promise<void>;
}

/** Creates the application; `beforeListen` runs with the server and client before any broker call of listen(). */
export async function createOursApp(
  options: MessagingModuleOptions,
  extraControllers: Type[] = [],
  withDefaultController = true,
): Promise<OursApp> {
  @Module({
    imports: [MessagingModule.forRoot(options)],
    controllers: [...(withDefaultController ? [BenchController] : []), ...extraControllers],
  })
  class BenchAppModule {}
  const app = await NestFactory.create(BenchAppModule, { logger: process.env.BENCH_VERBOSE ? ['error', 'warn', 'log'] : ['error'] });
  const server = app.get(MessagingServer);
  const client = app.get(MessagingClient);
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.init();
  return {
    app,
    client,
    server,
    emit: (data) => lastValueFrom(client.emit(TOPIC, data), { defaultValue: undefined }),
    listen: async () => {
      await app.startAllMicroservices();
    },
    close: () => app.close(),
  };
}
