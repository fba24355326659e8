import { Logger } from '@nestjs/common';
import type { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { RpcException, type MessageHandler } from '@nestjs/microservices';
import type { MessagingBatchContext } from '../context/messaging-batch.context.js';
import type { MessagingContext } from '../context/messaging.context.js';
import { NEST_UNKNOWN_ERROR, withoutFailureRecorder, type GlobalFilterScope } from './handler-failure.js';
import {
  attachmentKnowable,
  enhancersOn,
  handlerParams,
  nestMetadataMismatch,
  type AttachmentWatch,
  type EnhancerKind,
  type HandlerParam,
} from './nest-internals.js';
import { patternHandlers, type PatternHandlerMethod } from './pattern-handlers.js';

/**
 * The controller method of an @EventPattern handler, bound to its instance with its `@Payload()` / `@Ctx()`
 * arguments: what Nest's RPC pipeline ends up calling when the handler has no pipes, guards, interceptors or
 * exception filters at any level. Returns what the method returned (a value, a promise or an observable).
 */
export type DirectHandler = (data: unknown, context: MessagingContext | MessagingBatchContext) => unknown;

interface FastPathInputs {
  modules?: ModulesContainer;
  /** The container's ApplicationConfig: the app's global enhancers and APP_* providers. */
  appConfig?: ApplicationConfig;
  adapterHost?: HttpAdapterHost;
  watch?: AttachmentWatch;
}

interface FastPathPlan {
  /** The direct call for a handler, or undefined when it must go through Nest's pipeline. */
  directFor(pattern: string, handler: MessageHandler): DirectHandler | undefined;
  /** Why no handler takes the fast path, when that is decided for the whole app. */
  disabledBecause?: string;
}

/** Whether a hybrid app's handlers may take the fast path at all: on Nest 12, not 11 (see attachmentKnowable). */
export const hybridFastPathAvailable = attachmentKnowable;

const logger = new Logger('MessagingServer');
let mismatchReported = false;

/**
 * Decides, once when the server starts listening, which handlers can skip Nest's RPC pipeline. A handler qualifies
 * only when nothing the pipeline would run is present — no pipes, guards, interceptors or exception filters on the
 * method, on its controller, or global (useGlobal*, APP_* providers, pre-request hooks) — and the pipeline's
 * configuration is known for certain. In every other case, or when something cannot be known, the handler keeps
 * Nest's full pipeline; so does every handler when Nest's metadata does not read as expected (nestMetadataMismatch),
 * with one warning per process.
 *
 * The microservice's global enhancers live in the ApplicationConfig it was created with: the container's (which we
 * read) for `NestFactory.createMicroservice`, for a TestingModule's microservice, and for `connectMicroservice` with
 * `inheritAppConfig: true`; a fresh one for `connectMicroservice` without it. A fresh config is still empty when
 * connectMicroservice registers the handlers right away, but with `deferInitialization: true` it may have received
 * `microservice.useGlobal*()` before the handlers were built, and we cannot see it: in a hybrid app whose handlers
 * were not registered on attachment the fast path is off.
 */
export function planFastPaths(inputs: FastPathInputs): FastPathPlan {
  const { modules, appConfig } = inputs;
  const none = (disabledBecause: string): FastPathPlan => ({ directFor: () => undefined, disabledBecause });
  const mismatch = nestMetadataMismatch();
  if (mismatch !== undefined) {
    if (!mismatchReported) {
      mismatchReported = true;
      logger.warn(
        `Every @EventPattern handler runs through Nest's full RPC pipeline (correct, only slower; Nest's default ` +
          `exception filter logs the stack of each failure again): this Nest records handler metadata differently ` +
          `from what nestjs-messaging reads: ${mismatch}. Upgrade nestjs-messaging, or report this with your ` +
          `@nestjs/common version.`,
      );
    }
    return none(`Nest's handler metadata is not understood: ${mismatch}`);
  }
  const unknown = unknownConfig(inputs);
  if (unknown !== undefined || !modules || !appConfig) return none(unknown ?? 'the Nest container could not be inspected');
  const globals = globalEnhancers(appConfig);
  if (globals !== undefined) return none(globals);

  const methods = eventMethods(modules);
  return {
    directFor(pattern, handler) {
      if ((handler as { next?: unknown }).next) return undefined; // several handlers for one pattern: Nest forks them
      const candidates = methods.filter((m) => m.patterns === undefined || m.patterns.includes(pattern));
      if (candidates.length !== 1 || candidates[0].patterns === undefined) return undefined;
      return directHandler(candidates[0]);
    },
  };
}

/** Why the microservice's enhancer configuration cannot be known for certain, or undefined when it can. */
function unknownConfig({ modules, appConfig, adapterHost, watch }: FastPathInputs): string | undefined {
  if (!modules || !appConfig || !adapterHost || !watch) return 'the Nest container could not be inspected';
  const hybrid = adapterHost.httpAdapter !== undefined && adapterHost.httpAdapter !== null;
  if (hybrid && !hybridFastPathAvailable) return 'hybrid apps keep the pipeline on Nest 11 (the microservice config cannot be known)';
  if (hybrid && !watch.registeredOnAttach) {
    return 'the handlers were registered after connectMicroservice (deferInitialization): the microservice config is not known';
  }
  return undefined;
}

/**
 * The global exception filters of the handlers that go through Nest's pipeline, when the configuration is known for
 * certain and Nest's metadata reads as expected (the fast path's conditions); undefined otherwise, and then Nest's
 * default filter keeps logging.
 * A hybrid app's microservice without inheritAppConfig has a config of its own, empty when its handlers were
 * registered on attachment: the container's filters are then more than apply, which only means fewer are claimed.
 */
export function knownGlobalFilters(inputs: FastPathInputs): GlobalFilterScope | undefined {
  if (nestMetadataMismatch() !== undefined || unknownConfig(inputs) !== undefined) return undefined;
  const config = inputs.appConfig as unknown as { getGlobalFilters?: () => unknown; getGlobalRequestFilters?: () => unknown };
  const filters = config.getGlobalFilters?.();
  const requestScoped = config.getGlobalRequestFilters?.() ?? [];
  if (!Array.isArray(filters) || !Array.isArray(requestScoped)) return undefined;
  return { globalFilters: [...filters, ...requestScoped.map((wrapper) => (wrapper as { metatype?: unknown } | null)?.metatype)] };
}

/** A description of the global enhancers found, or undefined when there are none (and every list could be read). */
function globalEnhancers(config: ApplicationConfig): string | undefined {
  const lists: [string, string][] = [
    ['getGlobalPipes', 'global pipes'],
    ['getGlobalGuards', 'global guards'],
    ['getGlobalInterceptors', 'global interceptors'],
    ['getGlobalFilters', 'global exception filters'],
    ['getGlobalRequestPipes', 'request-scoped APP_PIPE'],
    ['getGlobalRequestGuards', 'request-scoped APP_GUARD'],
    ['getGlobalRequestInterceptors', 'request-scoped APP_INTERCEPTOR'],
    ['getGlobalRequestFilters', 'request-scoped APP_FILTER'],
  ];
  const reader = config as unknown as Record<string, unknown>;
  for (const [method, what] of lists) {
    const read = reader[method];
    if (typeof read !== 'function') return `ApplicationConfig has no ${method}()`;
    const found = read.call(config) as unknown;
    if (!Array.isArray(found)) return `ApplicationConfig.${method}() is not a list`;
    if (found.length > 0) return `the app has ${what}`;
  }
  // Nest 12: hooks run before every enhancer of every pattern handler (absent in Nest 11)
  const hooks = reader.getGlobalPreRequestHooks;
  if (typeof hooks === 'function') {
    const found = hooks.call(config) as unknown;
    if (!Array.isArray(found) || found.length > 0) return 'the app has pre-request hooks';
  }
  return undefined;
}

interface EventMethod extends PatternHandlerMethod {
  /** The method's string patterns; undefined when it has a pattern that is not a string (matched conservatively). */
  patterns?: string[];
}

function eventMethods(modules: ModulesContainer): EventMethod[] {
  return patternHandlers(modules).map((handler) => {
    const { patterns } = handler.pattern;
    return { ...handler, patterns: patterns.every((p) => typeof p === 'string') ? (patterns as string[]) : undefined };
  });
}

/** The direct call for one controller method, or undefined when Nest's pipeline would do more than call it. */
function directHandler({ instance, metatype, methodKey, isStatic }: EventMethod): DirectHandler | undefined {
  if (!isStatic || !instance || typeof metatype !== 'function') return undefined; // request-scoped: an instance per message
  const prototype = Object.getPrototypeOf(instance) as Record<string, unknown> | null;
  // an ordinary class: metadata on the class and its method is where Nest reads it (no mixin, no proxied class)
  if (!prototype || prototype !== metatype.prototype || prototype.constructor !== metatype) return undefined;
  const method = prototype[methodKey];
  if (typeof method !== 'function' || (instance as Record<string, unknown>)[methodKey] !== method) return undefined;
  for (const kind of ENHANCER_KINDS) {
    const onMethod = enhancersOn(method, kind);
    const methodOwn = kind === 'interceptors' || kind === 'filters' ? withoutFailureRecorder(onMethod) : onMethod;
    if (enhancersOn(metatype, kind).length > 0 || methodOwn.length > 0) return undefined;
  }
  const params = handlerParams(metatype, methodKey);
  return params && boundCall(instance, method, params);
}

const ENHANCER_KINDS: readonly EnhancerKind[] = ['pipes', 'guards', 'interceptors', 'filters'];

/** Calls the method with the arguments Nest's RpcParamsFactory would build (see handlerParams). */
function boundCall(instance: object, method: Function, params: readonly HandlerParam[]): DirectHandler {
  if (params.length === 0) return (data, context) => method.call(instance, data, context);
  const [a, b] = params.length <= 2 ? [...params].sort((x, y) => x.index - y.index) : [];
  const plainPayloadFirst = a?.index === 0 && a.from === 'payload' && !a.field;
  if (plainPayloadFirst && params.length === 1) return (data) => method.call(instance, data);
  if (plainPayloadFirst && b?.index === 1 && b.from === 'context') return (data, context) => method.call(instance, data, context);
  const length = Math.max(...params.map((p) => p.index)) + 1;
  return (data, context) => {
    const args = new Array<unknown>(length).fill(undefined);
    for (const { index, from, field } of params) {
      args[index] = from === 'context' ? context : field ? (data as Record<string, unknown> | null | undefined)?.[field] : data;
    }
    return method.apply(instance, args);
  };
}

/**
 * What Nest's default RPC exception filter (BaseRpcExceptionFilter, the only one when a handler has none of its
 * own) makes of an error, so a fast-path failure reads as it would after the pipeline: an RpcException becomes
 * its error object (`{status, message}` for a string), anything else `{status: 'error', message: 'Internal server
 * error'}`. Unlike Nest's filter it logs nothing: the transport logs each failed attempt (UnclaimedFailureFilter).
 */
export function filteredLikeNest(error: unknown): unknown {
  if (error instanceof RpcException) {
    const res = error.getError();
    return typeof res === 'object' && res !== null ? res : { status: 'error', message: res };
  }
  return { status: 'error', message: NEST_UNKNOWN_ERROR };
}
