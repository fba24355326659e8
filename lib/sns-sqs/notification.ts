import { fromNotificationAttributes } from './attributes.js';

export interface SnsNotification {
  topicArn: string;
  message: string;
  messageId: string;
  attributes: Record<string, unknown>;
}

export type ParsedNotification = { ok: true; notification: SnsNotification } | { ok: false; reason: string };

/** Parses an SQS body as the SNS notification that carries the envelope; never throws. */
export function parseNotification(body: string | undefined): ParsedNotification {
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
    attributes = fromNotificationAttributes(n.MessageAttributes as Record<string, { Type?: string; Value?: string }> | undefined);
  } catch (error) {
    return { ok: false, reason: `SNS notification has unreadable MessageAttributes: ${String(error)}` };
  }
  return {
    ok: true,
    notification: { topicArn: n.TopicArn, message: n.Message, messageId: typeof n.MessageId === 'string' ? n.MessageId : '', attributes },
  };
}
