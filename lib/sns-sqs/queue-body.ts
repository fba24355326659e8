import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * The SQS body tomodachi's `sqs_send_message` writes (its MessageBodyFormatter): the envelope is not sent bare but
 * wrapped in an SNS-notification-like object of `Type: "Message"`, so that one consumer reads both forms.
 */
interface QueueBody {
  Type: 'Message';
  QueueUrl: string;
  Version: '0';
  /** The envelope-encoded message. */
  Message: string;
  /** ISO 8601 UTC with milliseconds, `Z` suffix. */
  Timestamp: string;
  /** The attributes as an SNS notification carries them: `{ Type, Value }`, Binary as base64. */
  MessageAttributes: Record<string, { Type: string; Value: string }>;
}

export function queueBody(queueUrl: string, envelope: string, attributes: Record<string, MessageAttributeValue>): string {
  const body: QueueBody = {
    Type: 'Message',
    QueueUrl: queueUrl,
    Version: '0',
    Message: envelope,
    Timestamp: new Date().toISOString(),
    MessageAttributes: bodyAttributes(attributes),
  };
  return JSON.stringify(body);
}

function bodyAttributes(attributes: Record<string, MessageAttributeValue>): QueueBody['MessageAttributes'] {
  const out: QueueBody['MessageAttributes'] = {};
  for (const [key, value] of Object.entries(attributes)) {
    const type = value.DataType ?? 'String';
    out[key] = { Type: type, Value: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : (value.StringValue ?? '') };
  }
  return out;
}
