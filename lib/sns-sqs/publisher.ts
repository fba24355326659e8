import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, type MessageAttributeValue, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { LoggerService } from '@nestjs/common';
import { MessageTooLargeError, PublishError, PublishOutcomeUnknownError } from '../errors.js';
import type { OutboundMessage } from '../transport/broker.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { isTimeoutOrNetwork } from './aws-errors.js';
import { describeError } from '../error-text.js';
import type { AwsClients } from './clients.js';
import { MAX_BATCH_ENTRIES, NextTickBatcher } from './batching.js';
import { TOPIC_NAME_MAX, topicName } from './naming.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

/** SNS limit for one message (body + attributes) and for one PublishBatch request. */
export const SNS_MAX_BYTES = 262_144;
/** Extra attempts for batch entries that failed without being the sender's fault. */
const ENTRY_RETRIES = 2;
const NO_ATTRIBUTES: Record<string, MessageAttributeValue> = Object.freeze({}) as Record<string, MessageAttributeValue>;
const BATCH_IDS = Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => String(i));

function hasAttributes(attributes: OutboundMessage['attributes']): attributes is NonNullable<OutboundMessage['attributes']> {
  for (const _ in attributes) return true;
  return false;
}

interface Pending {
  /** Its Id is set when a batch takes it: the entry's index in that batch. */
  entry: PublishBatchRequestEntry;
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
  /** Topic ARNs found so far, per topic: standard and FIFO topics of one pattern are different topics. */
  private readonly arns = new Map<string, string>();
  private readonly fifoArns = new Map<string, string>();
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

  /** Synchronous up to the batch when the topic's ARN is known and the body is not offloaded: no async frame per emit. */
  publish(message: OutboundMessage): Promise<void> {
    try {
      const body = typeof message.body === 'string' ? message.body : message.body.toString('utf8');
      const attributes = hasAttributes(message.attributes) ? toSnsAttributes(message.attributes, message.topic) : NO_ATTRIBUTES;
      const size = Buffer.byteLength(body, 'utf8') + (attributes === NO_ATTRIBUTES ? 0 : attributesSize(attributes));
      if (this.largePayloads && size > this.largePayloads.thresholdBytes) {
        const withPointer = attributes === NO_ATTRIBUTES ? {} : attributes; // offload adds the payload size attribute
        return this.largePayloads
          .offload(body, withPointer, `topic "${message.topic}"`)
          .then((offloaded) => this.toTopic(message, offloaded.body, withPointer, offloaded.size));
      }
      return this.toTopic(message, body, attributes, size);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private toTopic(message: OutboundMessage, body: string, attributes: Record<string, MessageAttributeValue>, size: number): Promise<void> {
    if (size > SNS_MAX_BYTES) throw new MessageTooLargeError(message.topic, size, SNS_MAX_BYTES);
    const fifo = message.groupId !== undefined;
    const arn = (fifo ? this.fifoArns : this.arns).get(message.topic);
    if (arn !== undefined) return this.enqueueEntry(arn, message, body, attributes, size);
    return this.lookUpArn(message.topic, fifo).then((found) => this.enqueueEntry(found, message, body, attributes, size));
  }

  /** The topic's ARN, remembered per topic once found (a failed lookup is tried again by the next emit). */
  private async lookUpArn(topic: string, fifo: boolean): Promise<string> {
    const name = topicName(this.topicPrefix, topic, fifo);
    if (name.length > TOPIC_NAME_MAX) {
      throw new PublishError(
        `Cannot publish to topic "${topic}": its SNS topic name (topicPrefix + topic, encoded) has ${name.length} characters, over the ${TOPIC_NAME_MAX}-character limit; use a shorter topic`,
      );
    }
    let arn: string;
    try {
      arn = await this.topicArn(topic, fifo);
    } catch (error) {
      throw new PublishError(`Cannot publish to topic "${topic}": the SNS topic is not available (${describeError(error)})`, {
        cause: error,
      });
    }
    (fifo ? this.fifoArns : this.arns).set(topic, arn);
    return arn;
  }

  private enqueueEntry(
    arn: string,
    message: OutboundMessage,
    body: string,
    attributes: Record<string, MessageAttributeValue>,
    size: number,
  ): Promise<void> {
    const entry: PublishBatchRequestEntry = { Id: '', Message: body };
    if (attributes !== NO_ATTRIBUTES) entry.MessageAttributes = attributes;
    if (message.groupId !== undefined) {
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
          PublishBatchRequestEntries: batch.map((p, i) => {
            p.entry.Id = BATCH_IDS[i];
            return p.entry;
          }),
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
      const failure = failed.get(BATCH_IDS[i]);
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
