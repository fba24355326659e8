import type { ModulesContainer } from '@nestjs/core';

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
}

/** Every controller method of the app that carries a message or event pattern. */
export function patternHandlers(modules: ModulesContainer): PatternHandlerMethod[] {
  const found: PatternHandlerMethod[] = [];
  for (const module of modules.values()) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const method = Object.getOwnPropertyDescriptor(prototype, key)?.value as unknown;
        if (typeof method !== 'function' || Reflect.getMetadata(PATTERN_METADATA, method) === undefined) continue;
        found.push({ name: `${wrapper.name ?? 'controller'}.${key}`, method });
      }
    }
  }
  return found;
}
