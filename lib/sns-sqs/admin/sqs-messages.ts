import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { deliveryTopicOfArn } from '../naming.js';
import { parseNotification } from '../notification.js';
import type { RawPeeked } from '../../transport/admin-backend.js';
import { AdminBrokerRefusedError } from '../../transport/admin.errors.js';

/** Seconds a message stays hidden while a peek or redrive holds it; a process that dies midway gives it back then. */
const HOLD_SECONDS = 30;

/**
 * Receives up to `max` messages and makes them visible again at once (visibility 0). Each receive counts as a
 * delivery (ApproximateReceiveCount grows), so peeking a queue with a RedrivePolicy often moves messages closer to its DLQ.
 */
export async function peekQueue(sqs: SQSClient, url: string, max: number, topicPrefix: string): Promise<RawPeeked[]> {
  const held: Message[] = [];
  try {
    while (held.length < max) {
      const batch = await receive(sqs, url, Math.min(10, max - held.length));
      if (batch.length === 0) break;
      held.push(...batch);
    }
  } finally {
    await changeVisibility(sqs, url, held, 0);
  }
  return held.map((m) => describe(m, topicPrefix));
}

/**
 * Moves messages from a dead-letter queue to `targetUrl`, at most `max`: each batch is sent first and deleted from
 * the dead-letter queue only once SQS accepted it, so a process that dies midway leaves a copy, never a loss. Stops
 * between two batches when `signal` is aborted.
 */
export async function redriveQueue(sqs: SQSClient, fromUrl: string, targetUrl: string, max: number, signal?: AbortSignal): Promise<number> {
  let moved = 0;
  while (moved < max && !signal?.aborted) {
    const batch = await receive(sqs, fromUrl, Math.min(10, max - moved));
    if (batch.length === 0) break;
    const { Successful = [], Failed = [] } = await sqs
      .send(new SendMessageBatchCommand({ QueueUrl: targetUrl, Entries: batch.map((m, i) => sendEntry(m, String(i))) }))
      .catch(async (error: unknown) => {
        await changeVisibility(sqs, fromUrl, batch, 0); // none was sent: visible again at once, not after the hold
        throw error;
      });
    const sent = Successful.map((s) => batch[Number(s.Id)]);
    if (sent.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: fromUrl,
          Entries: sent.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
      moved += sent.length;
    }
    if (Failed.length > 0) {
      await changeVisibility(
        sqs,
        fromUrl,
        Failed.map((f) => batch[Number(f.Id)]),
        0,
      );
      throw new AdminBrokerRefusedError(
        'redrive',
        `stopped after ${moved} message(s): SQS refused ${Failed.length} (${Failed[0].Code}: ${Failed[0].Message ?? ''}); they stay in the dead-letter queue`,
      );
    }
  }
  return moved;
}

function receive(sqs: SQSClient, url: string, count: number): Promise<Message[]> {
  return sqs
    .send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: count,
        VisibilityTimeout: HOLD_SECONDS,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    )
    .then((r) => r.Messages ?? []);
}

async function changeVisibility(sqs: SQSClient, url: string, messages: Message[], seconds: number): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds })),
      }),
    );
  }
}

function sendEntry(m: Message, id: string) {
  const group = m.Attributes?.MessageGroupId;
  return {
    Id: id,
    MessageBody: m.Body ?? '',
    ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0 ? { MessageAttributes: m.MessageAttributes } : {}),
    ...(group ? { MessageGroupId: group, MessageDeduplicationId: m.Attributes?.MessageDeduplicationId ?? randomUUID() } : {}),
  };
}

/** The SQS message attribute the consumer stores a dead-lettered message's reason in. */
const DEAD_LETTER_REASON = 'dead_letter_reason';

function describe(m: Message, topicPrefix: string): RawPeeked {
  const body = m.Body ?? '';
  const receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? 1);
  const queueAttributes = Object.fromEntries(
    Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [k, v.StringValue ?? v.BinaryValue]),
  );
  const reason = queueAttributes[DEAD_LETTER_REASON];
  const common = { receiveCount, ...(typeof reason === 'string' ? { deadLetterReason: reason } : {}) };
  const parsed = parseNotification(body);
  if (!parsed.ok) return { messageId: m.MessageId ?? '', body, attributes: queueAttributes, envelopeBody: body, ...common };
  const { notification } = parsed;
  return {
    messageId: notification.messageId || m.MessageId || '',
    topic: deliveryTopicOfArn(notification.topicArn, topicPrefix),
    body,
    // what the publisher set on SNS, then what SQS carries beside the notification (the dead-letter reason)
    attributes: { ...notification.attributes, ...queueAttributes },
    envelopeBody: notification.message,
    ...common,
  };
}
