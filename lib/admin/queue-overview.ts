import { Inject, Injectable } from '@nestjs/common';
import { MESSAGING_BROKER } from '../constants.js';
import { describeError } from '../error-text.js';
import type { Broker } from '../transport/broker.js';
import type { AdminOverview, QueueOverview } from './admin.types.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { ResourceWatcher } from './resource-watcher.js';

/**
 * The dashboard's queues: every queue this app consumes, then every other queue the watcher sees, each with its
 * depths. A consumed queue's dead-letter queue is shown on its row (depth, redrive), not as a row of its own.
 */
@Injectable()
export class QueueOverviewService {
  constructor(
    private readonly admin: MessagingAdminService,
    private readonly watcher: ResourceWatcher,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
  ) {}

  async overview(): Promise<AdminOverview> {
    const consumers = new Map((this.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const consumed = await Promise.all([...consumers].map(([name, attached]) => this.describe(name, attached)));
    const shown = new Set([...consumed.flatMap((q) => [q.name, ...(q.deadLetterQueue ? [q.deadLetterQueue.name] : [])])]);
    const watched = await Promise.all(
      [...new Set(this.watcher.queues())].filter((name) => !shown.has(name)).map((name) => this.describe(name, undefined)),
    );
    return { transport: this.admin.transport, queues: [...consumed, ...watched], at: new Date() };
  }

  private async describe(name: string, attached: boolean | undefined): Promise<QueueOverview> {
    const row: QueueOverview = { name, consumed: attached !== undefined, ...(attached === undefined ? {} : { attached }) };
    try {
      const info = await this.admin.queueInfo(name);
      return {
        ...row,
        messages: info.messages,
        ...(info.inFlight === undefined ? {} : { inFlight: info.inFlight }),
        ...(info.consumers === undefined ? {} : { consumers: info.consumers }),
        ...(info.topics === undefined ? {} : { topics: info.topics }),
        ...(info.deadLetterQueue ? { deadLetterQueue: info.deadLetterQueue } : {}),
      };
    } catch (error) {
      return { ...row, error: describeError(error) };
    }
  }
}
