import { Controller, ValidationPipe, type Type } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { IsInt, Min } from 'class-validator';
import { MessagingValidationPipe, type MessagingContext, type SubscriptionExtras } from '../../../lib/index.js';
import { sleep } from './apps.js';

export class NumberedDto {
  @IsInt()
  @Min(0)
  n!: number;
}

/** Transient failures: every message fails its first attempt, every 10th also its second. Records attempt times. */
export function transientController(
  topic: string,
  extras: SubscriptionExtras,
  state: { attempts: Map<number, number[]>; handled: number[] },
): Type {
  @Controller()
  class TransientController {
    @EventPattern(topic, extras)
    handle(@Payload() data: { n: number }, @Ctx() ctx: MessagingContext) {
      const times = state.attempts.get(data.n) ?? [];
      times.push(Date.now());
      state.attempts.set(data.n, times);
      if (times.length === 1) throw new Error(`transient failure of ${data.n} (attempt ${ctx.getReceiveCount()})`);
      if (data.n % 10 === 0 && times.length === 2) throw new Error(`second transient failure of ${data.n}`);
      state.handled.push(data.n);
    }
  }
  return TransientController;
}

/**
 * Two handlers on one queue: `strictTopic` validates with MessagingValidationPipe (invalid: dead-lettered at once),
 * `plainTopic` with a plain ValidationPipe (invalid: retried, then dead-lettered).
 */
export function poisonController(strictTopic: string, plainTopic: string, extras: SubscriptionExtras, handled: number[]): Type {
  @Controller()
  class PoisonController {
    @EventPattern(strictTopic, extras)
    strict(@Payload(new MessagingValidationPipe()) data: NumberedDto) {
      handled.push(data.n);
    }

    @EventPattern(plainTopic, extras)
    plain(@Payload(new ValidationPipe()) data: NumberedDto) {
      handled.push(data.n);
    }
  }
  return PoisonController;
}

/** Handlers that run `ms` each; counts invocations. */
export function slowController(topic: string, extras: SubscriptionExtras, ms: number, invocations: number[], handled: number[]): Type {
  @Controller()
  class SlowController {
    @EventPattern(topic, extras)
    async handle(@Payload() data: { n: number }) {
      invocations.push(data.n);
      await sleep(ms);
      handled.push(data.n);
    }
  }
  return SlowController;
}
