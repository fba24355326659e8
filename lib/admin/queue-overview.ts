import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Subscription } from 'rxjs';
import { describeError } from '../error-text.js';
import type { BrokerStatus } from '../transport/broker.js';
import type { AdminOverview, BrokerOverview, QueueOverview } from '../transport/admin.types.js';
import type { AdminConnection } from './admin-connection.js';
import { MessagingAdminService } from './messaging-admin.service.js';
import { ResourceWatcher } from './resource-watcher.js';

/**
 * The dashboard's queues of one connection: every queue this app consumes through it, then every other queue the
 * watcher sees there, each with its depths. A consumed queue's dead-letter queue is shown on its row (depth, peek,
 * redrive), not as a row of its own. Also whether the connection's broker is reachable: its status, the consumers'
 * failed receives (SNS+SQS has no connection), and whether any queue could be read at all.
 */
@Injectable()
export class QueueOverviewService implements OnModuleInit, OnApplicationShutdown {
  /** Each connection's broker status, by connection name. */
  private readonly status = new Map<string, BrokerStatus>();
  private readonly subscriptions = new Subscription();

  constructor(
    private readonly admin: MessagingAdminService,
    private readonly watcher: ResourceWatcher,
  ) {}

  onModuleInit(): void {
    for (const connection of this.admin.connections())
      this.subscriptions.add(connection.broker.status$.subscribe((status) => this.status.set(connection.name, status)));
  }

  onApplicationShutdown(): void {
    this.subscriptions.unsubscribe();
  }

  /** The connection's overview (default: the default connection's); an unknown connection is refused (400). */
  async overview(name?: string): Promise<AdminOverview> {
    const connection = this.admin.connection(name);
    const consumers = new Map((connection.broker.health?.().consumers ?? []).map((c) => [c.queue, c.attached]));
    const consumed = await Promise.all([...consumers].map(([queue, attached]) => this.describe(connection, queue, attached)));
    const shown = new Set([...consumed.flatMap((q) => [q.name, ...(q.deadLetterQueue ? [q.deadLetterQueue.name] : [])])]);
    const watched = await Promise.all(
      [...new Set(this.watcher.queues(connection.name))]
        .filter((queue) => !shown.has(queue))
        .map((queue) => this.describe(connection, queue, undefined)),
    );
    const queues = [...consumed, ...watched];
    return {
      connection: connection.name,
      transport: connection.transport,
      broker: this.brokerState(connection, queues),
      queues,
      at: new Date(),
    };
  }

  /** The broker's state without a call to it; with `queues` (an overview just read) also whether any could be read. */
  brokerState(connection: AdminConnection, queues?: QueueOverview[]): BrokerOverview {
    const health = connection.broker.health?.();
    const status = this.status.get(connection.name) ?? 'connected';
    if (status === 'reconnecting') return { state: 'reconnecting', ...(health?.problem ? { problem: health.problem } : {}) };
    if (status === 'disconnected' || health?.connected === false)
      return { state: 'unreachable', problem: health?.problem ?? 'the connection to the broker is closed' };
    const failing = health?.consumers.find((c) => (c.receiveFailures ?? 0) > 0);
    if (failing) return { state: 'unreachable', problem: `receiving from ${failing.queue} fails: ${failing.lastError ?? 'unknown error'}` };
    if (queues?.length && queues.every((q) => q.error !== undefined)) return { state: 'unreachable', problem: queues[0].error };
    return { state: 'connected' };
  }

  private async describe(connection: AdminConnection, name: string, attached: boolean | undefined): Promise<QueueOverview> {
    const row: QueueOverview = { name, consumed: attached !== undefined, ...(attached === undefined ? {} : { attached }) };
    try {
      const info = await this.admin.queueInfo(name, { connection: connection.name });
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
