import type { ModulesContainer } from '@nestjs/core';
import type { MessageHandler } from '@nestjs/microservices';
import { connectionOf } from '../options/connection-names.js';
import { patternHandlers } from './pattern-handlers.js';

/**
 * The handlers this strategy would be given, read from the controllers' metadata, for describing the topology of an
 * app whose microservice was never connected: by connection name (the `connection` extra, as addHandler sorts them),
 * one entry per pattern (the first handler's extras, as Nest keeps them), only handlers that name no transport. The
 * entries carry what the planner reads (isEventHandler, extras); they are not callable.
 */
export function controllerHandlers(modules: ModulesContainer | undefined): Map<string, Map<string, MessageHandler>> {
  const byConnection = new Map<string, Map<string, MessageHandler>>();
  if (!modules) return byConnection;
  for (const { pattern: recorded } of patternHandlers(modules)) {
    if (recorded.transport !== undefined) continue;
    const { isEvent: isEventHandler, extras } = recorded;
    const connection = connectionOf(extras.connection);
    const handlers = byConnection.get(connection) ?? new Map<string, MessageHandler>();
    byConnection.set(connection, handlers);
    for (const pattern of recorded.patterns) {
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
  return byConnection;
}
