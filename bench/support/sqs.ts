/** SNS/SQS helpers for the subjects: clients on the emulator, a topic -> queue setup, and an API-call counter. */
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  ListTopicsCommand,
  PublishBatchCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { handEnvelope, payload, pump } from './common.js';

export const REGION = 'us-east-1';
export const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

export function endpoint(): string {
  const e = process.env.BENCH_AWS_ENDPOINT;
  if (!e) throw new Error('BENCH_AWS_ENDPOINT is not set (the runner starts fauxqs and sets it)');
  return e;
}

export function awsClients(): { sns: SNSClient; sqs: SQSClient } {
  const config = { region: REGION, endpoint: endpoint(), credentials: CREDENTIALS };
  return { sns: new SNSClient(config), sqs: new SQSClient(config) };
}

/**
 * Counts completed calls per operation (and DeleteMessage* entries) on any AWS SDK v3 client; `resent` counts, per
 * operation, the calls that sent a command already sent (the library's own retry rounds after the SDK gave up).
 */
export class CallCounter {
  calls: Record<string, number> = {};
  resent: Record<string, number> = {};
  deleted = 0;
  published = 0;
  private sentInputs = new WeakSet<object>();

  attach(client: { middlewareStack: { add: (mw: unknown, options: unknown) => void } }): this {
    client.middlewareStack.add(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) =>
        async (args: { input?: Record<string, unknown> }) => {
          const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
          if (args.input && this.sentInputs.has(args.input)) this.resent[op] = (this.resent[op] ?? 0) + 1;
          else if (args.input) this.sentInputs.add(args.input);
          try {
            const result = (await next(args)) as { output?: { Successful?: unknown[] } };
            if (op === 'DeleteMessage') this.deleted += 1;
            if (op === 'DeleteMessageBatch') this.deleted += result.output?.Successful?.length ?? 0;
            if (op === 'Publish') this.published += 1;
            if (op === 'PublishBatch') this.published += result.output?.Successful?.length ?? 0;
            return result;
          } finally {
            this.calls[op] = (this.calls[op] ?? 0) + 1;
          }
        },
      { step: 'initialize', name: `benchCallCounter${Math.random()}` },
    );
    return this;
  }

  reset(): void {
    this.calls = {};
    this.resent = {};
    this.sentInputs = new WeakSet();
    this.deleted = 0;
    this.published = 0;
  }

  total(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0);
  }

  snapshot(): { total: number; calls: Record<string, number>; resent: Record<string, number> } {
    return { total: this.total(), calls: { ...this.calls }, resent: { ...this.resent } };
  }
}

export interface TopicQueue {
  topicArn: string;
  queueUrl: string;
  queueArn: string;
}

/** A topic feeding a queue through an SNS subscription (envelope delivery, not raw), as the library sets it up. */
export async function createTopicQueue(sns: SNSClient, sqs: SQSClient, name: string): Promise<TopicQueue> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const queueArn = Attributes!.QueueArn!;
  await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: queuePolicy(queueArn, [TopicArn!]) } }));
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queueArn }));
  return { topicArn: TopicArn!, queueUrl: QueueUrl!, queueArn };
}

export function queuePolicy(queueArn: string, topicArns: string[]): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArns } },
      },
    ],
  });
}

/** Publishes `n` hand-built envelopes with PublishBatch (10 per call), `window` calls in flight. */
export async function publishBatches(sns: SNSClient, topicArn: string, n: number, window: number, data = payload): Promise<void> {
  const batches = Math.ceil(n / 10);
  await pump(batches, window, async (b) => {
    const entries = [];
    for (let i = b * 10; i < Math.min(n, b * 10 + 10); i++)
      entries.push({ Id: String(i - b * 10), Message: handEnvelope('bench-event', data(i)) });
    const result = await sns.send(new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: entries }));
    if (result.Failed?.length) throw new Error(`PublishBatch failed: ${JSON.stringify(result.Failed[0])}`);
  });
}

/** Deletes every queue and topic whose name starts with `prefix`. */
export async function deleteByPrefix(sns: SNSClient, sqs: SQSClient, prefix: string): Promise<void> {
  const urls: string[] = [];
  let token: string | undefined;
  do {
    const page = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000, NextToken: token }));
    urls.push(...(page.QueueUrls ?? []));
    token = page.NextToken;
  } while (token);
  for (const url of urls) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
  do {
    const page = await sns.send(new ListTopicsCommand({ NextToken: token }));
    for (const t of page.Topics ?? []) {
      if (t.TopicArn && t.TopicArn.split(':').pop()!.startsWith(prefix))
        await sns.send(new DeleteTopicCommand({ TopicArn: t.TopicArn })).catch(() => undefined);
    }
    token = page.NextToken;
  } while (token);
}
