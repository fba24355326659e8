import { createHash, randomUUID } from 'node:crypto';
import {
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from '../error-text.js';
import { MessageTooLargeError, PublishError, PublishOutcomeUnknownError } from '../errors.js';
import type { QueueMessage } from '../transport/broker.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { isNotFound, isTimeoutOrNetwork } from './aws-errors.js';
import { NextTickBatcher } from './batching.js';
import type { AwsClients } from './clients.js';
import { queueBody } from './queue-body.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

/** SQS limit for one message (body + attributes) and for one SendMessageBatch request. */
export const SQS_MAX_BYTES = 262_144;
/** Extra attempts for batch entries that failed without being the sender's fault. */
const ENTRY_RETRIES = 2;

interface Pending {
  entry: Omit<SendMessageBatchRequestEntry, 'Id'>;
  size: number;
  attempts: number;
  queue: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * `sendToQueue` on SQS: the queue by name (GetQueueUrl, cached), URL or ARN; the body in tomodachi's
 * `sqs_send_message` form (queue-body.ts) with the attributes also as SQS MessageAttributes; concurrent sends to one
 * queue coalesced into SendMessageBatch calls (next tick, 10 entries or 256 KB).
 */
export class SqsQueueSender {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly batchers = new Map<string, NextTickBatcher<Pending>>();
  private readonly closing = new AbortController();

  constructor(
    private readonly clients: AwsClients,
    private readonly logger: LoggerService,
    private readonly queueNamePrefix = '',
    private readonly largePayloads?: LargePayloads,
    /** snsSqs.contentBasedDeduplication: a FIFO send without deduplicationId is deduplicated by its envelope. */
    private readonly contentBasedDeduplication = false,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    const ref = parseQueueRef(message.queue, this.queueNamePrefix);
    const fifo = ref.name.endsWith('.fifo');
    if (fifo && message.groupId === undefined)
      throw new PublishError(`Cannot send to queue "${ref.name}": it is a FIFO queue, so sendToQueue needs a groupId`);
    if (!fifo && message.groupId !== undefined)
      throw new PublishError(`Cannot send to queue "${ref.name}": groupId is only for FIFO queues (names ending in .fifo); drop it`);
    if (fifo && message.delaySeconds)
      throw new PublishError(
        `Cannot send to queue "${ref.name}": SQS FIFO queues take no per-message delaySeconds; set the queue's DelaySeconds instead`,
      );
    const attributes: Record<string, MessageAttributeValue> = toSnsAttributes(message.attributes ?? {}, `queue ${ref.name}`);
    let url: string;
    try {
      url = await this.queueUrl(message.queue);
    } catch (error) {
      throw new PublishError(`Cannot send to queue "${message.queue}": ${describeError(error)}`, { cause: error });
    }
    const envelope = typeof message.body === 'string' ? message.body : message.body.toString('utf8');
    let body = queueBody(url, envelope, attributes);
    let size = Buffer.byteLength(body, 'utf8') + attributesSize(attributes);
    if (this.largePayloads && size > this.largePayloads.thresholdBytes)
      ({ body, size } = await this.largePayloads.offload(body, attributes, `queue "${ref.name}"`));
    if (size > SQS_MAX_BYTES) throw new MessageTooLargeError(`queue ${ref.name}`, size, SQS_MAX_BYTES);
    const entry: Omit<SendMessageBatchRequestEntry, 'Id'> = { MessageBody: body };
    if (Object.keys(attributes).length > 0) entry.MessageAttributes = attributes;
    if (message.delaySeconds !== undefined) entry.DelaySeconds = message.delaySeconds;
    if (fifo) {
      entry.MessageGroupId = message.groupId;
      // the queue body carries a timestamp, so SQS's own content hash would never match: hash the envelope instead
      entry.MessageDeduplicationId =
        message.deduplicationId ?? (this.contentBasedDeduplication ? createHash('sha256').update(envelope).digest('hex') : randomUUID());
    }
    return new Promise<void>((resolve, reject) => this.enqueue(url, { entry, size, attempts: 0, queue: ref.name, resolve, reject }));
  }

  /** The queue URL for a name, URL or ARN; a name or ARN is looked up once (GetQueueUrl) and cached. */
  queueUrl(queue: string): Promise<string> {
    const ref = parseQueueRef(queue, this.queueNamePrefix);
    if (ref.kind === 'url') return Promise.resolve(ref.url);
    const key = ref.kind === 'arn' ? ref.arn : ref.name;
    let url = this.urls.get(key);
    if (!url) {
      url = this.lookUp(ref.name, ref.kind === 'arn' ? ref.account : undefined);
      this.urls.set(key, url);
      url.catch(() => this.urls.delete(key));
    }
    return url;
  }

  private async lookUp(name: string, account: string | undefined): Promise<string> {
    try {
      const { QueueUrl } = await this.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
        { abortSignal: this.closing.signal },
      );
      if (!QueueUrl) throw new PublishError(`GetQueueUrl ${name} returned no QueueUrl`);
      return QueueUrl;
    } catch (error) {
      if (isNotFound(error))
        throw new PublishError(
          `queue "${name}" does not exist${account ? ` in account ${account}` : ''}; create it first, or check the name and queueNamePrefix`,
          { cause: error },
        );
      throw error;
    }
  }

  abort(): void {
    this.closing.abort();
  }

  async flush(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((batcher) => batcher.flush()));
  }

  private enqueue(url: string, item: Pending): void {
    let batcher = this.batchers.get(url);
    if (!batcher) {
      batcher = new NextTickBatcher<Pending>(
        (batch) => this.sendBatch(url, batch),
        (batch, next) => batch.reduce((sum, p) => sum + p.size, 0) + next.size <= SQS_MAX_BYTES,
      );
      this.batchers.set(url, batcher);
    }
    batcher.add(item);
  }

  private async sendBatch(url: string, batch: Pending[]): Promise<void> {
    let result;
    try {
      result = await this.clients.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: url, Entries: batch.map((p, i) => ({ ...p.entry, Id: String(i) })) }),
        { abortSignal: this.closing.signal },
      );
    } catch (error) {
      for (const p of batch)
        p.reject(
          isTimeoutOrNetwork(error)
            ? new PublishOutcomeUnknownError(
                `SQS did not answer the send to queue "${p.queue}" (${describeError(error)}): the message may or may not have been sent; retrying may deliver it twice`,
                { cause: error },
              )
            : new PublishError(`SQS did not accept the message for queue "${p.queue}": ${describeError(error)}`, { cause: error }),
        );
      return;
    }
    const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
    for (const [i, p] of batch.entries()) {
      const failure = failed.get(String(i));
      if (!failure) p.resolve();
      else if (!failure.SenderFault && p.attempts < ENTRY_RETRIES) {
        p.attempts += 1;
        this.logger.warn?.(`SQS refused a message for queue "${p.queue}" (${failure.Code}: ${failure.Message}); retrying`);
        this.enqueue(url, p);
      } else
        p.reject(
          new PublishError(
            `SQS refused the message for queue "${p.queue}": ${failure.Code ?? 'error'}${failure.Message ? `: ${failure.Message}` : ''}`,
          ),
        );
    }
  }
}
