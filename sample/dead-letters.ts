import { GetQueueUrlCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ChannelModel } from 'amqplib';

export interface DeadLetter {
  body: string;
  reason: string;
}

/** Reads (without removing for good) what sits in a dead-letter queue, so the sample can show it. */
export async function peekDeadLetters(transport: 'sns-sqs' | 'amqp', unwrapped: unknown, queueName: string): Promise<DeadLetter[]> {
  return transport === 'sns-sqs'
    ? peekSqs((unwrapped as { sqs: SQSClient }).sqs, queueName)
    : peekAmqp(unwrapped as ChannelModel, queueName);
}

async function peekSqs(sqs: SQSClient, queueName: string): Promise<DeadLetter[]> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    }),
  );
  return Messages.map((m) => ({
    body: m.Body ?? '',
    reason: m.MessageAttributes?.dead_letter_reason?.StringValue ?? '(no reason recorded)',
  }));
}

async function peekAmqp(connection: ChannelModel, queueName: string): Promise<DeadLetter[]> {
  const channel = await connection.createChannel();
  try {
    const found: DeadLetter[] = [];
    for (let message = await channel.get(queueName); message; message = await channel.get(queueName)) {
      found.push({
        body: message.content.toString('utf8'),
        reason: String(message.properties.headers?.['x-dead-letter-reason'] ?? '(no reason recorded)'),
      });
    }
    channel.nackAll(true);
    return found;
  } finally {
    await channel.close();
  }
}
