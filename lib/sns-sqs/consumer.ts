import {
  ChangeMessageVisibilityBatchCommand, ChangeMessageVisibilityCommand, ReceiveMessageCommand, SendMessageCommand,
  type Message, type MessageAttributeValue, type MessageSystemAttributeName, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { decodeName } from '../naming.js';
import type { DeliveryHandler, DeliveryOutcome, InboundDelivery, QueuePlan } from '../transport/broker.js';
import { describeError, sleep } from './aws-errors.js';
import { DeleteBatcher } from './delete-batcher.js';
import { topicFromArn } from './naming.js';
import { parseNotification } from './notification.js';
import { VisibilityHeartbeat } from './visibility-heartbeat.js';

export interface ConsumerSettings {
  plan: QueuePlan;
  queueUrl: string;
  deadLetterUrl?: string;
  topicPrefix: string;
  waitTimeSeconds: number;
}

interface Held {
  message: Message;
  released: boolean;
}

const MAX_VISIBILITY_BACKOFF = 900;
const RECEIVE_ERROR_BACKOFF_MS = { initial: 200, max: 20_000 };
const REASON_MAX = 1000;

/**
 * Receives one queue's messages and runs them through the delivery handler, at most `plan.concurrency` at once:
 * a new receive starts as soon as slots free up. Acts on each outcome (delete, retry backoff, dead-letter queue),
 * keeps slow handlers' messages invisible, keeps FIFO groups in order, and releases what it holds on stop.
 */
export class QueueConsumer {
  private running = false;
  private readonly abort = new AbortController();
  /** Aborts in-flight ReceiveMessage calls; only at the drain deadline (see stop()). */
  private readonly abortReceive = new AbortController();
  private reserved = 0;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly held = new Map<string, Held>();
  private readonly handling = new Set<Promise<unknown>>();
  private readonly receiving = new Set<Promise<void>>();
  private readonly deletes: DeleteBatcher;
  private readonly heartbeat: VisibilityHeartbeat;
  private readonly systemAttributes: MessageSystemAttributeName[];
  private errorStreak = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly settings: ConsumerSettings,
    private readonly handler: DeliveryHandler,
    private readonly logger: LoggerService,
  ) {
    this.deletes = new DeleteBatcher(sqs, settings.queueUrl, logger);
    this.heartbeat = new VisibilityHeartbeat(sqs, settings.queueUrl, settings.plan.visibilityTimeout, logger);
    this.systemAttributes = settings.plan.fifo ? ['ApproximateReceiveCount', 'MessageGroupId'] : ['ApproximateReceiveCount'];
    // Every outstanding receive (up to one per free slot) and backoff sleep listens on these signals.
    setMaxListeners(settings.plan.concurrency + 10, this.abort.signal, this.abortReceive.signal);
  }

  get plan(): QueuePlan {
    return this.settings.plan;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.pump();
  }

  /** Stops receiving, waits up to `drainTimeoutMs` for running handlers, then makes everything unfinished visible again. */
  async stop(drainTimeoutMs: number): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    this.abort.abort();
    this.signal();
    await this.loop;
    this.loop = undefined;
    // A receive in flight is not aborted at once: SQS may already have handed out its messages, which would then stay
    // invisible for the whole visibility timeout. It ends within waitTimeSeconds and what it brings is released.
    const timeout = new AbortController();
    const deadline = sleep(drainTimeoutMs, timeout.signal);
    await Promise.race([Promise.allSettled([...this.receiving]), deadline]);
    this.abortReceive.abort();
    await Promise.allSettled([...this.receiving]);
    if (this.handling.size > 0) await Promise.race([Promise.allSettled([...this.handling]), deadline]);
    timeout.abort();
    await this.deletes.flush();
    const unfinished = [...this.held.values()].filter((h) => !h.released);
    if (unfinished.length > 0) {
      this.logger.warn?.(`Releasing ${unfinished.length} unfinished message(s) on ${this.plan.name} for redelivery`);
      await this.release(unfinished);
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async pump(): Promise<void> {
    while (this.running) {
      const free = this.plan.concurrency - this.held.size - this.reserved;
      if (free <= 0) {
        await new Promise<void>((resolve) => { this.wake = resolve; });
        continue;
      }
      const count = Math.min(10, free);
      this.reserved += count;
      const receive = this.receive(count);
      this.receiving.add(receive);
      void receive.finally(() => this.receiving.delete(receive));
    }
  }

  private async receive(count: number): Promise<void> {
    try {
      const result = await this.sqs.send(new ReceiveMessageCommand({
        QueueUrl: this.settings.queueUrl,
        MaxNumberOfMessages: count,
        WaitTimeSeconds: this.settings.waitTimeSeconds,
        MessageSystemAttributeNames: this.systemAttributes,
      }), { abortSignal: this.abortReceive.signal });
      this.errorStreak = 0;
      const messages = (result.Messages ?? []).filter((m) => m.ReceiptHandle);
      const held = messages.map((message) => ({ message, released: false }));
      for (const h of held) this.held.set(h.message.ReceiptHandle!, h);
      this.reserved -= count;
      if (!this.running) {
        if (held.length > 0) await this.release(held); // received while stopping: visible again at once
      } else if (messages.length > 0) this.dispatch(messages);
      else if (this.settings.waitTimeSeconds === 0) await sleep(200, this.abort.signal);
    } catch (error) {
      if (this.abort.signal.aborted) {
        this.reserved -= count;
        return;
      }
      this.errorStreak += 1;
      const delay = Math.min(RECEIVE_ERROR_BACKOFF_MS.max, RECEIVE_ERROR_BACKOFF_MS.initial * 2 ** (this.errorStreak - 1));
      this.logger.error(`Receiving from ${this.plan.name} failed (${describeError(error)}); retrying in ${delay} ms`);
      await sleep(delay, this.abort.signal);
      this.reserved -= count;
    } finally {
      this.signal();
    }
  }

  private dispatch(messages: Message[]): void {
    if (!this.plan.fifo) {
      for (const message of messages) this.track(this.handle(message));
      return;
    }
    const groups = new Map<string, Message[]>();
    for (const message of messages) {
      const group = message.Attributes?.MessageGroupId ?? '';
      groups.set(group, [...(groups.get(group) ?? []), message]);
    }
    for (const group of groups.values()) this.track(this.runGroup(group));
  }

  private track(work: Promise<unknown>): void {
    this.handling.add(work);
    void work.finally(() => this.handling.delete(work));
  }

  /** One FIFO group's messages from one receive, strictly in order; after a failure the rest are released. */
  private async runGroup(messages: Message[]): Promise<void> {
    for (const [index, message] of messages.entries()) {
      if (!this.running) return; // stop() releases what is left
      const done = await this.handle(message);
      if (!done) {
        const rest = messages.slice(index + 1).map((m) => this.held.get(m.ReceiptHandle!)).filter((h): h is Held => !!h && !h.released);
        if (rest.length > 0) await this.release(rest);
        return;
      }
    }
  }

  /** Runs one message; true when it left the queue (deleted or dead-lettered). */
  private async handle(message: Message): Promise<boolean> {
    const held = this.held.get(message.ReceiptHandle!);
    if (!held || held.released) return false;
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? 1) || 1;
    this.heartbeat.track(message.ReceiptHandle!);
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.deliver(message, receiveCount);
    } finally {
      this.heartbeat.untrack(message.ReceiptHandle!);
    }
    if (held.released) {
      this.logger.warn?.(`A handler on ${this.plan.name} finished after its message was released at shutdown; it will be delivered again`);
      return false;
    }
    try {
      return await this.settle(message, outcome, receiveCount);
    } catch (error) {
      this.logger.error(`Could not act on message ${message.MessageId} of ${this.plan.name} (${describeError(error)}); it will be delivered again`);
      return false;
    } finally {
      this.held.delete(message.ReceiptHandle!);
      this.signal();
    }
  }

  private async deliver(message: Message, receiveCount: number): Promise<DeliveryOutcome> {
    const parsed = parseNotification(message.Body);
    if (!parsed.ok) {
      this.logger.error(`Message ${message.MessageId} on ${this.plan.name} goes to the dead-letter queue: ${parsed.reason}`);
      return { kind: 'dead-letter', reason: parsed.reason };
    }
    const { notification } = parsed;
    const topic = topicFromArn(notification.topicArn, this.settings.topicPrefix)
      ?? decodeName(notification.topicArn.slice(notification.topicArn.lastIndexOf(':') + 1).replace(/\.fifo$/, ''));
    const delivery: InboundDelivery = {
      topic,
      body: notification.message,
      attributes: notification.attributes,
      messageId: notification.messageId || message.MessageId || '',
      receiveCount,
      groupId: message.Attributes?.MessageGroupId,
      raw: message,
    };
    try {
      return await this.handler(delivery);
    } catch (error) {
      return { kind: 'retry', reason: `delivery handler failed: ${describeError(error)}` };
    }
  }

  private async settle(message: Message, outcome: DeliveryOutcome, receiveCount: number): Promise<boolean> {
    if (outcome.kind === 'ack') {
      void this.deletes.delete(message.ReceiptHandle!);
      return true;
    }
    if (outcome.kind === 'retry' && !(this.settings.deadLetterUrl && receiveCount >= this.plan.maxReceiveCount)) {
      await this.backoff(message, receiveCount);
      return false;
    }
    const reason = outcome.kind === 'retry' ? `failed ${receiveCount} time(s), last: ${outcome.reason}` : outcome.reason;
    if (!this.settings.deadLetterUrl) {
      this.logger.error(`Message ${message.MessageId} on ${this.plan.name} should go to a dead-letter queue but the queue has none; it stays and is retried after a backoff (${reason})`);
      await this.backoff(message, receiveCount);
      return false;
    }
    if (!(await this.moveToDeadLetter(message, reason))) {
      await this.backoff(message, receiveCount);
      return false;
    }
    void this.deletes.delete(message.ReceiptHandle!);
    return true;
  }

  private async backoff(message: Message, receiveCount: number): Promise<void> {
    // SQS takes whole seconds: round up, so a sub-second retryBackoff never becomes an immediate retry
    const seconds = Math.ceil(Math.min(MAX_VISIBILITY_BACKOFF, this.plan.retryBackoff * 2 ** (receiveCount - 1)));
    await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: seconds }));
  }

  private async moveToDeadLetter(message: Message, reason: string): Promise<boolean> {
    // The SNS notification in the body carries the message attributes; the reason travels beside it.
    const attributes: Record<string, MessageAttributeValue> = {
      dead_letter_reason: { DataType: 'String', StringValue: reason.length > REASON_MAX ? `${reason.slice(0, REASON_MAX)}…` : reason },
    };
    try {
      await this.sqs.send(new SendMessageCommand({
        QueueUrl: this.settings.deadLetterUrl,
        MessageBody: message.Body || '(empty body)',
        MessageAttributes: attributes,
        ...(this.plan.fifo ? { MessageGroupId: message.Attributes?.MessageGroupId ?? 'dead-letter', MessageDeduplicationId: message.MessageId } : {}),
      }));
      return true;
    } catch (error) {
      this.logger.error(`Could not move message ${message.MessageId} of ${this.plan.name} to its dead-letter queue (${describeError(error)}); it stays and is retried`);
      return false;
    }
  }

  /** Makes held messages visible again at once (ChangeMessageVisibilityBatch 0). */
  private async release(items: Held[]): Promise<void> {
    for (const h of items) {
      h.released = true;
      this.held.delete(h.message.ReceiptHandle!);
    }
    this.signal();
    for (let i = 0; i < items.length; i += 10) {
      const chunk = items.slice(i, i + 10);
      try {
        const result = await this.sqs.send(new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.settings.queueUrl,
          Entries: chunk.map((h, j) => ({ Id: String(j), ReceiptHandle: h.message.ReceiptHandle!, VisibilityTimeout: 0 })),
        }));
        for (const f of result.Failed ?? []) this.logger.warn?.(`Could not release a message on ${this.plan.name} (${f.Code}: ${f.Message}); it returns after its visibility timeout`);
      } catch (error) {
        this.logger.warn?.(`Could not release ${chunk.length} message(s) on ${this.plan.name} (${describeError(error)}); they return after their visibility timeout`);
      }
    }
  }
}
