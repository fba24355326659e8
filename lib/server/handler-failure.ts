import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import { catchError, throwError, type Observable } from 'rxjs';
import { MessagingContext } from '../context/messaging.context.js';

import { patternHandlers } from './pattern-handlers.js';

/** Nest's @UseInterceptors metadata key (stable since Nest 5). */
const INTERCEPTORS_METADATA = '__interceptors__';

const failures = new WeakMap<MessagingContext, unknown>();

/**
 * Nest's default RPC exception filter turns any error that is not an RpcException into "Internal server error"
 * before the transport sees it. This interceptor, innermost on every @EventPattern handler, notes the original
 * error on the message's context and rethrows it untouched, so exception filters still run as before.
 */
class HandlerFailureRecorder implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const messaging = context.getType() === 'rpc' ? context.switchToRpc().getContext() : undefined;
    if (!(messaging instanceof MessagingContext)) return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        failures.set(messaging, error);
        return throwError(() => error);
      }),
    );
  }
}

const recorder = new HandlerFailureRecorder();

/**
 * Adds the recorder to every @EventPattern method of the app's controllers. Runs while providers are created,
 * before Nest builds the handlers' call chains (connectMicroservice / startAllMicroservices).
 */
export function recordHandlerFailures(modules: ModulesContainer): void {
  for (const { method } of patternHandlers(modules)) {
    const interceptors = (Reflect.getMetadata(INTERCEPTORS_METADATA, method) as unknown[] | undefined) ?? [];
    if (!interceptors.includes(recorder)) Reflect.defineMetadata(INTERCEPTORS_METADATA, [...interceptors, recorder], method);
  }
}

/** A method's own interceptors, the recorder left out (it only exists for Nest's pipeline). */
export function withoutFailureRecorder(interceptors: unknown[] | undefined): unknown[] {
  return (interceptors ?? []).filter((interceptor) => interceptor !== recorder);
}

/** What the handler (or a pipe) threw for this message, before exception filters rewrote it. */
export function recordedFailure(context: MessagingContext): unknown {
  return failures.get(context);
}
