import type { ModulesContainer } from '@nestjs/core';
import { handlerPattern } from './nest-internals.js';
import type { HandlerNameOf } from './subscription-planner.js';

/**
 * The method name of the controller method carrying each `@EventPattern` (the first one found for a pattern), for
 * tomodachi's non-competing queue names. Nest hands the transport only a wrapped handler, so the name comes from
 * the controllers' metadata.
 */
export function handlerNames(modules: ModulesContainer | undefined): HandlerNameOf {
  const names = new Map<string, string>();
  for (const module of modules?.values() ?? []) {
    for (const wrapper of module.controllers.values()) {
      const prototype = (wrapper.metatype as { prototype?: object } | undefined)?.prototype;
      if (!prototype) continue;
      for (const key of Object.getOwnPropertyNames(prototype)) {
        const method = Object.getOwnPropertyDescriptor(prototype, key)?.value as unknown;
        if (typeof method !== 'function') continue;
        for (const pattern of handlerPattern(method)?.patterns ?? []) {
          if (typeof pattern === 'string' && !names.has(pattern)) names.set(pattern, key);
        }
      }
    }
  }
  return (pattern) => names.get(pattern);
}
