import { Catch, createParamDecorator, UseFilters, UseGuards, UseInterceptors, UsePipes } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, Server, Transport } from '@nestjs/microservices';
import type { Observable, Subscription } from 'rxjs';

/*
 * Everything this library knows about Nest beyond its public API lives in this module.
 *
 * Handler discovery (the pattern decorators), the fast path and the failure recorder read the metadata Nest's
 * decorators leave on controllers. Nest exports its metadata keys only from its internal entry point (Nest 12: '@nestjs/common/internal', "not part of the public API";
 * Nest 11: the deep import '@nestjs/common/constants') and RpcParamtype not at all, so they are written out here.
 * What they are worth is checked against what Nest's public decorators record (nestMetadataMismatch) every time a
 * server plans its handlers: when the check fails, every handler keeps Nest's own pipeline.
 */
const PATTERN_METADATA = 'microservices:pattern';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const TRANSPORT_METADATA = 'microservices:transport';
const PATTERN_EXTRAS_METADATA = 'microservices:pattern_extras';
/** PatternHandler.EVENT (@EventPattern; @MessagePattern records PatternHandler.MESSAGE). */
const EVENT_HANDLER = 2;
const ROUTE_ARGS_METADATA = '__routeArguments__';
const ENHANCER_METADATA = {
  pipes: '__pipes__',
  guards: '__guards__',
  interceptors: '__interceptors__',
  filters: '__exceptionFilters__',
} as const;
const FILTER_CATCH_EXCEPTIONS = '__filterCatchExceptions__';
/** RpcParamtype.PAYLOAD / CONTEXT: the first part of a route-args key, `${type}:${parameterIndex}`. */
const PAYLOAD = 3;
const CONTEXT = 6;

export type EnhancerKind = keyof typeof ENHANCER_METADATA;

/** What @EventPattern / @MessagePattern recorded on a controller method. */
export interface HandlerPattern {
  /** The decorator's pattern, as a list (one decorator may name several). */
  patterns: unknown[];
  /** @EventPattern, not @MessagePattern. */
  isEvent: boolean;
  /** The transport the decorator named; undefined when it named none (a handler for every transport). */
  transport: unknown;
  /** `@EventPattern(pattern, extras)`: {} when there were none. */
  extras: Record<string, unknown>;
}

/** The pattern decorator's record on a controller method, undefined when the method carries no pattern. */
export function handlerPattern(method: Function): HandlerPattern | undefined {
  const patterns = Reflect.getMetadata(PATTERN_METADATA, method) as unknown;
  if (patterns === undefined) return undefined;
  return {
    patterns: [patterns].flat(),
    isEvent: Reflect.getMetadata(PATTERN_HANDLER_METADATA, method) === EVENT_HANDLER,
    transport: Reflect.getMetadata(TRANSPORT_METADATA, method) as unknown,
    extras: (Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as Record<string, unknown> | undefined) ?? {},
  };
}

/** The pipes, guards, interceptors or exception filters declared on a controller class or method (@Use*). */
export function enhancersOn(target: Function, kind: EnhancerKind): unknown[] {
  return (Reflect.getMetadata(ENHANCER_METADATA[kind], target) as unknown[] | undefined) ?? [];
}

/** A filter's @Catch() types (filter: an instance or a class): on its class or prototype (Nest 12 reads both, Nest 11 the class). */
export function filterCatchTypes(filter: unknown): unknown[] {
  if (typeof filter !== 'function' && (typeof filter !== 'object' || filter === null)) return [];
  const type = typeof filter === 'function' ? filter : (Object.getPrototypeOf(filter) as { constructor?: Function } | null)?.constructor;
  const prototype = typeof filter === 'function' ? (filter.prototype as object | undefined) : Object.getPrototypeOf(filter);
  const types =
    (prototype ? (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, prototype) as unknown[] | undefined) : undefined) ??
    (type ? (Reflect.getMetadata(FILTER_CATCH_EXCEPTIONS, type) as unknown[] | undefined) : undefined);
  return types ?? [];
}

/** One argument Nest's RpcParamsFactory gives a handler: the payload (or one field of it), or the context. */
export interface HandlerParam {
  index: number;
  from: 'payload' | 'context';
  /** `@Payload('field')`: the payload's field instead of the payload. */
  field?: string;
}

/** What Nest passes a pattern handler without parameter decorators (DEFAULT_CALLBACK_METADATA): the payload only. */
const PAYLOAD_ONLY: readonly HandlerParam[] = [{ index: 0, from: 'payload' }];

/**
 * The arguments of a controller method as Nest's RPC pipeline builds them, when they are only @Payload() and @Ctx()
 * without pipes; undefined when the pipeline would do more (parameter pipes, createParamDecorator, other types).
 * An empty list: Nest calls the method with the payload and the context as they come.
 */
