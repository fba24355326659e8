import { Inject, Injectable } from '@nestjs/common';
import { MESSAGING_BROKER } from '../constants.js';
import { describeError } from '../error-text.js';
import type { Broker } from '../transport/broker.js';
import type { AdminOverview, QueueOverview } from './admin.types.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { ResourceWatcher } from './resource-watcher.js';

/** The dashboard's queues: every queue this app consumes, then every other queue the watcher sees, each with its depths. */
@Injectable()
export class QueueOverviewService {
  constructor(
    private readonly admin: MessagingAdminService,
    private readonly watcher: ResourceWatcher,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
  ) {}

  async overview(): Promise<AdminOverview> {
    const consumers = new Map((this.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const names = [...new Set([...consumers.keys(), ...this.watcher.queues()])];
    const queues = await Promise.all(names.map((name) => this.describe(name, consumers.get(name))));
    return { transport: this.admin.transport, queues, at: new Date() };
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
