import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { appendFileSync } from 'node:fs';
import { MessagingContext, MessagingModule, MessagingServer } from '../../../lib/index.js';
import type { HarnessConfig } from './config.js';

/**
 * The consumer that fault scenarios kill: a Nest app consuming one topic, run as compiled JS in a child process.
 * Every handled message number is appended to a file synchronously before the handler returns, so a SIGKILL loses
 * nothing the child reported. Prints READY once consuming; all log levels go to stdout/stderr for the parent.
 */
const config = JSON.parse(process.env.FAULTS_CONFIG ?? '') as HarnessConfig;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

@Controller()
class FaultController {
  async handle(data: { n: number }, context: MessagingContext): Promise<void> {
    if (config.startedFile) appendFileSync(config.startedFile, `${data.n}\n`);
    const slow = config.slowEvery && data.n % config.slowEvery === 0;
    const delay = slow ? (config.slowMs ?? 0) : (config.delayMs ?? 0);
    if (delay > 0) await sleep(delay);
    if (config.receiveCountFile) appendFileSync(config.receiveCountFile, `${data.n} ${context.getReceiveCount()}\n`);
    appendFileSync(config.handledFile, `${data.n}\n`);
  }
}
const descriptor = Object.getOwnPropertyDescriptor(FaultController.prototype, 'handle')!;
Payload()(FaultController.prototype, 'handle', 0);
Ctx()(FaultController.prototype, 'handle', 1);
EventPattern(config.topic, config.extras)(FaultController.prototype, 'handle', descriptor);
Object.defineProperty(FaultController.prototype, 'handle', descriptor);

@Module({ imports: [MessagingModule.forRoot(config.module)], controllers: [FaultController] })
class HarnessModule {}

const app = await NestFactory.create(HarnessModule, { logger: ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] });
app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
app.enableShutdownHooks();
await app.startAllMicroservices();
await app.init();
process.stdout.write('READY\n');
