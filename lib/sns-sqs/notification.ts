import { fromNotificationAttributes } from './attributes.js';
import { decodeAttribute, type InvalidAttribute } from './attribute-decoding.js';

interface SnsNotification {
  topicArn: string;
  message: string;
  messageId: string;
  attributes: Record<string, unknown>;
}

type ParsedNotification = { ok: true; notification: SnsNotification } | { ok: false; reason: string };

/** Parses an SQS body as the SNS notification that carries the envelope; never throws. */
export function parseNotification(body: string | undefined, onInvalid?: InvalidAttribute): ParsedNotification {
  if (body === undefined || body === '') return { ok: false, reason: 'SQS message has an empty body, not an SNS notification' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'SQS body is not JSON, so not an SNS notification (raw message delivery must stay off)' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: 'SQS body is JSON but not an SNS notification object' };
  }
  const n = parsed as Record<string, unknown>;
  if (n.Type !== undefined && n.Type !== 'Notification')
    return { ok: false, reason: `SNS message of type "${String(n.Type)}" is not a Notification` };
  if (typeof n.TopicArn !== 'string' || typeof n.Message !== 'string') {
    return { ok: false, reason: 'SQS body is not an SNS notification (TopicArn and Message missing)' };
  }
  let attributes: Record<string, unknown>;
  try {
    attributes = fromNotificationAttributes(
      n.MessageAttributes as Record<string, { Type?: string; Value?: string }> | undefined,
      onInvalid,
    );
  } catch (error) {
    return { ok: false, reason: `SNS notification has unreadable MessageAttributes: ${String(error)}` };
  }
  return {
    ok: true,
    notification: { topicArn: n.TopicArn, message: n.Message, messageId: typeof n.MessageId === 'string' ? n.MessageId : '', attributes },
  };
}

/** A body on a queue-only queue, whichever producer wrote it. */
interface QueueOnlyBody {
  /** The SNS TopicArn, when an SNS subscription (made by the queue's owner) delivered it. */
  topicArn?: string;
  /** The envelope-encoded message. */
  message: string;
  messageId: string;
  attributes: Record<string, unknown>;
}

type ParsedQueueOnlyBody = { ok: true; body: QueueOnlyBody } | { ok: false; reason: string };

type SqsAttribute = { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array };

/**
 * Reads an SQS message on a queue-only queue: an SNS notification; tomodachi's `sqs_send_message` body
 * (`Type: "Message"`, the envelope in `Message`, what `sendToQueue` writes); or anything else as the bare envelope
 * (what a plain SQS SendMessage producer writes). SQS message attributes are merged over the body's. Never throws.
 */
export function parseQueueOnlyBody(
  body: string | undefined,
  messageId: string,
  sqsAttributes: Record<string, SqsAttribute> | undefined,
  onInvalid?: InvalidAttribute,
): ParsedQueueOnlyBody {
  if (body === undefined || body === '') return { ok: false, reason: 'SQS message has an empty body' };
  const direct = fromSqsAttributes(sqsAttributes, onInvalid);
  const notification = parseNotification(body, onInvalid);
  if (notification.ok) {
    const n = notification.notification;
    return {
      ok: true,
      body: { topicArn: n.topicArn, message: n.message, messageId: n.messageId || messageId, attributes: { ...n.attributes, ...direct } },
    };
  }
  const wrapped = tomodachiQueueBody(body);
  if (wrapped) {
    let attributes: Record<string, unknown>;
    try {
      attributes = fromNotificationAttributes(wrapped.MessageAttributes, onInvalid);
    } catch (error) {
      return { ok: false, reason: `queue message has unreadable MessageAttributes: ${String(error)}` };
    }
    return { ok: true, body: { message: wrapped.Message, messageId, attributes: { ...attributes, ...direct } } };
  }
  return { ok: true, body: { message: body, messageId, attributes: direct } };
}

function tomodachiQueueBody(
  body: string,
): { Message: string; MessageAttributes?: Record<string, { Type?: string; Value?: string }> } | undefined {
  if (body.charCodeAt(0) !== 123 /* { */) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const b = parsed as Record<string, unknown>;
  if (b === null || typeof b !== 'object' || b.Type !== 'Message' || typeof b.Message !== 'string') return undefined;
  const attributes = b.MessageAttributes;
  return {
    Message: b.Message,
    MessageAttributes:
      attributes && typeof attributes === 'object' ? (attributes as Record<string, { Type?: string; Value?: string }>) : undefined,
  };
}

/** SQS-level message attributes (`{ DataType, StringValue, BinaryValue }`) as values, typed as notification attributes are. */
export function fromSqsAttributes(
  attributes: Record<string, SqsAttribute> | undefined,
  onInvalid?: InvalidAttribute,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, a] of Object.entries(attributes ?? {})) {
    const value = decodeAttribute(key, a.DataType, a.StringValue ?? '', onInvalid, a.BinaryValue);
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
