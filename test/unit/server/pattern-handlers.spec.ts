import 'reflect-metadata';
import type { ModulesContainer } from '@nestjs/core';
import { EventPattern } from '@nestjs/microservices';
import { patternHandlers } from '../../../lib/server/pattern-handlers.js';

class BaseHandlers {
  @EventPattern('inherited.topic')
  onInherited(): void {}
}

class OrderHandlers extends BaseHandlers {
  @EventPattern('own.topic')
  onOwn(): void {}

  helper(): void {}
}

/** A container with one module holding `OrderHandlers` as Nest would after instantiating it. */
function container(instance: object | undefined): ModulesContainer {
  const wrapper = { name: 'OrderHandlers', instance, metatype: OrderHandlers, isDependencyTreeStatic: () => true };
  return new Map([['app', { controllers: new Map([[OrderHandlers, wrapper]]) }]]) as unknown as ModulesContainer;
}

describe('patternHandlers', () => {
  it('finds pattern methods as Nest does, inherited ones included, with the instance and static-ness', () => {
    const instance = new OrderHandlers();
    const found = patternHandlers(container(instance));
    expect(found.map((h) => h.name).sort()).toEqual(['OrderHandlers.onInherited', 'OrderHandlers.onOwn']);
    expect(found.every((h) => h.instance === instance && h.metatype === OrderHandlers && h.isStatic)).toBe(true);
    expect(found.find((h) => h.methodKey === 'onOwn')?.pattern).toEqual({
      patterns: ['own.topic'],
      isEvent: true,
      transport: undefined,
      extras: {},
    });
  });

  it('reads the class prototype before Nest created the controller', () => {
    const found = patternHandlers(container(undefined));
    expect(found.map((h) => h.methodKey).sort()).toEqual(['onInherited', 'onOwn']);
    expect(found.every((h) => h.instance === undefined)).toBe(true);
  });
});
