import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, type MessageAttributeValue, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { LoggerService } from '@nestjs/common';
import { MessageTooLargeError, PublishError, PublishOutcomeUnknownError } from '../errors.js';
import type { OutboundMessage } from '../transport/broker.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { isTimeoutOrNetwork } from './aws-errors.js';
import { describeError } from '../error-text.js';
import type { AwsClients } from './clients.js';
import { NextTickBatcher } from './batching.js';
import { TOPIC_NAME_MAX, topicName } from './naming.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

/** SNS limit for one message (body + attributes) and for one PublishBatch request. */
export const SNS_MAX_BYTES = 262_144;
/** Extra attempts for batch entries that failed without being the sender's fault. */
const ENTRY_RETRIES = 2;

interface Pending {
  entry: Omit<PublishBatchRequestEntry, 'Id'>;
  size: number;
  attempts: number;
  topic: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Publishes to SNS, coalescing concurrent emits per topic into PublishBatch calls: a batch goes out on the next
 * tick or as soon as it is full (10 entries or 256 KB), so a lone emit is not held back.
 */
export class SnsPublisher {
  private readonly batchers = new Map<string, NextTickBatcher<Pending>>();
  /** Aborted when the broker closes: a PublishBatch still waiting then ends with PublishOutcomeUnknownError. */
  private readonly closing = new AbortController();

  constructor(
    private readonly clients: AwsClients,
    private readonly topicArn: (pattern: string, fifo: boolean) => Promise<string>,
    private readonly logger: LoggerService,
    private readonly topicPrefix = '',
    private readonly largePayloads?: LargePayloads,
    /** snsSqs.contentBasedDeduplication: a FIFO emit without deduplicationId leaves the id to SNS. */
    private readonly contentBasedDeduplication = false,
  ) {}

  async publish(message: OutboundMessage): Promise<void> {
    let body = typeof message.body === 'string' ? message.body : message.body.toString('utf8');
    const attributes: Record<string, MessageAttributeValue> = toSnsAttributes(message.attributes ?? {}, message.topic);
    let size = Buffer.byteLength(body, 'utf8') + attributesSize(attributes);
    if (this.largePayloads && size > this.largePayloads.thresholdBytes)
      ({ body, size } = await this.largePayloads.offload(body, attributes, `topic "${message.topic}"`));
    if (size > SNS_MAX_BYTES) throw new MessageTooLargeError(message.topic, size, SNS_MAX_BYTES);
    const fifo = message.groupId !== undefined;
    const name = topicName(this.topicPrefix, message.topic, fifo);
    if (name.length > TOPIC_NAME_MAX) {
      throw new PublishError(
        `Cannot publish to topic "${message.topic}": its SNS topic name (topicPrefix + topic, encoded) has ${name.length} characters, over the ${TOPIC_NAME_MAX}-character limit; use a shorter topic`,
      );
    }
    let arn: string;
    try {
      arn = await this.topicArn(message.topic, fifo);
    } catch (error) {
      throw new PublishError(`Cannot publish to topic "${message.topic}": the SNS topic is not available (${describeError(error)})`, {
        cause: error,
      });
    }
    const entry: Omit<PublishBatchRequestEntry, 'Id'> = { Message: body };
    if (Object.keys(attributes).length > 0) entry.MessageAttributes = attributes;
    if (fifo) {
      entry.MessageGroupId = message.groupId;
      const deduplicationId = message.deduplicationId ?? (this.contentBasedDeduplication ? undefined : randomUUID());
      if (deduplicationId !== undefined) entry.MessageDeduplicationId = deduplicationId;
    }
    return new Promise<void>((resolve, reject) => this.enqueue(arn, { entry, size, attempts: 0, topic: message.topic, resolve, reject }));
  }

  /** Ends the PublishBatch calls still in flight (their emits reject: the outcome is unknown). */
  abort(): void {
    this.closing.abort();
  }

  /** Waits for every batch already handed to SNS. */
  async flush(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((batcher) => batcher.flush()));
  }

  /** One batcher per topic; a batch also closes before its bytes would pass the 256 KB request limit. */
  private enqueue(arn: string, item: Pending): void {
    let batcher = this.batchers.get(arn);
    if (!batcher) {
      batcher = new NextTickBatcher<Pending>(
        (batch) => this.sendBatch(arn, batch),
        (batch, next) => batch.reduce((sum, p) => sum + p.size, 0) + next.size <= SNS_MAX_BYTES,
      );
      this.batchers.set(arn, batcher);
    }
    batcher.add(item);
  }

  private async sendBatch(arn: string, batch: Pending[]): Promise<void> {
    let result;
    try {
      result = await this.clients.sns.send(
        new PublishBatchCommand({
          TopicArn: arn,
          PublishBatchRequestEntries: batch.map((p, i) => ({ ...p.entry, Id: String(i) })),
        }),
        { abortSignal: this.closing.signal },
      );
    } catch (error) {
      for (const p of batch) {
        p.reject(
          isTimeoutOrNetwork(error)
            ? new PublishOutcomeUnknownError(
                `SNS did not answer the publish for topic "${p.topic}" (${describeError(error)}): the message may or may not have been published; retrying the emit may deliver it twice`,
                { cause: error },
              )
            : new PublishError(`SNS did not accept the message for topic "${p.topic}": ${describeError(error)}`, { cause: error }),
        );
      }
      return;
    }
    const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
    for (const [i, p] of batch.entries()) {
      const failure = failed.get(String(i));
      if (!failure) {
        p.resolve();
      } else if (!failure.SenderFault && p.attempts < ENTRY_RETRIES) {
        p.attempts += 1;
        this.logger.warn?.(`SNS refused a message for topic "${p.topic}" (${failure.Code}: ${failure.Message}); retrying`);
        this.enqueue(arn, p);
      } else {
        p.reject(
          new PublishError(
            `SNS refused the message for topic "${p.topic}": ${failure.Code ?? 'error'}${failure.Message ? `: ${failure.Message}` : ''}`,
          ),
        );
      }
    }
  }
}