export function handlerParams(metatype: Function, methodKey: string): readonly HandlerParam[] | undefined {
  const metadata = Reflect.getMetadata(ROUTE_ARGS_METADATA, metatype, methodKey) as Record<string, unknown> | undefined;
  if (!metadata) return PAYLOAD_ONLY;
  const params: HandlerParam[] = [];
  for (const [key, entry] of Object.entries(metadata)) {
    const param = plainParam(key, entry);
    if (!param) return undefined;
    params.push(param);
  }
  return params;
}

function plainParam(key: string, entry: unknown): HandlerParam | undefined {
  const match = /^(\d+):(\d+)$/.exec(key);
  if (!match || typeof entry !== 'object' || entry === null) return undefined;
  const { index, data, pipes } = entry as { index?: unknown; data?: unknown; pipes?: unknown };
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return undefined;
  if (pipes !== undefined && !(Array.isArray(pipes) && pipes.length === 0)) return undefined;
  const type = Number(match[1]);
  if (type === CONTEXT) return { index, from: 'context' };
  if (type !== PAYLOAD || (data !== undefined && typeof data !== 'string')) return undefined;
  return data ? { index, from: 'payload', field: data } : { index, from: 'payload' };
}

const ENHANCER_DECORATORS: Record<EnhancerKind, [string, (marker: Function) => ClassDecorator & MethodDecorator]> = {
  pipes: ['@UsePipes()', (marker) => UsePipes(marker)],
  guards: ['@UseGuards()', (marker) => UseGuards(marker)],
  interceptors: ['@UseInterceptors()', (marker) => UseInterceptors(marker)],
  filters: ['@UseFilters()', (marker) => UseFilters(marker as never)],
};

/**
 * Why Nest's metadata does not read as this module expects, or undefined when it does: Nest's public decorators are
 * applied to a throwaway class and read back through the functions above. Cheap (a few decorator calls), so it runs
 * each time a server plans its handlers rather than once per process.
 */
export function nestMetadataMismatch(): string | undefined {
  return patternMismatch() ?? argumentsAndEnhancersMismatch();
}

function patternMismatch(): string | undefined {
  class PatternProbe {
    event(): void {}
    routed(): void {}
    message(): void {}
    plain(): void {}
  }
  const decorate = (decorator: (target: object, key: string, descriptor: PropertyDescriptor) => unknown, methodKey: keyof PatternProbe) =>
    decorator(PatternProbe.prototype, methodKey, Object.getOwnPropertyDescriptor(PatternProbe.prototype, methodKey)!);
  decorate(EventPattern('probe.event', { probe: 1 }), 'event');
  decorate(EventPattern(['probe.a', 'probe.b'], Transport.RMQ, { probe: 2 }), 'routed');
  decorate(MessagePattern({ cmd: 'probe' }), 'message');
  const expected: [keyof PatternProbe, string, HandlerPattern | undefined][] = [
    [
      'event',
      "@EventPattern('probe.event', { probe: 1 })",
      { patterns: ['probe.event'], isEvent: true, transport: undefined, extras: { probe: 1 } },
    ],
    [
      'routed',
      "@EventPattern(['probe.a', 'probe.b'], Transport.RMQ, { probe: 2 })",
      { patterns: ['probe.a', 'probe.b'], isEvent: true, transport: Transport.RMQ, extras: { probe: 2 } },
    ],
    ['message', "@MessagePattern({ cmd: 'probe' })", { patterns: [{ cmd: 'probe' }], isEvent: false, transport: undefined, extras: {} }],
    ['plain', 'a method without a pattern decorator', undefined],
  ];
  for (const [methodKey, declared, pattern] of expected) {
    const method = PatternProbe.prototype[methodKey];
    const read = describeMetadata(handlerPattern(method));
    if (read !== describeMetadata(pattern)) {
      return `${declared} reads from '${PATTERN_METADATA}', '${PATTERN_HANDLER_METADATA}', '${TRANSPORT_METADATA}' and '${PATTERN_EXTRAS_METADATA}' as ${read}, not ${describeMetadata(pattern)} (Nest recorded under ${describeKeys(method)})`;
    }
  }
  return undefined;
}

