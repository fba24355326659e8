import type { INestApplication } from '@nestjs/common';
import { ReceiveMessageCommand, GetQueueUrlCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../../lib/index.js';

export function numbers(count: number, from = 0): number[] {
  return Array.from({ length: count }, (_, i) => from + i);
}

/**
 * Emits `{ n }` for each number through MessagingClient.emit (lastValueFrom), `concurrency` at a time. A number is
 * confirmed when its emit resolved, rejected when it failed (never both). `pauseMs` paces each worker.
 */
export async function publishNumbered(
  app: INestApplication,
  topic: string,
  ns: number[],
  { concurrency = 50, pauseMs = 0, payload = (n: number) => ({ n }) as unknown } = {},
) {
  const client = app.get(MessagingClient);
  const confirmed = new Set<number>();
  const rejected = new Map<number, string>();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ns.length) {
        const n = ns[next++];
        try {
          await lastValueFrom(client.emit(topic, payload(n)), { defaultValue: undefined });
          confirmed.add(n);
        } catch (error) {
          rejected.set(n, error instanceof Error ? error.message : String(error));
        }
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }),
  );
  return { confirmed, rejected };
}

export async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
}

/** Receives everything in a queue (until a receive comes back empty twice). */
export async function drainSqsQueue(sqs: SQSClient, name: string): Promise<Message[]> {
  const url = await queueUrl(sqs, name);
  const out: Message[] = [];
  let empty = 0;
  while (empty < 2) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) empty += 1;
    else empty = 0;
    out.push(...Messages);
  }
  return out;
}

/** The message number a body (envelope, SNS notification around it, or poison marker) carries. */
export function numberIn(body: string): number | undefined {
  const poison = /poison-(\d+)/.exec(body);
  if (poison) return Number(poison[1]);
  const n = /\\*"n\\*":(\d+)/.exec(body);
  return n ? Number(n[1]) : undefined;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
