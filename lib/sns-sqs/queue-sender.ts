import { createHash, randomUUID } from 'node:crypto';
import { GetQueueUrlCommand, SendMessageBatchCommand, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { describeError } from '../error-text.js';
import { MessageTooLargeError, PublishError } from '../errors.js';
import type { QueueMessage } from '../transport/broker.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import { attributesSize, toSnsAttributes } from './attributes.js';
import { isNotFound } from './aws-errors.js';
import { MAX_PAYLOAD_BYTES } from './batching.js';
import { EntryBatches, type BatchedSending } from './entry-batches.js';
import { attributeCountRule, bodyRule, checkFifoIds, entryRefused } from './entry-rules.js';
import { queueBody } from './queue-body.js';
import { PAYLOAD_SIZE_ATTRIBUTE } from './large-payload/s3-pointer.js';

/**
 * `sendToQueue` on SQS: the queue by name (GetQueueUrl, cached), URL or ARN; the body in tomodachi's
 * `sqs_send_message` form (queue-body.ts) with the attributes also as SQS MessageAttributes; concurrent sends to one
 * queue coalesced into SendMessageBatch calls (next tick, 10 entries or 256 KB). A message AWS would refuse
 * (entry-rules.ts) fails before it joins a batch; in a batch, each send gets its own entry's outcome (EntryBatches).
 */
export class SqsQueueSender {
  private readonly urls = new Map<string, Promise<string>>();
  private readonly batches: EntryBatches<SendMessageBatchRequestEntry>;
  /** Aborted by abort(): ends the GetQueueUrl lookups still in flight. */
  private readonly closing = new AbortController();

  constructor(
    private readonly sending: BatchedSending,
    private readonly queueNamePrefix = '',
  ) {
    this.batches = new EntryBatches<SendMessageBatchRequestEntry>('SQS', sending, (url, entries, abortSignal) =>
      sending.clients.sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }), { abortSignal }),
    );
  }

  async send(message: QueueMessage): Promise<void> {
    const ref = parseQueueRef(message.queue, this.queueNamePrefix);
    const fifo = ref.name.endsWith('.fifo');
    if (fifo && message.groupId === undefined)
      throw entryRefused('queue', ref.name, 'it is a FIFO queue, so sendToQueue needs a groupId; add one');
    if (!fifo && message.groupId !== undefined)
      throw entryRefused('queue', ref.name, 'groupId is only for FIFO queues (names ending in .fifo); drop it');
    if (fifo && message.delaySeconds)
      throw entryRefused('queue', ref.name, "SQS FIFO queues take no per-message delaySeconds; set the queue's DelaySeconds instead");
    checkFifoIds('queue', ref.name, message.groupId, message.deduplicationId);
    const attributes = toSnsAttributes(message.attributes ?? {}, ref.name, 'queue');
    const envelope = typeof message.body === 'string' ? message.body : message.body.toString('utf8');
    const refused = bodyRule(envelope);
    if (refused !== undefined) throw entryRefused('queue', ref.name, refused);
    let url: string;
    try {
      url = await this.queueUrl(message.queue);
    } catch (error) {
      throw new PublishError(`Cannot send to queue "${message.queue}": ${describeError(error)}`, { cause: error });
    }
    let body = queueBody(url, envelope, attributes);
    let size = Buffer.byteLength(body, 'utf8') + attributesSize(attributes);
    const largePayloads = this.sending.largePayloads;
    if (largePayloads && size > largePayloads.thresholdBytes) {
      // the S3 claim check adds its payload size attribute: check the count it makes before storing anything
      const countRule = attributeCountRule('queue', [...Object.keys(attributes), PAYLOAD_SIZE_ATTRIBUTE]);
      if (countRule !== undefined) throw entryRefused('queue', ref.name, `${countRule} (the S3 claim check of a large payload adds one)`);
      ({ body, size } = await largePayloads.offload(body, attributes, `queue "${ref.name}"`));
    }
    if (size > MAX_PAYLOAD_BYTES) throw new MessageTooLargeError(`queue ${ref.name}`, size, MAX_PAYLOAD_BYTES);
    const entry: SendMessageBatchRequestEntry = { Id: '', MessageBody: body };
    if (Object.keys(attributes).length > 0) entry.MessageAttributes = attributes;
    if (message.delaySeconds !== undefined) entry.DelaySeconds = message.delaySeconds;
    if (fifo) {
      entry.MessageGroupId = message.groupId;
      // the queue body carries a timestamp, so SQS's own content hash would never match: hash the envelope instead
      entry.MessageDeduplicationId =
        message.deduplicationId ??
        (this.sending.contentBasedDeduplication ? createHash('sha256').update(envelope).digest('hex') : randomUUID());
    }
    return this.batches.enqueue(url, entry, size, ref.name);
  }

  /** The queue URL for a name, URL or ARN; a name or ARN is looked up once (GetQueueUrl) and cached. */
  queueUrl(queue: string): Promise<string> {
    const ref = parseQueueRef(queue, this.queueNamePrefix);
    if (ref.kind === 'url') return Promise.resolve(ref.url);
    const key = ref.kind === 'arn' ? ref.arn : ref.name;
    let url = this.urls.get(key);
    if (!url) {
      url = this.lookUp(ref.name, ref.kind === 'arn' ? ref.account : undefined);
      this.urls.set(key, url);
      url.catch(() => this.urls.delete(key));
    }
    return url;
  }

  private async lookUp(name: string, account: string | undefined): Promise<string> {
    try {
      const { QueueUrl } = await this.sending.clients.sqs.send(
        new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
        { abortSignal: this.closing.signal },
      );
      if (!QueueUrl) throw new PublishError(`GetQueueUrl ${name} returned no QueueUrl`);
      return QueueUrl;
    } catch (error) {
      if (isNotFound(error))
        throw new PublishError(
          `queue "${name}" does not exist${account ? ` in account ${account}` : ''}; create it first, or check the name and queueNamePrefix`,
          { cause: error },
        );
      throw error;
    }
  }

  /** Ends the calls still in flight (their sends reject: the outcome is unknown) and the retry waits. */
  abort(): void {
    this.closing.abort();
    this.batches.abort();
  }

  /** Waits for every batch already handed to SQS, and for the retry rounds still to come. */
  flush(): Promise<void> {
    return this.batches.flush();
  }
}
