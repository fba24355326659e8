import { describeError } from '../error-text.js';
import { PublishError } from '../errors.js';
import type { QueueMessage } from '../transport/broker.js';
import { parseQueueRef } from '../transport/queue-ref.js';
import type { AmqpConnection } from './connection.js';
import { CLOSE_GRACE_MS, awaitUntil } from './deadline.js';
import { retryQueueName } from './naming.js';
import type { AmqpPublisher } from './publisher.js';

/** A queue deleted after its check would drop the message: the broker returns it instead, and the send fails. */
const MANDATORY = Object.freeze({ mandatory: true });

/**
 * `sendToQueue` on AMQP: published to the default exchange with the queue's name as routing key, persistent and
 * confirmed, attributes as headers. The default exchange drops a message for a queue that does not exist, so each
 * queue is first checked once (passive checkQueue on a throwaway channel). AMQP has no per-message delay:
 * `delaySeconds` goes through `<queue>-retry` (a per-message expiration there, then dead-lettered into the queue),
 * which exists for a queue this library consumes; for any other queue it is an error.
 */
export class AmqpQueueSender {
  private readonly checked = new Map<string, Promise<void>>();

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publisher: AmqpPublisher,
    private readonly queueNamePrefix: string,
    private readonly connectTimeout: number,
  ) {}

  async send(message: QueueMessage): Promise<void> {
    const ref = parseQueueRef(message.queue, this.queueNamePrefix);
    if (ref.kind !== 'name')
      throw new PublishError(`Cannot send to "${message.queue}": an SQS queue URL or ARN, but AMQP queues are addressed by name`);
    if (message.groupId !== undefined || message.deduplicationId !== undefined)
      throw new PublishError(
        `Cannot send to queue "${ref.name}": groupId and deduplicationId are SQS FIFO settings; an AMQP queue keeps its order without them, drop them`,
      );
    const delay = message.delaySeconds ?? 0;
    const target = delay > 0 ? retryQueueName(ref.name) : ref.name;
    await this.ensureExists(
      target,
      delay > 0
        ? `AMQP has no per-message delay: delaySeconds needs "${target}" (a queue with x-dead-letter-exchange "" and x-dead-letter-routing-key "${ref.name}", which this library declares for a queue it consumes), and it does not exist; send without delaySeconds or declare it`
        : `queue "${ref.name}" does not exist (the default exchange would drop the message); declare it first, or check the name and queueNamePrefix`,
    );
    return this.publisher.publish(
      '',
      target,
      message.body,
      message.attributes,
      `queue ${ref.name}`,
      delay > 0 ? { expiration: String(delay * 1000), mandatory: true } : MANDATORY,
      message.messageId,
    );
  }

  private ensureExists(queue: string, missing: string): Promise<void> {
    let check = this.checked.get(queue);
    if (!check) {
      check = this.check(queue, missing);
      this.checked.set(queue, check);
      check.catch(() => this.checked.delete(queue));
    }
    return check;
  }

  private async check(queue: string, missing: string): Promise<void> {
    let model;
    try {
      model = await this.connection.get(this.connectTimeout);
    } catch (error) {
      throw new PublishError(`Cannot send to queue "${queue}": no AMQP connection (${describeError(error)})`, { cause: error });
    }
    const channel = await model.createChannel();
    channel.on('error', () => undefined); // a missing queue closes the channel: the rejected checkQueue reports it
    try {
      await channel.checkQueue(queue);
    } catch (error) {
      if (/NOT_FOUND/.test(describeError(error))) throw new PublishError(`Cannot send: ${missing}`, { cause: error });
      throw new PublishError(`Cannot send to queue "${queue}": ${describeError(error)}`, { cause: error });
    } finally {
      await awaitUntil(
        channel.close().catch(() => undefined),
        Date.now() + CLOSE_GRACE_MS,
      );
    }
  }
}
