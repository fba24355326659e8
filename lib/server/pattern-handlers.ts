import { MetadataScanner, type ModulesContainer } from '@nestjs/core';

/** Nest's metadata keys for @EventPattern / @MessagePattern (stable since Nest 5). */
export const PATTERN_METADATA = 'microservices:pattern';
export const HANDLER_TYPE_METADATA = 'microservices:handler_type';
export const TRANSPORT_METADATA = 'microservices:transport';
/** PatternHandler.EVENT */
export const EVENT_HANDLER = 2;

export interface PatternHandlerMethod {
  /** `Controller.method`, for messages. */
  name: string;
  method: Function;
  methodKey: string;
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
        if (typeof method !== 'function' || Reflect.getMetadata(PATTERN_METADATA, method) === undefined) continue;
        found.push({
          name: `${wrapper.name ?? 'controller'}.${methodKey}`,
          method,
          methodKey,
          instance: instance ?? undefined,
          metatype: wrapper.metatype as Function | undefined,
          isStatic,
        });
      }
    }
  }
  return found;
}
