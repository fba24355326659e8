import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { MESSAGING_BROKER } from '../constants.js';
import { describeError } from '../error-text.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import type { AdminOverview, BrokerOverview, QueueOverview } from '../transport/admin.types.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { ResourceWatcher } from './resource-watcher.js';

/**
 * The dashboard's queues: every queue this app consumes, then every other queue the watcher sees, each with its
 * depths. A consumed queue's dead-letter queue is shown on its row (depth, peek, redrive), not as a row of its own.
 * Also whether the broker is reachable: the connection's status, the consumers' failed receives (SNS+SQS has no
 * connection), and whether any queue could be read at all.
 */
@Injectable()
export class QueueOverviewService implements OnModuleInit, OnApplicationShutdown {
  private status: BrokerStatus = 'connected';
  private statusSubscription?: Subscription;

  constructor(
    private readonly admin: MessagingAdminService,
    private readonly watcher: ResourceWatcher,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
  ) {}

  onModuleInit(): void {
    this.statusSubscription = this.broker.status$.subscribe((status) => (this.status = status));
  }

  onApplicationShutdown(): void {
    this.statusSubscription?.unsubscribe();
  }

  async overview(): Promise<AdminOverview> {
    const consumers = new Map((this.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const consumed = await Promise.all([...consumers].map(([name, attached]) => this.describe(name, attached)));
    const shown = new Set([...consumed.flatMap((q) => [q.name, ...(q.deadLetterQueue ? [q.deadLetterQueue.name] : [])])]);
    const watched = await Promise.all(
      [...new Set(this.watcher.queues())].filter((name) => !shown.has(name)).map((name) => this.describe(name, undefined)),
    );
    const queues = [...consumed, ...watched];
    return { transport: this.admin.transport, broker: this.brokerState(queues), queues, at: new Date() };
  }

  /** The broker's state without a call to it; with `queues` (an overview just read) also whether any could be read. */
  brokerState(queues?: QueueOverview[]): BrokerOverview {
    const health = this.broker.health?.();
    if (this.status === 'reconnecting') return { state: 'reconnecting', ...(health?.problem ? { problem: health.problem } : {}) };
    if (this.status === 'disconnected' || health?.connected === false)
      return { state: 'unreachable', problem: health?.problem ?? 'the connection to the broker is closed' };
    const failing = health?.consumers.find((c) => (c.receiveFailures ?? 0) > 0);
    if (failing) return { state: 'unreachable', problem: `receiving from ${failing.queue} fails: ${failing.lastError ?? 'unknown error'}` };
    if (queues?.length && queues.every((q) => q.error !== undefined)) return { state: 'unreachable', problem: queues[0].error };
    return { state: 'connected' };
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
        ...(info.maxReceiveCount === undefined ? {} : { maxReceiveCount: info.maxReceiveCount }),
      };
    } catch (error) {
      return { ...row, error: describeError(error) };
    }
  }
}
