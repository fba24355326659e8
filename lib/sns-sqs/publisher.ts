import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, type MessageAttributeValue, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { LoggerService } from '@nestjs/common';
import { MessageTooLargeError, PublishError } from '../errors.js';
import type { OutboundMessage } from '../transport/broker.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { describeError } from '../error-text.js';
import type { AwsClients } from './clients.js';
import { EntryBatches, RETRY_ROUNDS_MS } from './entry-batches.js';
import { bodyRule, checkFifoIds, entryRefused } from './entry-rules.js';
import { TOPIC_NAME_MAX, topicName } from './naming.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

/** SNS limit for one message (body + attributes) and for one PublishBatch request. */
const SNS_MAX_BYTES = 262_144;
const NO_ATTRIBUTES: Record<string, MessageAttributeValue> = Object.freeze({}) as Record<string, MessageAttributeValue>;

function hasAttributes(attributes: OutboundMessage['attributes']): attributes is NonNullable<OutboundMessage['attributes']> {
  for (const _ in attributes) return true;
  return false;
}

/**
 * Publishes to SNS, coalescing concurrent emits per topic into PublishBatch calls: a batch goes out on the next
 * tick or as soon as it is full (10 entries or 256 KB), so a lone emit is not held back. A message AWS would refuse
 * (entry-rules.ts) fails before it joins a batch; in a batch, each emit gets its own entry's outcome (EntryBatches).
 */
export class SnsPublisher {
  private readonly batches: EntryBatches<PublishBatchRequestEntry>;
  /** Topic ARNs found so far, per topic: standard and FIFO topics of one pattern are different topics. */
  private readonly arns = new Map<string, string>();
  private readonly fifoArns = new Map<string, string>();

  constructor(
    private readonly clients: AwsClients,
    private readonly topicArn: (pattern: string, fifo: boolean) => Promise<string>,
    logger: LoggerService,
    private readonly topicPrefix = '',
    private readonly largePayloads?: LargePayloads,
    /** snsSqs.contentBasedDeduplication: a FIFO emit without deduplicationId leaves the id to SNS. */
    private readonly contentBasedDeduplication = false,
    /** The waits before the rounds after the SDK gave up on a transient failure (tests shorten them). */
    retryRounds: readonly number[] = RETRY_ROUNDS_MS,
  ) {
    this.batches = new EntryBatches<PublishBatchRequestEntry>(
      'SNS',
      'topic',
      (arn, entries, abortSignal) =>
        this.clients.sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }), { abortSignal }),
      SNS_MAX_BYTES,
      logger,
      retryRounds,
    );
  }

  /** Synchronous up to the batch when the topic's ARN is known and the body is not offloaded: no async frame per emit. */
  publish(message: OutboundMessage): Promise<void> {
    try {
      const body = typeof message.body === 'string' ? message.body : message.body.toString('utf8');
      const refused = bodyRule(body);
      if (refused !== undefined) throw entryRefused('topic', message.topic, refused);
      if (message.groupId !== undefined || message.deduplicationId !== undefined)
        checkFifoIds('topic', message.topic, message.groupId, message.deduplicationId);
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
    return new Promise<void>((resolve, reject) =>
      this.batches.add(arn, { entry, size, rounds: 0, target: message.topic, resolve, reject }),
    );
  }

  /** Ends the PublishBatch calls still in flight (their emits reject: the outcome is unknown) and the retry waits. */
  abort(): void {
    this.batches.abort();
  }

  /** Waits for every batch already handed to SNS, and for the retry rounds still to come. */
  flush(): Promise<void> {
    return this.batches.flush();
  }
}
