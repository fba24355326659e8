import { ListSubscriptionsByTopicCommand } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ListQueueTagsCommand,
  TagQueueCommand,
} from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { encodeName } from '../naming.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { describeError } from '../error-text.js';
import type { AwsClients } from './clients.js';
import { ALIVE_TAG, PER_PROCESS_TAG, type SnsSqsProvisioner } from './provisioner.js';

/** Generated per-process queue names keep at least this much of `queueNamePrefix + service` (see fitName). */
const NAME_PREFIX_MAX = 50;

/**
 * Orphaned `competing: false` queues: a process killed before its shutdown could delete its own queue leaves the queue
 * and its subscription behind. Each live process renews the ALIVE_TAG of its queues every quarter of
 * `perProcessQueueExpires`; at startup, a process of the same service deletes the service's per-process queues that
 * were not renewed for longer than that, with their subscriptions and empty dead-letter queues. Queues without this
 * service's per-process tag (competing queues, other services' queues) are never touched.
 */
export class OrphanSweep {
  private timer?: NodeJS.Timeout;
  private renewing = new Set<Promise<void>>();
  private readonly abort = new AbortController();

  constructor(
    private readonly clients: AwsClients,
    private readonly provisioner: SnsSqsProvisioner,
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {}

  private get expiresMs(): number {
    return this.options.snsSqs.perProcessQueueExpires;
  }

  /** Deletes this service's orphaned per-process queues (never one named in `own`); returns their names. Never throws. */
  async sweep(own: ReadonlySet<string>): Promise<string[]> {
    if (this.expiresMs <= 0) return [];
    const removed: string[] = [];
    try {
      for (const url of await this.candidates()) {
        const name = url.slice(url.lastIndexOf('/') + 1);
        if (own.has(name)) continue;
        const { Tags = {} } = await this.clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: url }));
        if (Tags[PER_PROCESS_TAG] !== encodeName(this.options.serviceName)) continue;
        const aliveAt = Number(Tags[ALIVE_TAG]);
        if (!Number.isFinite(aliveAt) || Date.now() - aliveAt <= this.expiresMs) continue;
        await this.removeOrphan(url, name, aliveAt);
        removed.push(name);
      }
    } catch (error) {
      this.logger.warn?.(
        `Could not sweep orphaned per-process queues of ${this.options.serviceName}: ${describeError(error)}; they stay until a later startup`,
      );
    }
    return removed;
  }

  /** Renews the ALIVE_TAG of this process's per-process queues until stop(). */
  keepAlive(queueUrls: readonly string[]): void {
    if (this.expiresMs <= 0 || queueUrls.length === 0 || this.timer) return;
    this.timer = setInterval(
      () => {
        for (const url of queueUrls) {
          const done = this.clients.sqs
            .send(new TagQueueCommand({ QueueUrl: url, Tags: this.provisioner.perProcessTags() }), { abortSignal: this.abort.signal })
            .then(
              () => undefined,
              (error: unknown) => {
                if (!this.abort.signal.aborted) this.logger.warn?.(`Could not renew per-process queue ${url}: ${describeError(error)}`);
              },
            );
          this.renewing.add(done);
          void done.finally(() => this.renewing.delete(done));
        }
      },
      Math.max(250, Math.floor(this.expiresMs / 4)),
    );
    this.timer.unref?.();
  }

  /** No renewal from now on; a renewal in flight is aborted. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.abort.abort();
    await Promise.allSettled([...this.renewing]);
  }

  private async candidates(): Promise<string[]> {
    const prefix = `${this.options.queueNamePrefix}${encodeName(this.options.serviceName)}--`.slice(0, NAME_PREFIX_MAX);
    const urls: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token }));
      urls.push(...(page.QueueUrls ?? []));
      token = page.NextToken;
    } while (token);
    return urls;
  }

  private async removeOrphan(url: string, name: string, aliveAt: number): Promise<void> {
    const { sns, sqs } = this.clients;
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'Policy', 'RedrivePolicy'] }),
    );
    const arn = Attributes.QueueArn ?? '';
    const subscriptionArns: string[] = [];
    for (const topicArn of sourceTopics(Attributes.Policy)) {
      let token: string | undefined;
      do {
        const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken: token }));
        for (const s of page.Subscriptions ?? [])
          if (s.Endpoint === arn && s.SubscriptionArn && s.SubscriptionArn !== 'PendingConfirmation')
            subscriptionArns.push(s.SubscriptionArn);
        token = page.NextToken;
      } while (token);
    }
    const deadLetter = await this.deadLetterOf(Attributes.RedrivePolicy);
    await this.provisioner.remove({ name, url, arn, subscriptionArns, deadLetter });
    this.logger.log?.(
      `Removed orphaned per-process queue ${name} and ${subscriptionArns.length} subscription(s): its process last renewed it ${Math.round((Date.now() - aliveAt) / 1000)} s ago (snsSqs.perProcessQueueExpires ${this.expiresMs} ms)`,
    );
  }

  private async deadLetterOf(redrivePolicy: string | undefined): Promise<{ url: string; arn: string } | undefined> {
    if (!redrivePolicy) return undefined;
    const arn = (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    if (!arn) return undefined;
    const { QueueUrl } = await this.clients.sqs
      .send(new GetQueueUrlCommand({ QueueName: arn.slice(arn.lastIndexOf(':') + 1) }))
      .catch(() => ({ QueueUrl: undefined }));
    return QueueUrl ? { url: QueueUrl, arn } : undefined;
  }
}

/** The topic ARNs a queue policy lets send to the queue (`aws:SourceArn`, as policy.ts writes it). */
function sourceTopics(policy: string | undefined): string[] {
  if (!policy) return [];
  try {
    const statements = [(JSON.parse(policy) as { Statement?: unknown }).Statement].flat() as Array<{
      Condition?: Record<string, Record<string, unknown>>;
    }>;
    return statements
      .flatMap((s) => Object.values(s?.Condition ?? {}).flatMap((c) => [c?.['aws:SourceArn'] ?? []].flat()))
      .filter((a): a is string => typeof a === 'string' && a.includes(':sns:'));
  } catch {
    return [];
  }
}
