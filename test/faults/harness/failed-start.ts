import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { MessagingModule, MessagingServer, type MessagingModuleOptions } from '../../../lib/index.js';

/**
 * A service whose messaging startup fails and which catches the error, as an app with other work might: it prints
 * the error and returns without process.exit, so it exits only if the library left no timer or socket running.
 */
const config = JSON.parse(process.env.FAILED_START_CONFIG ?? '') as { module: MessagingModuleOptions; topic: string };

@Controller()
class OneController {
  handle(): void {}
}
const descriptor = Object.getOwnPropertyDescriptor(OneController.prototype, 'handle')!;
EventPattern(config.topic)(OneController.prototype, 'handle', descriptor);

@Module({ imports: [MessagingModule.forRoot(config.module)], controllers: [OneController] })
class FailedStartModule {}

const app = await NestFactory.create(FailedStartModule, { logger: ['fatal', 'error', 'warn', 'log'] });
app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
try {
  await app.startAllMicroservices();
  process.stdout.write('STARTED\n');
} catch (error) {
  process.stdout.write(`START FAILED ${(error as Error).name}: ${(error as Error).message}\n`);
}
