import { randomUUID } from 'node:crypto';
import { PublishBatchCommand, type MessageAttributeValue, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { MessageTooLargeError, PublishError } from '../errors.js';
import type { OutboundMessage } from '../transport/broker.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { describeError } from '../error-text.js';
import { MAX_PAYLOAD_BYTES } from './batching.js';
import { EntryBatches, type BatchedSending } from './entry-batches.js';
import { bodyRule, checkFifoIds, entryRefused } from './entry-rules.js';
import { TOPIC_NAME_MAX, topicName } from './naming.js';

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
    private readonly sending: BatchedSending,
    private readonly topicArn: (pattern: string, fifo: boolean) => Promise<string>,
    private readonly topicPrefix = '',
  ) {
    this.batches = new EntryBatches<PublishBatchRequestEntry>('SNS', sending, (arn, entries, abortSignal) =>
      sending.clients.sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }), { abortSignal }),
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
      const largePayloads = this.sending.largePayloads;
      if (largePayloads && size > largePayloads.thresholdBytes) {
        const withPointer = attributes === NO_ATTRIBUTES ? {} : attributes; // offload adds the payload size attribute
        return largePayloads
          .offload(body, withPointer, `topic "${message.topic}"`)
          .then((offloaded) => this.toTopic(message, offloaded.body, withPointer, offloaded.size));
      }
      return this.toTopic(message, body, attributes, size);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private toTopic(message: OutboundMessage, body: string, attributes: Record<string, MessageAttributeValue>, size: number): Promise<void> {
    if (size > MAX_PAYLOAD_BYTES) throw new MessageTooLargeError(message.topic, size, MAX_PAYLOAD_BYTES);
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
      const deduplicationId = message.deduplicationId ?? (this.sending.contentBasedDeduplication ? undefined : randomUUID());
      if (deduplicationId !== undefined) entry.MessageDeduplicationId = deduplicationId;
    }
    return this.batches.enqueue(arn, entry, size, message.topic);
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
