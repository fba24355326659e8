import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Subscription } from 'rxjs';
import { describeError } from '../error-text.js';
import { MissingDependencyError } from '../errors.js';
import { requirePackages } from '../optional-package.js';
import { MessagingAdminService } from './messaging-admin.service.js';

interface Emitter {
  emit(event: string, ...values: unknown[]): unknown;
}

/**
 * When the app has @nestjs/event-emitter's EventEmitter2 (EventEmitterModule.forRoot()), every admin event is also
 * emitted there as `messaging.<type>` (e.g. `messaging.queue.depth`) with the AdminEvent as its value, so that
 * `@OnEvent('messaging.message.dead-lettered')` works. The package is an optional peer, looked for at bootstrap only.
 */
@Injectable()
export class EventEmitterBridge implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessagingAdmin');
  private subscription?: Subscription;

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly admin: MessagingAdminService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const emitter = await this.findEmitter();
    if (!emitter) return;
    this.subscription = this.admin.events$.subscribe((event) => {
      try {
        emitter.emit(`messaging.${event.type}`, event);
      } catch (error) {
        this.logger.warn(`A listener of messaging.${event.type} threw: ${describeError(error)}`);
      }
    });
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
  }

  private async findEmitter(): Promise<Emitter | undefined> {
    try {
      await requirePackages([{ name: '@nestjs/event-emitter', load: () => import('@nestjs/event-emitter') }], 'the event-emitter bridge');
    } catch (error) {
      if (error instanceof MissingDependencyError) return undefined;
      throw error;
    }
    const { EventEmitter2 } = await import('@nestjs/event-emitter');
    try {
      return this.moduleRef.get<Emitter>(EventEmitter2, { strict: false });
    } catch {
      return undefined; // installed, but EventEmitterModule is not imported
    }
  }
}
