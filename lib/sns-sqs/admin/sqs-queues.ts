import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isNotFound } from '../aws-errors.js';
import { AdminResourceNotFoundError } from '../../transport/admin.errors.js';

export interface FoundQueue {
  name: string;
  url: string;
  arn: string;
  attributes: Record<string, string>;
}

/** SQS look-ups shared by the admin operations: by name, all pages, the queues feeding a dead-letter queue. */
export class SqsQueues {
  constructor(private readonly sqs: SQSClient) {}

  /** The QueueUrl the API returns; AdminResourceNotFoundError when there is no such queue. */
  async url(name: string): Promise<string> {
    try {
      const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
      if (QueueUrl) return QueueUrl;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    throw new AdminResourceNotFoundError('queue', name);
  }

  async find(name: string): Promise<FoundQueue> {
    const url = await this.url(name);
    const attributes = await this.attributes(url);
    return { name, url, arn: attributes.QueueArn ?? '', attributes };
  }

  async attributes(url: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    return Attributes;
  }

  /** Every queue URL (all pages), optionally with a name prefix. */
  async list(prefix?: string): Promise<string[]> {
    const urls: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sqs.send(
        new ListQueuesCommand({ ...(prefix ? { QueueNamePrefix: prefix } : {}), MaxResults: 1000, ...(NextToken ? { NextToken } : {}) }),
      );
      urls.push(...(page.QueueUrls ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return urls;
  }

  async setAttributes(url: string, attributes: Record<string, string>): Promise<void> {
    await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: attributes }));
  }

  /** The queues whose RedrivePolicy names `deadLetterArn` (one attributes call per queue). */
  async sourcesOf(deadLetterArn: string): Promise<FoundQueue[]> {
    const found: FoundQueue[] = [];
    for (const url of await this.list()) {
      const attributes = await this.attributes(url).catch((error: unknown) => {
        if (isNotFound(error)) return undefined; // deleted meanwhile
        throw error;
      });
      if (attributes && redriveTarget(attributes) === deadLetterArn) {
        found.push({ name: queueNameOf(url), url, arn: attributes.QueueArn ?? '', attributes });
      }
    }
    return found;
  }
}

/** The dead-letter queue ARN of a queue's RedrivePolicy, if it has one. */
export function redriveTarget(attributes: Record<string, string>): string | undefined {
  return redrivePolicy(attributes)?.deadLetterTargetArn;
}

/** A queue's RedrivePolicy: where SQS moves a message, after how many receives; undefined without one. */
export function redrivePolicy(attributes: Record<string, string>): { deadLetterTargetArn: string; maxReceiveCount: number } | undefined {
  if (!attributes.RedrivePolicy) return undefined;
  try {
    const policy = JSON.parse(attributes.RedrivePolicy) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof policy.deadLetterTargetArn !== 'string') return undefined;
    return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount: Number(policy.maxReceiveCount) };
  } catch {
    return undefined;
  }
}

/** The last path segment of a QueueUrl (or of an ARN after its last colon). */
export function queueNameOf(urlOrArn: string): string {
  return urlOrArn.slice(Math.max(urlOrArn.lastIndexOf('/'), urlOrArn.lastIndexOf(':')) + 1);
}
