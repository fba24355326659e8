import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import { MessagingServer } from './messaging.server.js';
import { patternHandlers } from './pattern-handlers.js';

/** How long after bootstrap the strategy may still be started (an app may call listen() before startAllMicroservices()). */
const START_GRACE_MS = 1500;

/**
 * Warns once when the app has @EventPattern handlers but MessagingServer was never started as a strategy:
 * emit() would work and no handler would ever run.
 */
@Injectable()
export class UnstartedServerWarning implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessagingModule');
  private timer?: NodeJS.Timeout;
  private checked = false;
  private settle!: (warned: boolean) => void;
  /** Resolves once the check ran: true when it warned. */
  readonly settled = new Promise<boolean>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly server: MessagingServer,
    private readonly modules: ModulesContainer,
  ) {}

  onApplicationBootstrap(): void {
    if (this.checked) return;
    this.checked = true;
    const handlers = this.eventHandlerNames();
    if (this.server.isStarted || handlers.length === 0) return this.settle(false);
    this.timer = setTimeout(() => {
      if (this.server.isStarted) return this.settle(false);
      this.settle(true);
      this.logger.warn(
        `${handlers.length} @EventPattern handler(s) (${handlers.slice(0, 3).join(', ')}${handlers.length > 3 ? ', …' : ''}) will never receive a message: ` +
          'MessagingServer is not started. In main.ts call app.connectMicroservice({ strategy: app.get(MessagingServer) }) and then await app.startAllMicroservices()',
      );
    }, START_GRACE_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    this.settle(false);
  }

  /** Event handlers meant for any transport (no transport named in @EventPattern), which this strategy serves. */
  private eventHandlerNames(): string[] {
    return patternHandlers(this.modules)
      .filter(({ pattern }) => pattern.isEvent && pattern.transport === undefined)
      .map(({ name }) => name);
  }
}
