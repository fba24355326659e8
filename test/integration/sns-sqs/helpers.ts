import 'reflect-metadata';
import { Controller, type INestApplication, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import { MESSAGING_BROKER, MessagingClient, MessagingModule, MessagingServer, type MessagingContext } from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/options-validation.js';
import { SnsSqsBroker } from '../../../lib/sns-sqs/sns-sqs.broker.js';
import type { MessagingModuleOptions, SubscriptionExtras } from '../../../lib/messaging.options.js';
import type { Fauxqs } from '../../support/fauxqs.js';

export type Handler = (data: any, ctx: MessagingContext) => unknown;

/** A controller class with one @EventPattern handler per entry. */
export function controllerFor(handlers: Array<{ pattern: string; extras?: SubscriptionExtras; handle: Handler }>): Type {
  @Controller()
  class TestController {}
  handlers.forEach(({ pattern, extras, handle }, i) => {
    const key = `handle${i}`;
    const method = function (this: unknown, data: unknown, ctx: MessagingContext) {
      return handle(data, ctx);
    };
    Object.defineProperty(TestController.prototype, key, { value: method, writable: true, configurable: true });
    const descriptor = Object.getOwnPropertyDescriptor(TestController.prototype, key)!;
    Payload()(TestController.prototype, key, 0);
    Ctx()(TestController.prototype, key, 1);
    Reflect.defineMetadata('design:paramtypes', [Object, Object], TestController.prototype, key);
    EventPattern(pattern, extras ?? {})(TestController.prototype, key, descriptor);
    Object.defineProperty(TestController.prototype, key, descriptor);
  });
  return TestController;
}

export type ModuleOptions = Omit<MessagingModuleOptions, 'transport'> & { transport?: 'sns-sqs' };

export function moduleOptions(fauxqs: Fauxqs, options: ModuleOptions): MessagingModuleOptions {
  return { transport: 'sns-sqs', retryBackoff: 0, drainTimeout: 5000, ...options, snsSqs: { ...fauxqs.snsSqs, ...(options.snsSqs ?? {}) } };
}

/** A Nest app with the messaging microservice connected and started. */
export async function startApp(fauxqs: Fauxqs, options: ModuleOptions, controllers: Type[] = [], broker?: SnsSqsBroker): Promise<INestApplication> {
  let builder = Test.createTestingModule({ imports: [MessagingModule.forRoot(moduleOptions(fauxqs, options))], controllers });
  if (broker) builder = builder.overrideProvider(MESSAGING_BROKER).useValue(broker);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication({ logger: process.env.TEST_LOGS ? ['error', 'warn', 'log'] : false });
  app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.init();
  return app;
}

export function emit(app: INestApplication, topic: string, data: unknown): Promise<unknown> {
  return lastValueFrom(app.get(MessagingClient).emit(topic, data), { defaultValue: undefined });
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

const MUTATING = /^(Create|Set|Subscribe|Unsubscribe|Delete|Tag|Untag|Add|Remove|Purge|Put)/;

/** A broker whose SNS and SQS clients record every command name, to check which calls provisioning makes. */
export function countingBroker(fauxqs: Fauxqs, options: ModuleOptions): { broker: SnsSqsBroker; calls: string[]; mutating: () => string[] } {
  const broker = new SnsSqsBroker(resolveModuleOptions(moduleOptions(fauxqs, options)), { log() {}, warn() {}, error() {} });
  const calls: string[] = [];
  const { sns, sqs } = broker.unwrap();
  for (const client of [sns, sqs] as Array<{ middlewareStack: { add: Function } }>) {
    client.middlewareStack.add((next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      calls.push(context.commandName ?? 'unknown');
      return next(args);
    }, { step: 'initialize', name: 'countCommands' });
  }
  return { broker, calls, mutating: () => calls.map((c) => c.replace(/Command$/, '')).filter((c) => MUTATING.test(c)) };
}
