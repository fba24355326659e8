import type { ModulesContainer } from '@nestjs/core';
import type { MessageHandler } from '@nestjs/microservices';
import { HANDLER_TYPE_METADATA, EVENT_HANDLER, PATTERN_METADATA, patternHandlers, TRANSPORT_METADATA } from '../server/pattern-handlers.js';

/** Nest's metadata key for the extras of @EventPattern(pattern, extras). */
const PATTERN_EXTRAS_METADATA = 'microservices:pattern_extras';

/**
 * The handlers this strategy would be given, read from the controllers' metadata, for describing the topology of an
 * app whose microservice was never connected: one entry per pattern (the first handler's extras, as Nest keeps
 * them), only handlers that name no transport. The entries carry what the planner reads (isEventHandler, extras);
 * they are not callable.
 */
export function controllerHandlers(modules: ModulesContainer | undefined): Map<string, MessageHandler> {
  const handlers = new Map<string, MessageHandler>();
  if (!modules) return handlers;
  for (const { method } of patternHandlers(modules)) {
    if (Reflect.getMetadata(TRANSPORT_METADATA, method) !== undefined) continue;
    const isEventHandler = Reflect.getMetadata(HANDLER_TYPE_METADATA, method) === EVENT_HANDLER;
    const extras = (Reflect.getMetadata(PATTERN_EXTRAS_METADATA, method) as Record<string, unknown> | undefined) ?? {};
    const patterns = Reflect.getMetadata(PATTERN_METADATA, method) as unknown;
    for (const pattern of Array.isArray(patterns) ? patterns : [patterns]) {
      const key = typeof pattern === 'string' ? pattern : JSON.stringify(pattern);
      if (handlers.has(key)) continue;
      const describeOnly = Object.assign(
        () => {
          throw new Error('describeTopology() handler entries are not callable');
        },
        { isEventHandler, extras },
      );
      handlers.set(key, describeOnly as unknown as MessageHandler);
    }
  }
  return handlers;
}
