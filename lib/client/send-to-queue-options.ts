import type { EnvelopeSetting, ProtoClass } from '../envelopes/message-envelope.js';
import { PublishError } from '../errors.js';
import type { AttributeValue } from '../transport/broker.js';

/** What `MessagingClient.sendToQueue(queue, data, options)` takes beside the data. */
export interface SendToQueueOptions {
  /** Seconds (0-900) before the message becomes visible. SQS standard queues only; on AMQP through `<queue>-retry`. */
  delaySeconds?: number;
  /** FIFO message group: required for a `.fifo` queue, refused for any other. */
  groupId?: string;
  /** FIFO deduplication id; a fresh uuid when absent. */
  deduplicationId?: string;
  /** SQS MessageAttributes / AMQP headers, typed as for emit (string, number, Buffer, JSON for the rest). */
  attributes?: Record<string, AttributeValue>;
  /**
   * The envelope's metadata topic (default `''`, as tomodachi's `sqs_send_message` writes it). A queue-only consumer
   * with several handlers routes by it.
   */
  topic?: string;
  /** Envelope for this message instead of the module's. */
  envelope?: EnvelopeSetting;
  /** Message class for ProtobufEnvelope when the data is a plain object. */
  protoClass?: ProtoClass;
}

/** Longest SQS per-message delay. */
const MAX_DELAY_SECONDS = 900;

/** Throws PublishError for a queue or an option no broker would take. */
export function checkSendToQueue(queue: unknown, options: SendToQueueOptions): void {
  if (typeof queue !== 'string' || queue.length === 0)
    throw new PublishError(`sendToQueue() needs a queue name, URL or ARN as a non-empty string, got ${JSON.stringify(queue)}`);
  const { delaySeconds, groupId, deduplicationId, topic } = options;
  if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS))
    throw new PublishError(`sendToQueue('${queue}'): delaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS}, got ${delaySeconds}`);
  if (groupId !== undefined && (typeof groupId !== 'string' || groupId.length === 0))
    throw new PublishError(`sendToQueue('${queue}'): groupId must be a non-empty string`);
  if (deduplicationId !== undefined && (typeof deduplicationId !== 'string' || deduplicationId.length === 0))
    throw new PublishError(`sendToQueue('${queue}'): deduplicationId must be a non-empty string`);
  if (topic !== undefined && typeof topic !== 'string') throw new PublishError(`sendToQueue('${queue}'): topic must be a string`);
}
