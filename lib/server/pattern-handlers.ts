import { MetadataScanner, type ModulesContainer } from '@nestjs/core';
import { handlerPattern, type HandlerPattern } from './nest-internals.js';

export interface PatternHandlerMethod {
  /** `Controller.method`, for messages. */
  name: string;
  method: Function;
  methodKey: string;
  /** What the method's @EventPattern / @MessagePattern recorded. */
  pattern: HandlerPattern;
  /** The controller's instance once Nest created it (a static controller), else undefined. */
  instance?: object;
  metatype?: Function;
  /** The controller's dependency tree is static (one instance, not one per message). */
  isStatic: boolean;
}

/**
 * Every controller method of the app that carries a message or event pattern, found as Nest's
 * ListenerMetadataExplorer finds them (inherited methods included).
 */
export function patternHandlers(modules: ModulesContainer): PatternHandlerMethod[] {
  const scanner = new MetadataScanner();
  const found: PatternHandlerMethod[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const instance = wrapper.instance as object | undefined | null;
      const prototype = instance
        ? (Object.getPrototypeOf(instance) as object | null)
        : (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      const isStatic = typeof wrapper.isDependencyTreeStatic === 'function' && wrapper.isDependencyTreeStatic();
      for (const methodKey of scanner.getAllMethodNames(prototype)) {
        const method = (prototype as Record<string, unknown>)[methodKey];
        const pattern = typeof method === 'function' ? handlerPattern(method) : undefined;
        if (!pattern) continue;
        found.push({
          name: `${wrapper.name ?? 'controller'}.${methodKey}`,
          method: method as Function,
          methodKey,
          pattern,
          instance: instance ?? undefined,
          metatype: wrapper.metatype as Function | undefined,
          isStatic,
        });
      }
    }
  }
  return found;
}
