import type { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { RpcException, Server, type MessageHandler } from '@nestjs/microservices';
import type { Observable, Subscription } from 'rxjs';
import type { MessagingContext } from '../context/messaging.context.js';
import { NEST_UNKNOWN_ERROR, withoutFailureRecorder, type GlobalFilterScope } from './handler-failure.js';
import { PATTERN_METADATA, patternHandlers, type PatternHandlerMethod } from './pattern-handlers.js';

/**
 * The controller method of an @EventPattern handler, bound to its instance with its `@Payload()` / `@Ctx()`
 * arguments: what Nest's RPC pipeline ends up calling when the handler has no pipes, guards, interceptors or
 * exception filters at any level. Returns what the method returned (a value, a promise or an observable).
 */
export type DirectHandler = (data: unknown, context: MessagingContext) => unknown;

/** Nest's metadata keys (@nestjs/common constants, the same in Nest 11 and 12). */
const ROUTE_ARGS_METADATA = '__routeArguments__';
const CUSTOM_ROUTE_ARGS_METADATA = '__customRouteArgs__';
const ENHANCER_METADATA = {
  pipes: '__pipes__',
  guards: '__guards__',
  interceptors: '__interceptors__',
  filters: '__exceptionFilters__',
} as const;
/** RpcParamtype.PAYLOAD / CONTEXT */
const PAYLOAD = 3;
const CONTEXT = 6;
/** What Nest uses for a pattern handler without parameter decorators (DEFAULT_CALLBACK_METADATA): the payload only. */
const DEFAULT_PARAMS: Record<string, RouteArg> = { [`${PAYLOAD}:0`]: { index: 0, data: undefined, pipes: [] } };

interface RouteArg {
  index: number;
  data?: unknown;
  pipes?: unknown[];
}

/**
 * Whether Nest attached this server and registered its handlers in one synchronous run, as
 * `app.connectMicroservice(...)` does without `deferInitialization`. Nest's NestMicroservice constructor announces
 * its server on `ModulesContainer.getRpcTargetRegistry()` (Nest 12 and recent 11) just before connectMicroservice
 * registers the handlers. A microtask queued then runs as soon as that synchronous run ends: it counts the handlers
 * registered by then; a deferred registration (in `listen()`, after an await) comes later and is not counted. While
 * the microtask is still pending (listen() called in the same run, e.g. `connectMicroservice(); startAllMicroservices()`
 * without an await between), everything registered so far was registered in that run.
 */
export class AttachmentWatch {
  private state: 'unseen' | 'attaching' | 'settled' = 'unseen';
  private handlersAtAttach = 0;
  private subscription?: Subscription;

  constructor(
    modules: ModulesContainer | undefined,
    server: object,
    private readonly handlerCount: () => number,
  ) {
    const registry = (modules as { getRpcTargetRegistry?: () => Observable<unknown> } | undefined)?.getRpcTargetRegistry?.();
    if (typeof registry?.subscribe !== 'function') return; // older Nest 11: not knowable, no fast path in hybrid apps
    this.subscription = registry.subscribe((target) => {
      if (target !== server || this.state !== 'unseen') return;
      this.state = 'attaching';
      queueMicrotask(() => {
        this.handlersAtAttach = handlerCount();
        this.state = 'settled';
        this.subscription?.unsubscribe();
      });
    });
  }

  /** True when the handlers were registered in the same synchronous run that attached the server. */
  get registeredOnAttach(): boolean {
    if (this.state === 'attaching') return this.handlerCount() > 0;
    return this.state === 'settled' && this.handlersAtAttach > 0;
  }
}

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

/**
 * Decides, once when the server starts listening, which handlers can skip Nest's RPC pipeline. A handler qualifies
 * only when nothing the pipeline would run is present — no pipes, guards, interceptors or exception filters on the
 * method, on its controller, or global (useGlobal*, APP_* providers, pre-request hooks) — and the pipeline's
 * configuration is known for certain. In every other case, or when something cannot be known, the handler keeps
 * Nest's full pipeline.
 *
 * The microservice's global enhancers live in the ApplicationConfig it was created with: the container's (which we
 * read) for `NestFactory.createMicroservice`, for a TestingModule's microservice, and for `connectMicroservice` with
 * `inheritAppConfig: true`; a fresh one for `connectMicroservice` without it. A fresh config is still empty when
 * connectMicroservice registers the handlers right away, but with `deferInitialization: true` it may have received
 * `microservice.useGlobal*()` before the handlers were built, and we cannot see it: in a hybrid app whose handlers
 * were not registered on attachment the fast path is off.
 */
/**
 * Whether a hybrid app's handlers may take the fast path at all. On Nest 12 the attachment watch tells an immediate
 * connectMicroservice from a deferred one; on Nest 11 a deferred registration with its own `useGlobal*` was seen
 * taking the fast path, so hybrid apps there keep the pipeline (standalone microservices still qualify).
 */
export const hybridFastPathAvailable =
  typeof (Server.prototype as unknown as { runWithProcessingHooks?: unknown }).runWithProcessingHooks === 'function';

export function planFastPaths(inputs: FastPathInputs): FastPathPlan {
  const { modules, appConfig } = inputs;
  const none = (disabledBecause: string): FastPathPlan => ({ directFor: () => undefined, disabledBecause });
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
 * certain (the same condition as the fast path's); undefined otherwise, and then Nest's default filter keeps logging.
 * A hybrid app's microservice without inheritAppConfig has a config of its own, empty when its handlers were
 * registered on attachment: the container's filters are then more than apply, which only means fewer are claimed.
 */
export function knownGlobalFilters(inputs: FastPathInputs): GlobalFilterScope | undefined {
  if (unknownConfig(inputs) !== undefined) return undefined;
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
    const list = [Reflect.getMetadata(PATTERN_METADATA, handler.method) as unknown].flat();
    return { ...handler, patterns: list.every((p) => typeof p === 'string') ? (list as string[]) : undefined };
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
  for (const [kind, key] of Object.entries(ENHANCER_METADATA)) {
    const onClass = Reflect.getMetadata(key, metatype) as unknown[] | undefined;
    const onMethod = Reflect.getMetadata(key, method) as unknown[] | undefined;
    const methodOwn = kind === 'interceptors' || kind === 'filters' ? withoutFailureRecorder(onMethod) : onMethod;
    if ((onClass?.length ?? 0) > 0 || (methodOwn?.length ?? 0) > 0) return undefined;
  }
  return boundCall(instance, method, metatype, methodKey);
}

/** Calls the method with the arguments Nest's RpcParamsFactory would build from its route-args metadata. */
function boundCall(instance: object, method: Function, metatype: Function, methodKey: string): DirectHandler | undefined {
  const metadata =
    (Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodKey) as Record<string, RouteArg> | undefined) || DEFAULT_PARAMS;
  const keys = Object.keys(metadata);
  if (keys.length === 0) return (data, context) => method.call(instance, data, context);
  const params: { index: number; type: number; field: unknown }[] = [];
  for (const key of keys) {
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) return undefined; // createParamDecorator: a factory of its own
    const type = Number(key.split(':')[0]);
    const { index, data, pipes } = metadata[key];
    if ((type !== PAYLOAD && type !== CONTEXT) || (pipes?.length ?? 0) > 0 || !Number.isInteger(index)) return undefined;
    params.push({ index, type, field: type === PAYLOAD ? data : undefined });
  }
  const length = Math.max(...params.map((p) => p.index)) + 1;
  const only = params.length === 1 ? params[0] : undefined;
  if (only && only.index === 0 && only.type === PAYLOAD && !only.field) return (data) => method.call(instance, data);
  const [a, b] = params.length === 2 ? [...params].sort((x, y) => x.index - y.index) : [];
  if (a && b && a.index === 0 && b.index === 1 && a.type === PAYLOAD && !a.field && b.type === CONTEXT) {
    return (data, context) => method.call(instance, data, context);
  }
  return (data, context) => {
    const args = new Array<unknown>(length).fill(undefined);
    for (const { index, type, field } of params) {
      args[index] = type === CONTEXT ? context : field ? (data as Record<string, unknown> | null | undefined)?.[field as string] : data;
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
