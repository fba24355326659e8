import {
  ChangeMessageVisibilityCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type MessageSystemAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { setMaxListeners } from 'node:events';
import { MessagingError } from '../errors.js';
import type {
  ConsumerHealth,
  DeliveryHandler,
  DeliveryOutcome,
  InboundDelivery,
  QueuePlan,
  RejectionListener,
} from '../transport/broker.js';
import { DEAD_LETTER_MOVE, rejectionOutcome, settle, settleFailedMove, type Settlement } from '../transport/settlement.js';
import {
  brokerDeadLettering,
  logDeadLettered,
  logSettledFailure,
  type BrokerRedrive,
  type SettledMessage,
} from '../transport/settlement-log.js';
import { describeError } from '../error-text.js';
import { sleep } from '../sleep.js';
import { batchesOf, MAX_BATCH_ENTRIES } from './batching.js';
import { DeleteBatcher } from './delete-batcher.js';
import { sqsDeadLetterQueueName, deliveryTopicOfArn } from './naming.js';
import { fromSqsAttributes, parseNotification, parseQueueOnlyBody } from './notification.js';
import { attributeWarnings, type InvalidAttribute } from './attribute-decoding.js';
import { queueOnlyTopic } from '../transport/queue-only-topic.js';
import { InFlightCount } from '../transport/in-flight-count.js';
import { changeVisibility, VisibilityHeartbeat } from './visibility-heartbeat.js';
import { countFailures } from './entry-batches.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

interface ConsumerSettings {
  plan: QueuePlan;
  queueUrl: string;
  deadLetterUrl?: string;
  topicPrefix: string;
  waitTimeSeconds: number;
  /** Per-attempt HTTP request timeout (ms); a ReceiveMessage gets waitTimeSeconds on top. */
  requestTimeout: number;
  /** Set with snsSqs.largePayload: resolves SQS bodies that are S3 pointers. */
  largePayloads?: LargePayloads;
  /** Told of each message dead-lettered here, before any handler saw it. */
  onRejected?: RejectionListener;
  /** The queue's RedrivePolicy: SQS moves a message received this many times to that queue at its next receive. */
  redrive?: BrokerRedrive;
}

interface Held {
  message: Message;
  released: boolean;
}

const RECEIVE_ERROR_BACKOFF_MS = { initial: 200, max: 20_000 };
const ALL_MESSAGE_ATTRIBUTES = ['All'];
/** A queue fed by wildcard subscriptions may see many topics: past this many, topic names are worked out per message. */
const MAX_REMEMBERED_TOPICS = 1000;

/** How long a long poll may outlast its wait at stop, and how long the last release and delete calls get at least. */
const STOP_GRACE_MS = 1000;

/**
 * The longest a stop can take: open long polls are let end (at most `waitTimeSeconds`, cut off a grace period later
 * if the network stalls), handlers get `drainTimeoutMs`, and the last release and delete calls get what is left, at
 * least a grace period.
 */
export function stopBoundMs(drainTimeoutMs: number, waitTimeSeconds: number): number {
  return Math.max(drainTimeoutMs, waitTimeSeconds * 1000 + STOP_GRACE_MS) + STOP_GRACE_MS;
}

/** Any SQS command (structurally: the SDK's own union does not accept specific commands under strictFunctionTypes). */
type SqsCommand = { resolveMiddleware(...args: any[]): unknown };
/** The output type of an SDK command, from its middleware handler's result. */
type OutputOf<C> = C extends { resolveMiddleware(...args: any[]): (...args: any[]) => Promise<{ output: infer O }> } ? O : never;

/**
 * Receives one queue's messages and runs them through the delivery handler, at most `plan.concurrency` at once:
 * a new receive starts as soon as slots free up. Acts on each outcome (delete, retry backoff, dead-letter queue),
 * keeps slow handlers' messages invisible, keeps FIFO groups in order, and releases what it holds on stop.
 */
export class SqsConsumer {
  private running = false;
  /** Aborts backoff sleeps: they end at once when stop() begins. */
  private readonly abort = new AbortController();
  /** Aborts every call still in flight once stop() is out of time (stopBoundMs() after it began). */
  private readonly cutoff = new AbortController();
  /** Set when stop() has finished: from then on the consumer makes no call at all. */
  private closed = false;
  /** Set by stop(): until then, messages that open polls bring are still handled here; after it, released. */
  private drainDeadline = Infinity;
  private reserved = 0;
  private polling = 0;
  private readonly maxPolls: number;
  private wake?: () => void;
  private loop?: Promise<void>;
  private readonly held = new Map<string, Held>();
  private readonly topics = new Map<string, string>();
  private readonly handling = new InFlightCount();
  private readonly receiving = new Set<Promise<void>>();
  /** Receives in flight, each with its own abort (used only when a poll outlives its wait: see stop()). */
  private readonly polls = new Set<{ controller: AbortController; startedAt: number }>();
  private readonly deletes: DeleteBatcher;
  private readonly heartbeat: VisibilityHeartbeat;
  private readonly systemAttributes: MessageSystemAttributeName[];
  private readonly invalidAttribute: InvalidAttribute;
  private errorStreak = 0;
  private lastReceiveError?: string;
  /** When the current streak of receive failures began. */
  private failingSince = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly settings: ConsumerSettings,
    private readonly handler: DeliveryHandler,
    private readonly logger: LoggerService,
  ) {
    const send = <C extends SqsCommand>(command: C) => this.send(command);
    this.deletes = new DeleteBatcher(send, settings.queueUrl, logger, this.cutoff.signal);
    this.heartbeat = new VisibilityHeartbeat(send, settings.queueUrl, settings.plan.visibilityTimeout, logger);
    this.systemAttributes = settings.plan.fifo ? ['ApproximateReceiveCount', 'MessageGroupId'] : ['ApproximateReceiveCount'];
    this.invalidAttribute = attributeWarnings(logger, settings.plan.name);
    // a topic subscribed by ARN routes to its handler's pattern, whatever the topic is called
    for (const sub of settings.plan.subscriptions) if (sub.topicArn !== undefined) this.topics.set(sub.topicArn, sub.pattern);
    // One long poll per 10 slots: freed slots wait for the next receive instead of each starting a small poll of its own.
    this.maxPolls = Math.ceil(settings.plan.concurrency / MAX_BATCH_ENTRIES);
    // Every outstanding call (receives, settles of running handlers, backoff sleeps) listens on these signals.
    setMaxListeners(settings.plan.concurrency + this.maxPolls + 10, this.abort.signal, this.cutoff.signal);
  }

  get plan(): QueuePlan {
    return this.settings.plan;
  }

  /** Receiving, and how many ReceiveMessage calls failed in a row (0 after a success). */
  health(): ConsumerHealth {
    return {
      queue: this.plan.name,
      attached: this.running,
      receiveFailures: this.errorStreak,
      ...(this.errorStreak > 0 && this.lastReceiveError ? { lastError: this.lastReceiveError } : {}),
    };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.pump();
  }

  /**
   * Starts no new receive, lets the open long polls end and handles what they bring, waits up to `drainTimeoutMs` for
   * running handlers, then makes everything unfinished visible again.
   *
   * Open polls are not aborted: SQS keeps a receive open until its wait ends whatever the client does, and hands a
   * message arriving meanwhile to it; an aborted poll would leave that message invisible for the visibility timeout
   * with a receive spent. So an idle stop takes what is left of the current poll (at most `waitTimeSeconds`), and a
   * message published during the stop is handled here, once. The deletes of handled messages are waited for (a delete
   * the SDK or its extra round retries may take longer than a grace period: cut off, it would have the message handled
   * twice) until stopBoundMs() has passed; then every call still in flight is cut off, with one line for the deletes
   * among them. Resolves within stopBoundMs() whatever the network does; afterwards the consumer makes no call.
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    if (!this.running && !this.loop) return;
    this.running = false;
    const boundMs = stopBoundMs(drainTimeoutMs, this.settings.waitTimeSeconds);
    const cutoffTimer = setTimeout(() => this.cutOff(boundMs), boundMs);
    this.drainDeadline = Date.now() + drainTimeoutMs;
    const waitMs = this.settings.waitTimeSeconds * 1000;
    // A poll still open a grace period after its wait should have ended is lost in the network: only then is it aborted.
    const pollTimers = [...this.polls].map((poll) =>
      setTimeout(() => poll.controller.abort(), Math.max(0, poll.startedAt + waitMs + STOP_GRACE_MS - Date.now())),
    );
    this.abort.abort();
    this.signal();
    try {
      await this.loop;
      this.loop = undefined;
      await Promise.allSettled([...this.receiving]);
      if (this.handling.size > 0) {
        const timeout = new AbortController();
        await Promise.race([this.handling.whenIdle(), sleep(this.drainDeadline - Date.now(), timeout.signal)]);
        timeout.abort();
      }
      // Marked released before any await: a handler that finishes from here on neither deletes nor backs off its message.
      const unfinished = this.markReleased([...this.held.values()].filter((h) => !h.released));
      await this.heartbeat.stop();
      await this.deletes.flush();
      if (unfinished.length > 0) {
        this.logger.warn?.(`Releasing ${unfinished.length} unfinished message(s) on ${this.plan.name} for redelivery`);
        await this.sendRelease(unfinished);
      }
    } finally {
      for (const timer of pollTimers) clearTimeout(timer);
      clearTimeout(cutoffTimer);
      this.closed = true;
      this.cutoff.abort();
    }
  }

  /** stop() is out of time: every call still in flight ends; the deletes among them leave their messages to come back. */
  private cutOff(boundMs: number): void {
    const deleting = this.deletes.inFlight;
    if (deleting > 0)
      this.logger.warn?.(
        `Stopping the consumer of ${this.plan.name}: ${deleting} delete(s) of handled messages still unfinished after ${boundMs} ms (the stop bound) were cut off; those messages will be delivered again`,
      );
    this.cutoff.abort();
  }

  /** Past the drain deadline of a stop: messages a poll brings now are released, not handled. */
  private get drainOver(): boolean {
    return Date.now() >= this.drainDeadline;
  }

  /** Every SQS call of this consumer: none once stopped, none that outlives stop(). */
  private send<C extends SqsCommand>(command: C, extra: { abortSignal?: AbortSignal; requestTimeout?: number } = {}): Promise<OutputOf<C>> {
    if (this.closed) return Promise.reject(new MessagingError(`The consumer of ${this.plan.name} is stopped`));
    const options = {
      abortSignal: extra.abortSignal ?? this.cutoff.signal,
      ...(extra.requestTimeout ? { requestTimeout: extra.requestTimeout } : {}),
    };
    return this.sqs.send(command as never, options) as Promise<OutputOf<C>>;
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async pump(): Promise<void> {
    while (this.running) {
      const free = this.plan.concurrency - this.held.size - this.reserved;
      if (free <= 0 || this.polling >= this.maxPolls) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        continue;
      }
      const count = Math.min(MAX_BATCH_ENTRIES, free);
      this.reserved += count;
      this.polling += 1;
      const receive = this.receive(count);
      this.receiving.add(receive);
      void receive.finally(() => this.receiving.delete(receive));
    }
  }

  private async receive(count: number): Promise<void> {
    let polled = false;
    const donePolling = () => {
      if (polled) return;
      polled = true;
      this.polling -= 1;
    };
    const poll = { controller: new AbortController(), startedAt: Date.now() };
    this.polls.add(poll);
    try {
      const result = await this.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: count,
          WaitTimeSeconds: this.settings.waitTimeSeconds,
          MessageSystemAttributeNames: this.systemAttributes,
          // SQS-level attributes of a direct SendMessage reach the handler too; SNS ones are in the body
          MessageAttributeNames: ALL_MESSAGE_ATTRIBUTES,
        }),
        { abortSignal: poll.controller.signal, requestTimeout: this.settings.requestTimeout + this.settings.waitTimeSeconds * 1000 },
      );
      this.polls.delete(poll);
      if (this.errorStreak > 0) {
        const seconds = ((Date.now() - this.failingSince) / 1000).toFixed(1);
        this.logger.log(`Receiving from ${this.plan.name} works again, after ${this.errorStreak} failed attempt(s) over ${seconds} s`);
      }
      this.errorStreak = 0;
      const messages = (result.Messages ?? []).filter((m) => m.ReceiptHandle);
      const held = messages.map((message) => ({ message, released: false }));
      for (const h of held) this.held.set(h.message.ReceiptHandle!, h);
      this.reserved -= count;
      donePolling();
      if (this.drainOver) {
        if (held.length > 0) await this.release(held); // a stop is out of drain time: visible again at once
      } else if (messages.length > 0) this.dispatch(messages);
      else if (this.settings.waitTimeSeconds === 0 && this.running) await sleep(200, this.abort.signal);
    } catch (error) {
      this.polls.delete(poll);
      if (poll.controller.signal.aborted)
        this.logger.warn?.(
          `A long poll on ${this.plan.name} was still open ${STOP_GRACE_MS} ms after its wait ended and was cut off at stop; a message SQS handed to it returns after its visibility timeout`,
        );
      if (this.abort.signal.aborted) {
        this.reserved -= count;
        return;
      }
      this.errorStreak += 1;
      this.lastReceiveError = describeError(error);
      const delay = Math.min(RECEIVE_ERROR_BACKOFF_MS.max, RECEIVE_ERROR_BACKOFF_MS.initial * 2 ** (this.errorStreak - 1));
      // one WARN when receives start failing, one LOG when they work again; the attempts between at debug
      const failure = `Receiving from ${this.plan.name} failed (${this.lastReceiveError}); retrying in ${delay} ms`;
      if (this.errorStreak === 1) {
        this.failingSince = Date.now();
        this.logger.warn?.(`${failure}, with a growing delay (up to ${RECEIVE_ERROR_BACKOFF_MS.max} ms) until it works again`);
      } else this.logger.debug?.(`${failure} (failure ${this.errorStreak} in a row)`);
      await sleep(delay, this.abort.signal);
      this.reserved -= count;
    } finally {
      donePolling();
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
    this.handling.start();
    void work.then(this.finishedOne);
  }

  private readonly finishedOne = () => this.handling.finish();

  /**
   * One FIFO group's messages from one receive, strictly in order; after a failure the rest are released. The
   * messages waiting their turn are extended too: behind a slow handler (or a batch handler's maxWaitMs) they would
   * otherwise become visible again while this process still holds them.
   */
  private async runGroup(messages: Message[]): Promise<void> {
    for (const message of messages) this.heartbeat.track(message.ReceiptHandle!);
    for (const [index, message] of messages.entries()) {
      if (this.drainOver) return; // stop() releases what is left
      const done = await this.handle(message);
      if (!done) {
        const rest = messages
          .slice(index + 1)
          .map((m) => this.held.get(m.ReceiptHandle!))
          .filter((h): h is Held => !!h && !h.released);
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
    const about: SettledMessage = { messageId: message.MessageId ?? '', queue: this.plan.name, receiveCount };
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.deliver(message, receiveCount, about);
    } finally {
      this.heartbeat.untrack(message.ReceiptHandle!);
    }
    if (held.released) {
      this.logger.warn?.(`A handler on ${this.plan.name} finished after its message was released at shutdown; it will be delivered again`);
      return false;
    }
    try {
      return await this.carryOut(message, outcome, about);
    } catch (error) {
      const redrive = this.settings.redrive;
      const next =
        outcome.kind !== 'ack' && redrive && receiveCount >= redrive.maxReceiveCount
          ? brokerDeadLettering(about, redrive, outcome.reason)
          : 'it will be delivered again';
      this.logger.error(`Could not act on message ${message.MessageId} of ${this.plan.name} (${describeError(error)}); ${next}`);
      return false;
    } finally {
      this.held.delete(message.ReceiptHandle!);
      this.signal();
    }
  }

  /** Runs the message's handler; sets `about.topic` once the topic is known. */
  private async deliver(message: Message, receiveCount: number, about: SettledMessage): Promise<DeliveryOutcome> {
    const payloads = this.settings.largePayloads;
    if (payloads?.isPointer(message.Body)) {
      let resolved = false;
      const outcome = await payloads.resolve(message, (body) => {
        resolved = true;
        return this.deliver(body, receiveCount, about);
      });
      if (!resolved && outcome.kind === 'dead-letter') this.rejected(message, receiveCount, outcome.reason);
      return outcome;
    }
    if (this.plan.existingQueue !== undefined) return this.deliverQueueOnly(message, receiveCount, about);
    const parsed = parseNotification(message.Body, this.invalidAttribute);
    if (!parsed.ok) return this.undecodable(message, receiveCount, parsed.reason);
    const { notification } = parsed;
    const delivery: InboundDelivery = {
      topic: this.topicOf(notification.topicArn),
      body: notification.message,
      attributes: message.MessageAttributes
        ? { ...notification.attributes, ...fromSqsAttributes(message.MessageAttributes, this.invalidAttribute) }
        : notification.attributes,
      messageId: notification.messageId || message.MessageId || '',
      receiveCount,
      groupId: message.Attributes?.MessageGroupId,
      raw: message,
    };
    return this.run(delivery, about);
  }

  private async run(delivery: InboundDelivery, about: SettledMessage): Promise<DeliveryOutcome> {
    about.topic = delivery.topic;
    try {
      return await this.handler(delivery);
    } catch (error) {
      return { kind: 'failed', reason: `delivery handler failed: ${describeError(error)}` };
    } finally {
      about.messageId = delivery.messageId; // the SNS message id, or the envelope's uuid when the transport had none
    }
  }

  /** deliveryTopicOfArn (a topic subscribed by ARN: its pattern), remembered per ARN. */
  private topicOf(topicArn: string): string {
    let topic = this.topics.get(topicArn);
    if (topic === undefined) {
      topic = deliveryTopicOfArn(topicArn, this.settings.topicPrefix);
      if (this.topics.size < MAX_REMEMBERED_TOPICS) this.topics.set(topicArn, topic);
    }
    return topic;
  }

  private rejected(message: Message, receiveCount: number, reason: string): void {
    this.settings.onRejected?.({ messageId: message.MessageId ?? '', receiveCount, reason });
  }

  private undecodable(message: Message, receiveCount: number, reason: string): DeliveryOutcome {
    this.rejected(message, receiveCount, reason);
    return rejectionOutcome('undecodable', reason);
  }

  /** A queue-only queue: SNS notifications, tomodachi queue bodies and bare envelopes all decode. */
  private async deliverQueueOnly(message: Message, receiveCount: number, about: SettledMessage): Promise<DeliveryOutcome> {
    const parsed = parseQueueOnlyBody(message.Body, message.MessageId ?? '', message.MessageAttributes, this.invalidAttribute);
    if (!parsed.ok) return this.undecodable(message, receiveCount, parsed.reason);
    const { body } = parsed;
    const delivery: InboundDelivery = {
      topic: queueOnlyTopic(this.plan, body.topicArn ? this.topicOf(body.topicArn) : undefined, body.message),
      body: body.message,
      attributes: body.attributes,
      messageId: body.messageId,
      receiveCount,
      groupId: message.Attributes?.MessageGroupId,
      raw: message,
    };
    return this.run(delivery, about);
  }

  /**
   * Carries out the settlement decision (lib/transport/settlement.ts), then logs it: one line per failed attempt,
   * one ERROR per dead-lettered message (settlement-log.ts). True when the message left the queue.
   */
  private async carryOut(message: Message, outcome: DeliveryOutcome, about: SettledMessage): Promise<boolean> {
    const decision: Settlement = settle(outcome, about.receiveCount, this.plan);
    if (decision.action === 'ack') {
      this.deletes.delete(message.ReceiptHandle!);
      return true;
    }
    if (decision.action === 'retry') {
      await this.backoff(message, decision.delaySeconds);
      logSettledFailure(this.logger, about, outcome, decision, this.plan, this.settings.redrive);
      return false;
    }
    const deadLetterQueue = sqsDeadLetterQueueName(this.plan) ?? this.plan.deadLetter!.name;
    const moveFailure = await this.moveToDeadLetter(message, decision.reason);
    if (moveFailure !== undefined) {
      const requeue = settleFailedMove(DEAD_LETTER_MOVE, about.receiveCount, this.plan);
      const redrive = this.settings.redrive;
      const next =
        redrive && about.receiveCount >= redrive.maxReceiveCount
          ? brokerDeadLettering(about, redrive, decision.reason)
          : 'it stays and is retried';
      this.logger.error(`Could not move message ${message.MessageId} of ${this.plan.name} to ${deadLetterQueue} (${moveFailure}); ${next}`);
      await this.backoff(message, requeue.delaySeconds);
      return false;
    }
    this.deletes.delete(message.ReceiptHandle!);
    logDeadLettered(this.logger, about, deadLetterQueue, decision.reason);
    return true;
  }

  private async backoff(message: Message, delaySeconds: number): Promise<void> {
    // SQS takes whole seconds: round up, so a sub-second retryBackoff never becomes an immediate retry
    await this.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.settings.queueUrl,
        ReceiptHandle: message.ReceiptHandle!,
        VisibilityTimeout: Math.ceil(delaySeconds),
      }),
    );
  }

  /** Sends the message to the dead-letter queue; undefined when done, else why it failed. */
  private async moveToDeadLetter(message: Message, reason: string): Promise<string | undefined> {
    // The SNS notification in the body carries the message attributes; the reason travels beside it.
    const attributes: Record<string, MessageAttributeValue> = { dead_letter_reason: { DataType: 'String', StringValue: reason } };
    try {
      await this.send(
        new SendMessageCommand({
          QueueUrl: this.settings.deadLetterUrl,
          MessageBody: message.Body || '(empty body)',
          MessageAttributes: attributes,
          ...(this.plan.fifo
            ? { MessageGroupId: message.Attributes?.MessageGroupId ?? 'dead-letter', MessageDeduplicationId: message.MessageId }
            : {}),
        }),
      );
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }

  /** Makes held messages visible again at once (ChangeMessageVisibilityBatch 0). */
  private async release(items: Held[]): Promise<void> {
    await this.sendRelease(this.markReleased(items));
  }

  /** From here on the messages are not this consumer's: no delete, backoff or heartbeat extension touches them. */
  private markReleased(items: Held[]): Held[] {
    for (const h of items) {
      h.released = true;
      this.held.delete(h.message.ReceiptHandle!);
      this.heartbeat.untrack(h.message.ReceiptHandle!);
    }
    this.signal();
    return items;
  }

  private async sendRelease(items: Held[]): Promise<void> {
    for (const chunk of batchesOf(items)) {
      const failures = await changeVisibility(
        (command) => this.send(command),
        this.settings.queueUrl,
        chunk.map((h) => h.message.ReceiptHandle!),
        0,
      );
      for (const [failure, count] of countFailures(failures, () => true))
        this.logger.warn?.(
          `Could not release ${count === 1 ? 'a message' : `${count} messages`} on ${this.plan.name} (${failure.reason}); ${count === 1 ? 'it returns' : 'they return'} after the visibility timeout`,
        );
    }
  }
}
