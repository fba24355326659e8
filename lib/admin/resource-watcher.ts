import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { describeError } from '../error-text.js';
import type { MessagingAdminRuntimeOptions } from './admin-module.options.js';
import { AdminOperationUnavailableError } from '../transport/admin.errors.js';
import type { AdminConnection } from './admin-connection.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { MessagingAdminService } from './messaging-admin.service.js';

/**
 * `watch: { intervalMs, prefix }`: lists each connection's queues and topics once per interval (one call chain at a
 * time per connection, never overlapping) and reports `resource.appeared` / `resource.disappeared` on the service's
 * events$, labelled with the connection. The first look only learns what exists. Without `prefix`, queues are listed
 * by the connection's queueNamePrefix and topics by its topicPrefix; when those are empty too, every queue and topic
 * of its broker is watched. Stops on shutdown, and for good on a connection whose transport cannot list (AMQP without
 * the management API).
 */
@Injectable()
export class ResourceWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessagingAdmin');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** What the last look found on each connection. */
  private readonly known = new Map<string, Map<string, 'queue' | 'topic'>>();
  private stopped = false;

  constructor(
    @Inject(ADMIN_RUNTIME_OPTIONS) private readonly options: MessagingAdminRuntimeOptions,
    private readonly admin: MessagingAdminService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.watch) for (const connection of this.admin.connections()) void this.look(connection);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
  }

  /** The queues the last look found on the connection (none before it, or without watch). */
  queues(connection: string): string[] {
    return [...(this.known.get(connection)?.keys() ?? [])]
      .filter((key) => key.startsWith('queue:'))
      .map((key) => key.slice('queue:'.length));
  }

  private async look(connection: AdminConnection): Promise<void> {
    const watch = this.options.watch;
    if (!watch || this.stopped) return;
    const on = { connection: connection.name };
    const { where } = connection;
    try {
      const [queues, topics] = await Promise.all([
        this.admin.listQueues({ prefix: watch.prefix ?? connection.options.queueNamePrefix, ...on }),
        this.admin.listTopics({ prefix: watch.prefix ?? connection.options.topicPrefix, ...on }),
      ]);
      const seen = new Map<string, 'queue' | 'topic'>();
      for (const q of queues) seen.set(`queue:${q.name}`, 'queue');
      for (const t of topics) seen.set(`topic:${t.arn ?? t.name}`, 'topic');
      const known = this.known.get(connection.name);
      if (known && !this.stopped) {
        const report = (type: 'resource.appeared' | 'resource.disappeared', key: string, kind: 'queue' | 'topic') =>
          this.admin.report(type, kind, key.slice(kind.length + 1), undefined, connection.name);
        for (const [key, kind] of seen) if (!known.has(key)) report('resource.appeared', key, kind);
        for (const [key, kind] of known) if (!seen.has(key)) report('resource.disappeared', key, kind);
      }
      this.known.set(connection.name, seen);
    } catch (error) {
      if (error instanceof AdminOperationUnavailableError) {
        this.logger.warn(`The resource watcher stops${where}: ${error.message}`);
        return;
      }
      this.logger.warn(
        `The resource watcher could not list resources${where} (${describeError(error)}); it tries again in ${watch.intervalMs} ms`,
      );
    }
    if (!this.stopped)
      this.timers.set(
        connection.name,
        setTimeout(() => void this.look(connection), watch.intervalMs),
      );
  }
}