function argumentsAndEnhancersMismatch(): string | undefined {
  class ProbePipe {
    transform(value: unknown): unknown {
      return value;
    }
  }
  class Probe {
    both(): void {}
    field(): void {}
    piped(): void {}
    custom(): void {}
  }
  const prototype = Probe.prototype;
  Payload()(prototype, 'both', 0);
  Ctx()(prototype, 'both', 1);
  Payload('id')(prototype, 'field', 0);
  Payload('id', ProbePipe)(prototype, 'piped', 0);
  createParamDecorator(() => undefined)()(prototype, 'custom', 0);
  const read = (methodKey: string) => JSON.stringify(handlerParams(Probe, methodKey));
  const recorded = (methodKey: string) => {
    const metadata = Reflect.getMetadata(ROUTE_ARGS_METADATA, Probe, methodKey) as unknown;
    return metadata === undefined ? `nothing there; it recorded under ${describeKeys(Probe, methodKey)}` : describeMetadata(metadata);
  };
  const expected: [string, string, readonly HandlerParam[] | undefined][] = [
    [
      'both',
      '@Payload() data, @Ctx() context',
      [
        { index: 0, from: 'payload' },
        { index: 1, from: 'context' },
      ],
    ],
    ['field', "@Payload('id') id", [{ index: 0, from: 'payload', field: 'id' }]],
    ['piped', "@Payload('id', SomePipe) id", undefined],
    ['custom', 'a createParamDecorator() parameter', undefined],
  ];
  for (const [methodKey, declared, params] of expected) {
    if (read(methodKey) !== JSON.stringify(params)) {
      return `${declared} reads from '${ROUTE_ARGS_METADATA}' as ${read(methodKey)}, not ${JSON.stringify(params)} (Nest recorded ${recorded(methodKey)})`;
    }
  }

  const method = Object.getOwnPropertyDescriptor(prototype, 'both')!;
  for (const kind of Object.keys(ENHANCER_DECORATORS) as EnhancerKind[]) {
    const [decorator, decorate] = ENHANCER_DECORATORS[kind];
    const marker = class ProbeEnhancer {};
    decorate(marker)(Probe);
    decorate(marker)(prototype, 'both', method);
    for (const [target, where] of [
      [Probe, 'a class'],
      [method.value as Function, 'a method'],
    ] as const) {
      const found = enhancersOn(target, kind);
      if (found.length !== 1 || found[0] !== marker) {
        return `${decorator} on ${where} is not read back from '${ENHANCER_METADATA[kind]}' (Nest recorded under ${describeKeys(target)})`;
      }
    }
  }

  class ProbeError extends Error {}
  class ProbeFilter {
    catch(): void {}
  }
  Catch(ProbeError)(ProbeFilter);
  for (const [filter, what] of [
    [ProbeFilter, 'class'],
    [new ProbeFilter(), 'instance'],
  ] as const) {
    const types = filterCatchTypes(filter);
    if (types.length !== 1 || types[0] !== ProbeError) {
      return `@Catch() on a filter ${what} is not read back from '${FILTER_CATCH_EXCEPTIONS}' (Nest recorded under ${describeKeys(ProbeFilter)})`;
    }
  }
  return undefined;
}

function describeKeys(target: object, propertyKey?: string): string {
  const keys = (propertyKey === undefined ? Reflect.getOwnMetadataKeys(target) : Reflect.getOwnMetadataKeys(target, propertyKey)).map(
    String,
  );
  return keys.length > 0 ? keys.map((key) => `'${key}'`).join(', ') : 'no key';
}

function describeMetadata(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'function' ? `[${item.name || 'function'}]` : item)) ?? 'nothing';
}

/**
 * Whether a hybrid app's handlers can be known to have been registered on attachment (see AttachmentWatch). On
 * Nest 11 a deferred registration with its own `useGlobal*` was seen taking the fast path, so only Nest 12 qualifies;
 * it is told apart by a method its Server gained (runWithProcessingHooks, protected).
 */
export const attachmentKnowable =
  typeof (Server.prototype as unknown as { runWithProcessingHooks?: unknown }).runWithProcessingHooks === 'function';

/**
 * Whether Nest attached this server and registered its handlers in one synchronous run, as
 * `app.connectMicroservice(...)` does without `deferInitialization`. Nest's NestMicroservice constructor announces
 * its server on `ModulesContainer.getRpcTargetRegistry()` (Nest 12 and recent 11) just before connectMicroservice
 * registers the handlers. A microtask queued then runs as soon as that synchronous run ends: it counts the handlers
 * registered by then; a deferred registration (in `listen()`, after an await) comes later and is not counted. While
 * the microtask is still pending (listen() called in the same run, e.g. `connectMicroservice(); startAllMicroservices()`
 * without an await between), everything registered so far was registered in that run.
 *
 * Why timing, not a flag: what matters is which ApplicationConfig built the handlers (a hybrid microservice without
 * inheritAppConfig has its own, private to NestMicroservice, which `microservice.useGlobal*()` fills when
 * initialization is deferred). Nest tells a server neither that config nor whether its initialization was deferred:
 * connectMicroservice calls the server only through addHandler, and the server has no reference to the app or the
 * NestMicroservice. The order "announce the server, then register its handlers in the same run" is the one thing
 * the server can observe.
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
