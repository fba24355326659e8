import 'reflect-metadata';
import { Controller, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { MessagingContext, SubscriptionExtras } from '../../lib/index.js';

export type Handler = (data: any, ctx: MessagingContext) => unknown;

/** A controller class with one @EventPattern handler per entry (payload and MessagingContext as arguments). */
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
