import 'reflect-metadata';
import { jest } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { Catch, createParamDecorator, UseFilters, UseGuards, UseInterceptors, UsePipes, type PipeTransform } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, Transport } from '@nestjs/microservices';
import { Subject } from 'rxjs';
import {
  AttachmentWatch,
  enhancersOn,
  filterCatchTypes,
  handlerParams,
  handlerPattern,
  nestMetadataMismatch,
} from '../../../lib/server/nest-internals.js';

const version = (name: string) =>
  (JSON.parse(readFileSync(new URL(`../../../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string }).version;
const NEST = ['@nestjs/common', '@nestjs/core', '@nestjs/microservices'].map((name) => `${name} ${version(name)}`).join(', ');

class UpperPipe implements PipeTransform {
  transform(value: unknown) {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}
class LedgerError extends Error {}

@Catch(LedgerError)
class LedgerFilter {
  catch() {}
}

@Catch()
class EverythingFilter {
  catch() {}
}

const Current = createParamDecorator(() => 'current');

@UseGuards(class ClassGuard {})
class Handlers {
  // parameter decorators apply last parameter first: the route args list the context before the payload
  both(@Payload() _data: unknown, @Ctx() _context: unknown) {}
  reordered(@Ctx() _context: unknown, @Payload('orderId') _orderId: unknown) {}
  plain(_data: unknown) {}
  piped(@Payload('orderId', UpperPipe) _orderId: unknown) {}
  pipeOnly(@Payload(UpperPipe) _data: unknown) {}
  custom(@Payload() _data: unknown, @Current() _current: unknown) {}

  @UsePipes(UpperPipe)
  @UseInterceptors(class MethodInterceptor {})
  @UseFilters(new LedgerFilter())
  enhanced(@Payload() _data: unknown) {}
}

class Inheriting extends Handlers {}

class Patterns {
  @EventPattern('orders.created', { queueName: 'orders', maxReceiveCount: 5 })
  withExtras() {}
  @EventPattern(['orders.paid', 'orders.refunded'], Transport.RMQ, { prefetch: 3 })
  routed() {}
  @EventPattern('orders.shipped')
  bare() {}
  @MessagePattern({ cmd: 'sum' })
  message() {}
  helper() {}
}

describe(`Nest's metadata as nestjs-messaging reads it (installed: ${NEST})`, () => {
  it('reads as expected on the installed Nest: otherwise every handler keeps the pipeline, and this names what changed', () => {
    expect({ installed: NEST, mismatch: nestMetadataMismatch() }).toEqual({ installed: NEST, mismatch: undefined });
  });

  it('handlerParams: @Payload() / @Ctx() in any order, a payload field, none at all; undefined for pipes and custom decorators', () => {
    const sorted = (key: string) => [...(handlerParams(Handlers, key) ?? [])].sort((a, b) => a.index - b.index);
    expect(sorted('both')).toEqual([
      { index: 0, from: 'payload' },
      { index: 1, from: 'context' },
    ]);
    expect(sorted('reordered')).toEqual([
      { index: 0, from: 'context' },
      { index: 1, from: 'payload', field: 'orderId' },
    ]);
    expect(handlerParams(Handlers, 'plain')).toEqual([{ index: 0, from: 'payload' }]);
    expect(handlerParams(Handlers, 'piped')).toBeUndefined();
    expect(handlerParams(Handlers, 'pipeOnly')).toBeUndefined();
    expect(handlerParams(Handlers, 'custom')).toBeUndefined();
    expect(handlerParams(Inheriting, 'reordered')).toEqual(handlerParams(Handlers, 'reordered'));
  });

  it('enhancersOn: what @Use*() declared on the class and on the method, [] where nothing was', () => {
    expect(enhancersOn(Handlers, 'guards').map((guard) => (guard as Function).name)).toEqual(['ClassGuard']);
    expect(enhancersOn(Handlers, 'pipes')).toEqual([]);
    const method = Handlers.prototype.enhanced;
    expect(enhancersOn(method, 'pipes')).toEqual([UpperPipe]);
    expect(enhancersOn(method, 'interceptors').map((interceptor) => (interceptor as Function).name)).toEqual(['MethodInterceptor']);
    expect(enhancersOn(method, 'filters')).toEqual([expect.any(LedgerFilter)]);
    expect(enhancersOn(method, 'guards')).toEqual([]);
    expect(enhancersOn(Handlers.prototype.both, 'pipes')).toEqual([]);
  });

  it('handlerPattern: the patterns, event or message, the transport named and the extras of @EventPattern / @MessagePattern', () => {
    expect(handlerPattern(Patterns.prototype.withExtras)).toEqual({
      patterns: ['orders.created'],
      isEvent: true,
      transport: undefined,
      extras: { queueName: 'orders', maxReceiveCount: 5 },
    });
    expect(handlerPattern(Patterns.prototype.routed)).toEqual({
      patterns: ['orders.paid', 'orders.refunded'],
      isEvent: true,
      transport: Transport.RMQ,
      extras: { prefetch: 3 },
    });
    expect(handlerPattern(Patterns.prototype.bare)).toEqual({
      patterns: ['orders.shipped'],
      isEvent: true,
      transport: undefined,
      extras: {},
    });
    expect(handlerPattern(Patterns.prototype.message)).toEqual({
      patterns: [{ cmd: 'sum' }],
      isEvent: false,
      transport: undefined,
      extras: {},
    });
    expect(handlerPattern(Patterns.prototype.helper)).toBeUndefined();
  });

  it("filterCatchTypes: a filter's @Catch() types from its class or an instance, [] for a catch-all", () => {
    expect(filterCatchTypes(LedgerFilter)).toEqual([LedgerError]);
    expect(filterCatchTypes(new LedgerFilter())).toEqual([LedgerError]);
    expect(filterCatchTypes(new EverythingFilter())).toEqual([]);
    expect(filterCatchTypes(undefined)).toEqual([]);
  });
});

describe('nestMetadataMismatch names what a Nest release changed (simulated by rewriting what its decorators record)', () => {
  const defineMetadata = Reflect.defineMetadata.bind(Reflect);
  /** Runs the check while every metadata write goes through `rewrite` first, as a Nest recording differently would. */
  function mismatchWhen(rewrite: (key: unknown, value: unknown) => [unknown, unknown]): string | undefined {
    const spy = jest.spyOn(Reflect, 'defineMetadata').mockImplementation((key: unknown, value: unknown, ...rest: unknown[]) => {
      const [newKey, newValue] = rewrite(key, value);
      (defineMetadata as (...args: unknown[]) => void)(newKey, newValue, ...rest);
    });
    try {
      return nestMetadataMismatch();
    } finally {
      spy.mockRestore();
    }
  }
  const renamed = (from: string, to: string) => (key: unknown, value: unknown) => [key === from ? to : key, value] as [unknown, unknown];
  const routeArgs =
    (change: (entries: [string, Record<string, unknown>][]) => [string, Record<string, unknown>][]) =>
    (key: unknown, value: unknown): [unknown, unknown] =>
      key === '__routeArguments__'
        ? [key, Object.fromEntries(change(Object.entries(value as Record<string, Record<string, unknown>>)))]
        : [key, value];

  it.each([
    [
      '@UsePipes() records under another key',
      renamed('__pipes__', '__pipes_v2__'),
      ["@UsePipes() on a class is not read back from '__pipes__'", "'__pipes_v2__'"],
    ],
    [
      '@UseGuards() records under another key',
      renamed('__guards__', '__guards_v2__'),
      ["@UseGuards() on a class is not read back from '__guards__'"],
    ],
    [
      '@UseInterceptors()',
      renamed('__interceptors__', 'interceptors'),
      ["@UseInterceptors() on a class is not read back from '__interceptors__'"],
    ],
    [
      '@UseFilters()',
      renamed('__exceptionFilters__', 'filters'),
      ["@UseFilters() on a class is not read back from '__exceptionFilters__'"],
    ],
    [
      '@Catch()',
      renamed('__filterCatchExceptions__', 'catches'),
      ["@Catch() on a filter class is not read back from '__filterCatchExceptions__'"],
    ],
    [
      '@EventPattern records its pattern under another key',
      renamed('microservices:pattern', 'microservices:patterns'),
      ["@EventPattern('probe.event', { probe: 1 }) reads from 'microservices:pattern'", 'as nothing', "'microservices:patterns'"],
    ],
    [
      'handler types renumbered',
      (key: unknown, value: unknown): [unknown, unknown] => [key, key === 'microservices:handler_type' ? Number(value) + 10 : value],
      ["@EventPattern('probe.event', { probe: 1 }) reads", '"isEvent":false'],
    ],
    [
      'extras under another key',
      renamed('microservices:pattern_extras', 'microservices:extras'),
      ["@EventPattern('probe.event', { probe: 1 }) reads", '"extras":{}', "'microservices:extras'"],
    ],
    [
      'the transport under another key',
      renamed('microservices:transport', 'microservices:transport_v2'),
      ["@EventPattern(['probe.a', 'probe.b'], Transport.RMQ, { probe: 2 }) reads", "'microservices:transport_v2'"],
    ],
    [
      'route args under another key',
      renamed('__routeArguments__', '__params__'),
      ["@Payload() data, @Ctx() context reads from '__routeArguments__' as"],
    ],
    [
      'param types renumbered',
      routeArgs((entries) => entries.map(([key, entry]) => [key.replace(/^3:/, '30:'), entry])),
      ['@Payload() data, @Ctx() context reads', '"30:0"'],
    ],
    [
      'param pipes moved to another field',
      routeArgs((entries) => entries.map(([key, { pipes, ...entry }]) => [key, { ...entry, pipeline: pipes }])),
      ["@Payload('id', SomePipe) id reads from '__routeArguments__' as", '"pipeline":["[ProbePipe]"]'],
    ],
    [
      'payload field under another name',
      routeArgs((entries) => entries.map(([key, { data, ...entry }]) => [key, { ...entry, property: data }])),
      ["@Payload('id') id reads from '__routeArguments__' as"],
    ],
  ])('%s', (_change, rewrite, fragments) => {
    const mismatch = mismatchWhen(rewrite);
    for (const fragment of fragments) expect(mismatch).toContain(fragment);
  });
});

describe('AttachmentWatch', () => {
  function watch() {
    const registry = new Subject<unknown>();
    const modules = { getRpcTargetRegistry: () => registry.asObservable() } as unknown as ModulesContainer;
    const server = {};
    let handlers = 0;
    const attachment = new AttachmentWatch(modules, server, () => handlers);
    return { attachment, announce: () => registry.next(server), addHandler: () => (handlers += 1) };
  }

  it('handlers registered in the run that announced the server count as registered on attachment', async () => {
    const { attachment, announce, addHandler } = watch();
    announce();
    addHandler();
    expect(attachment.registeredOnAttach).toBe(true);
    await Promise.resolve();
    expect(attachment.registeredOnAttach).toBe(true);
  });

  it('handlers registered after an await (deferInitialization) do not', async () => {
    const { attachment, announce, addHandler } = watch();
    announce();
    await Promise.resolve();
    addHandler();
    expect(attachment.registeredOnAttach).toBe(false);
  });

  it('nothing is known without the registry (older Nest 11) or before the server was announced', () => {
    const { attachment, addHandler } = watch();
    addHandler();
    expect(attachment.registeredOnAttach).toBe(false);
    expect(new AttachmentWatch({} as ModulesContainer, {}, () => 1).registeredOnAttach).toBe(false);
  });
});
