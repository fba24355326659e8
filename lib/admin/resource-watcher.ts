import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { MESSAGING_OPTIONS } from '../constants.js';
import { describeError } from '../error-text.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { MessagingAdminRuntimeOptions } from './admin-module.options.js';
import { AdminOperationUnavailableError } from '../transport/admin.errors.js';
import { ADMIN_RUNTIME_OPTIONS } from './admin.tokens.js';
import { MessagingAdminService } from './messaging-admin.service.js';

/**
 * `watch: { intervalMs, prefix }`: lists queues and topics once per interval (one call chain at a time, never
 * overlapping) and reports `resource.appeared` / `resource.disappeared` on the service's events$. The first look
 * only learns what exists. Without `prefix`, queues are listed by MessagingModule's queueNamePrefix and topics by its
 * topicPrefix; when those are empty too, every queue and topic of the broker is watched. Stops on shutdown, and for
 * good when the transport cannot list (AMQP without the management API).
 */
@Injectable()
export class ResourceWatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('MessagingAdmin');
  private timer?: NodeJS.Timeout;
  private known?: Map<string, 'queue' | 'topic'>;
  private stopped = false;

  constructor(
    @Inject(ADMIN_RUNTIME_OPTIONS) private readonly options: MessagingAdminRuntimeOptions,
    private readonly admin: MessagingAdminService,
    @Inject(MESSAGING_OPTIONS) private readonly messaging: ResolvedMessagingOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.watch) void this.look();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The queues the last look found (none before it, or without watch). */
  queues(): string[] {
    return [...(this.known?.keys() ?? [])].filter((key) => key.startsWith('queue:')).map((key) => key.slice('queue:'.length));
  }

  private async look(): Promise<void> {
    const watch = this.options.watch;
    if (!watch || this.stopped) return;
    try {
      const [queues, topics] = await Promise.all([
        this.admin.listQueues({ prefix: watch.prefix ?? this.messaging.queueNamePrefix }),
        this.admin.listTopics({ prefix: watch.prefix ?? this.messaging.topicPrefix }),
      ]);
      const seen = new Map<string, 'queue' | 'topic'>();
      for (const q of queues) seen.set(`queue:${q.name}`, 'queue');
      for (const t of topics) seen.set(`topic:${t.arn ?? t.name}`, 'topic');
      if (this.known && !this.stopped) {
        for (const [key, kind] of seen) if (!this.known.has(key)) this.admin.report('resource.appeared', kind, key.slice(kind.length + 1));
        for (const [key, kind] of this.known)
          if (!seen.has(key)) this.admin.report('resource.disappeared', kind, key.slice(kind.length + 1));
      }
      this.known = seen;
    } catch (error) {
      if (error instanceof AdminOperationUnavailableError) {
        this.logger.warn(`The resource watcher stops: ${error.message}`);
        return;
      }
      this.logger.warn(`The resource watcher could not list resources (${describeError(error)}); it tries again in ${watch.intervalMs} ms`);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.look(), watch.intervalMs);
  }
}
