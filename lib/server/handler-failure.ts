import * as nestCommon from '@nestjs/common';
import {
  Catch,
  UseFilters,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
  type RpcExceptionFilter,
} from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { catchError, throwError, type Observable } from 'rxjs';
import { MessagingBatchContext } from '../context/messaging-batch.context.js';
import { MessagingContext } from '../context/messaging.context.js';
import { enhancersOn, filterCatchTypes } from './nest-internals.js';
import { patternHandlers } from './pattern-handlers.js';

/** What Nest's BaseRpcExceptionFilter passes on for any error that is not an RpcException. */
export const NEST_UNKNOWN_ERROR = 'Internal server error';

/** A message's context, or a batch handler's. */
type HandlerContext = MessagingContext | MessagingBatchContext;

const failures = new WeakMap<HandlerContext, unknown>();

/**
 * The exception filters that apply to a server's handlers besides their method's and controller's own: the app's
 * global filters, known for certain (see planFastPaths), or undefined when they cannot be known.
 */
export interface GlobalFilterScope {
  globalFilters: readonly unknown[];
}

/** The scope of the server that is dispatching a message, set per message on Nest's pipeline path only. */
const scopes = new WeakMap<HandlerContext, GlobalFilterScope>();
/** Handler failures no exception filter of the app would catch: Nest's default filter would log their stack. */
const unclaimed = new WeakSet<object>();

/**
 * Nest's default RPC exception filter turns any error that is not an RpcException into "Internal server error"
 * before the transport sees it. This interceptor, innermost on every @EventPattern handler, notes the original
 * error on the message's context and rethrows it untouched, so exception filters still run as before. When no
 * filter of the app (method, controller or global) would catch it, it is marked for UnclaimedFailureFilter.
 */
class HandlerFailureRecorder implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const messaging = context.getType() === 'rpc' ? context.switchToRpc().getContext() : undefined;
    if (!(messaging instanceof MessagingContext || messaging instanceof MessagingBatchContext)) return next.handle();
    return next.handle().pipe(
      catchError((error: unknown) => {
        failures.set(messaging, error);
        if (typeof error === 'object' && error !== null) {
          const scope = scopes.get(messaging);
          if (scope && wouldBeLoggedByNest(error) && !caughtByAppFilters(error, context, scope)) unclaimed.add(error);
          else unclaimed.delete(error);
        }
        return throwError(() => error);
      }),
    );
  }
}

/** Matches (for @Catch) exactly the failures HandlerFailureRecorder marked as caught by no filter of the app. */
class UnclaimedFailure {
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && unclaimed.has(value);
  }
}

/**
 * Does what Nest's default RPC filter does with an unknown error, without printing its stack: the transport logs one
 * line per failed attempt itself (the stack goes to debug). It sits first in the handler's filter list but catches
 * only what no filter of the app would, so a user's @UseFilters and global filters still see every error they catch.
 */
@Catch(UnclaimedFailure)
class UnclaimedFailureFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    unclaimed.delete(exception as object);
    return throwError(() => ({ status: 'error', message: NEST_UNKNOWN_ERROR }));
  }
}

const recorder = new HandlerFailureRecorder();
const unclaimedFilter = new UnclaimedFailureFilter();

/** The methods recordHandlerFailures already equipped (an app built twice in one process finds the same methods). */
const equipped = new WeakSet<Function>();

/**
 * Adds the recorder and the filter to every @EventPattern method of the app's controllers, as @UseInterceptors and
 * @UseFilters on the method would. Runs while providers are created, before Nest builds the handlers' call chains
 * (connectMicroservice / startAllMicroservices). Nest lists a method's filters last-declared first, so the filter
 * appended here is consulted before any other.
 */
export function recordHandlerFailures(modules: ModulesContainer): void {
  for (const { method, methodKey, metatype } of patternHandlers(modules)) {
    if (equipped.has(method)) continue;
    equipped.add(method);
    const target = metatype?.prototype ?? {};
    UseInterceptors(recorder)(target, methodKey, { value: method });
    UseFilters(unclaimedFilter)(target, methodKey, { value: method });
  }
}

/** A method's own interceptors or filters, the library's recorder and filter left out (they only exist for Nest's pipeline). */
export function withoutFailureRecorder(enhancers: unknown[]): unknown[] {
  return enhancers.filter((enhancer) => enhancer !== recorder && enhancer !== unclaimedFilter);
}

/** What the handler (or a pipe) threw for this message, before exception filters rewrote it. */
export function recordedFailure(context: HandlerContext): unknown {
  return failures.get(context);
}

/** Before a message goes through Nest's pipeline: which global filters its server's handlers have, when known. */
export function scopeFailures(context: HandlerContext, scope: GlobalFilterScope | undefined): void {
  if (scope) scopes.set(context, scope);
}

/** What Nest's default RPC filter logs: anything but an RpcException or an IntrinsicException. */
function wouldBeLoggedByNest(error: unknown): boolean {
  const intrinsic = (nestCommon as { IntrinsicException?: Function }).IntrinsicException;
  return !(error instanceof RpcException) && !(typeof intrinsic === 'function' && error instanceof intrinsic);
}

/** Whether Nest would hand the error to a filter of the method, its controller or the app (as selectExceptionFilterMetadata does). */
function caughtByAppFilters(error: object, context: ExecutionContext, scope: GlobalFilterScope): boolean {
  const own = withoutFailureRecorder(enhancersOn(context.getHandler(), 'filters'));
  const onClass = enhancersOn(context.getClass(), 'filters');
  return [...own, ...onClass, ...scope.globalFilters].some((filter) => {
    const types = filterCatchTypes(filter);
    return types.length === 0 || types.some((type) => typeof type === 'function' && error instanceof type);
  });
}
