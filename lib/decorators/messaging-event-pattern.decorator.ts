import { EventPattern } from '@nestjs/microservices';
import type { SubscriptionExtras } from '../messaging.options.js';

/**
 * `@EventPattern(topic, extras)` with the subscription extras typed. It also compiles under Nest 12's typed
 * EventPattern with `strict` on, where a handler taking `@Ctx() ctx: MessagingContext` fails with TS1241.
 */
export function MessagingEventPattern(topic: string, extras: SubscriptionExtras = {}): MethodDecorator {
  return EventPattern<string>(topic, extras as Record<string, unknown>);
}
