import type { LoggerService } from '@nestjs/common';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { createHash, randomUUID } from 'node:crypto';
import { MessagingError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type {
  ConsumerHealth,
  DeliveryHandler,
  DeliveryOutcome,
  InboundDelivery,
  QueuePlan,
  RejectionListener,
} from '../transport/broker.js';
import { DEAD_LETTER_MOVE, rejectionOutcome, settle, settleFailedMove, truncateReason, type Settlement } from '../transport/settlement.js';
import { logDeadLettered, logSettledFailure, type SettledMessage } from '../transport/settlement-log.js';
import { InFlightCount } from '../transport/in-flight-count.js';
import { type AmqpConnection, type AmqpModel } from './connection.js';
import { describeError } from '../error-text.js';
import { decodeContent } from './content-encoding.js';
import { AckBatcher, type AckSlot } from './ack-batcher.js';
import { awaitUntil } from './deadline.js';
import { HEADER, isInternalHeader, retryQueueName, topicOfRoutingKey } from './naming.js';
import { UnencodableMessageError, type AmqpPublisher } from './publisher.js';
import { republishProperties, withoutLargeHeaders } from './republish.js';
import { declareTopology, renewPerProcessQueues } from './declare.js';
import { retryQueueOptions } from './queue-arguments.js';

/** Messages whose move failed and went back to the queue, remembered so their receive count still advances. */
const MAX_REMEMBERED_FAILURES = 10_000;

interface Registration {
  plan: QueuePlan;
  handler: DeliveryHandler;
  onRejected?: RejectionListener;
  channel?: Channel;
  /** The acks of `channel` (a new channel starts a new delivery-tag sequence, and a new batcher). */
  acks?: AckBatcher;
  consumerTag?: string;
  /** Deliveries being handled (a count, not a set of promises: no bookkeeping object per message). */
  inflight: InFlightCount;
  reattachTimer?: NodeJS.Timeout;
}

/** A delivery being republished to its retry or dead-letter queue; attempts: its receive count so far. */
interface MessageToMove {
  plan: QueuePlan;
  channel: Channel;
  msg: ConsumeMessage;
  routingKey: string;
  attempts: number;
}

/**
 * One channel per consumed queue with basic.qos = the plan's `concurrency` (the handler's `concurrency` extra, else
 * amqp.prefetch): prefetch is the bound on in-flight deliveries, and so on concurrently running handlers, for AMQP.
 * Every delivery is acked only after its outcome was acted on:
 * - ack: basic.ack;
 * - retry: republished (confirmed) to `<queue>-retry` with expiration = min(900, retryBackoff·2^(attempt-1)) s,
 *   from where it dead-letters back into the queue, then acked; after maxReceiveCount attempts: to the DLQ;
 * - dead-letter: republished (confirmed) to the DLQ with `x-dead-letter-reason`, then acked. Without a DLQ the
 *   message is logged and kept retrying through the retry queue at the longest delay, never dropped.
 * A message that cannot be encoded for the retry queue (headers over amqplib's 64 KB field table) goes to the DLQ
 * at once, with its largest headers left off if need be. If a republish fails otherwise, the delivery is nacked back
 * to the queue after a delay (never a hot loop) and counted as an attempt, so it reaches the DLQ in the end.
 * A gzip or deflate body (content-encoding) is inflated before the envelope decodes it.
 */
export class AmqpConsumer {
  private registrations: Registration[] = [];
  private stopped = false;
  /** Attempts of messages nacked back to the queue after a failed move, by queue and message id (or body hash). */
  private readonly failedMoves = new Map<string, number>();
  private renewTimer?: NodeJS.Timeout;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publisher: AmqpPublisher,
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {}

  async consume(plan: QueuePlan, handler: DeliveryHandler, onRejected?: RejectionListener): Promise<void> {
    this.stopped = false;
    const registration: Registration = { plan, handler, onRejected, inflight: new InFlightCount() };
    this.registrations.push(registration);
    const model = await this.connection.get(this.options.amqp.connectTimeout);
    await this.attach(model, registration);
    if (!plan.competing) this.startRenewing();
  }

  /** Each consumed queue, attached when it has a live channel with its consumer. */
  attachments(): ConsumerHealth[] {
    return this.registrations.map((r) => ({
      queue: r.plan.name,
      attached: !this.stopped && r.channel !== undefined && r.consumerTag !== undefined,
    }));
  }

  /** Drops every registration (after a failed startup, once stopped). */
  forget(): void {
    this.registrations = [];
  }

  /** After a reconnect (topology already re-declared): one fresh channel and consumer per queue; says how many. */
  async attachAll(model: AmqpModel): Promise<string | undefined> {
    if (this.stopped || this.registrations.length === 0) return undefined;
    for (const registration of this.registrations) {
      registration.channel = undefined;
      await this.attach(model, registration);
    }
    return `${this.registrations.length} consumer(s) re-attached (${this.registrations.map((r) => r.plan.name).join(', ')})`;
  }

  private async attach(model: AmqpModel, registration: Registration, declare = false): Promise<void> {
    const channel = await model.createChannel();
    const prefetch = registration.plan.concurrency;
    const acks = new AckBatcher(channel, prefetch);
    channel.on('error', (error: Error) =>
      this.logger.warn?.(`AMQP consumer channel of "${registration.plan.name}" closed by the broker: ${error.message}`),
    );
    channel.on('close', () => {
      acks.close();
      if (registration.channel !== channel) return;
      registration.channel = undefined;
      registration.acks = undefined;
      registration.consumerTag = undefined;
      this.scheduleReattach(model, registration);
    });
    try {
      if (declare) await declareTopology(channel, [registration.plan], this.options);
      await channel.prefetch(prefetch);
      registration.channel = channel;
      registration.acks = acks;
      const { consumerTag } = await channel.consume(registration.plan.name, (msg) => this.onMessage(registration, channel, acks, msg), {
        noAck: false,
      });
      if (registration.channel === channel) registration.consumerTag = consumerTag;
    } catch (error) {
      if (registration.channel === channel) {
        registration.channel = undefined;
        registration.acks = undefined;
      }
      await awaitUntil(channel.close(), Date.now() + 1000);
      throw error;
    }
  }

  /**
   * A per-process queue's -retry and -dlq have no consumer, so their x-expires lease runs out unless renewed: the
   * live process re-declares them a few times per lease.
   */
  private startRenewing(): void {
    if (this.renewTimer) return;
    const every = Math.max(250, Math.floor(this.options.amqp.perProcessQueueExpires / 3));
    this.renewTimer = setInterval(() => void this.renew(), every);
    this.renewTimer.unref();
  }

  private async renew(): Promise<void> {
    const model = this.connection.current;
    if (this.stopped || !model) return;
    const channel = await model.createChannel().catch(() => undefined);
    if (!channel) return;
    channel.on('error', (error: Error) => this.logger.warn?.(`Could not renew per-process queues: ${error.message}`));
    try {
      for (const r of this.registrations) if (!r.plan.competing) await renewPerProcessQueues(channel, r.plan, this.options);
    } catch {
      // logged by the channel's error handler; the next round tries again
    } finally {
      await awaitUntil(channel.close(), Date.now() + 1000);
    }
  }

  /** A consumer channel lost while the connection stays up (broker cancel, channel error): attach again, re-declaring the queue. */
  private scheduleReattach(model: AmqpModel, registration: Registration, delay = this.options.amqp.reconnectDelay.initial): void {
    if (this.stopped || registration.reattachTimer) return;
    registration.reattachTimer = setTimeout(async () => {
      registration.reattachTimer = undefined;
      if (this.stopped || this.connection.current !== model || registration.channel) return;
      try {
        await this.attach(model, registration, true);
        this.logger.log(`AMQP consumer of "${registration.plan.name}" re-attached`);
      } catch (error) {
        this.logger.warn?.(`AMQP consumer of "${registration.plan.name}" could not re-attach: ${describeError(error)}`);
        this.scheduleReattach(model, registration, Math.min(delay * 2, this.options.amqp.reconnectDelay.max));
      }
    }, delay);
    registration.reattachTimer.unref();
  }

  private onMessage(registration: Registration, channel: Channel, acks: AckBatcher, msg: ConsumeMessage | null): void {
    if (msg === null) {
      this.logger.warn?.(`The broker cancelled the consumer of "${registration.plan.name}" (queue deleted?); re-attaching`);
      if (registration.channel === channel) {
        registration.channel = undefined;
        registration.acks = undefined;
        registration.consumerTag = undefined;
        acks.flush();
        void channel.close().catch(() => undefined);
        const model = this.connection.current;
        if (model) this.scheduleReattach(model, registration);
      }
      return;
    }
    // registered here, synchronously and so in delivery-tag order
    registration.inflight.start();
    void this.process(registration, channel, msg, acks, acks.register(msg));
  }

  private async process(registration: Registration, channel: Channel, msg: ConsumeMessage, acks: AckBatcher, slot: AckSlot): Promise<void> {
    try {
      await this.handle(registration, channel, msg, acks, slot);
    } finally {
      registration.inflight.finish();
    }
  }

  private async handle(registration: Registration, channel: Channel, msg: ConsumeMessage, acks: AckBatcher, slot: AckSlot): Promise<void> {
    const plan = registration.plan;
    const headers = msg.properties.headers ?? {};
    const previous = Number(headers[HEADER.receiveCount]) || 0;
    // failed moves are rare: no key (a string, or a body hash without message id) per message otherwise
    const failedBefore = this.failedMoves.size > 0 ? (this.failedMoves.get(this.failureKey(plan, msg)) ?? 0) : 0;
    const receiveCount = Math.max(previous + 1 + (msg.fields.redelivered ? 1 : 0), failedBefore + 1);
    const routingKey =
      typeof headers[HEADER.originalRoutingKey] === 'string' ? (headers[HEADER.originalRoutingKey] as string) : msg.fields.routingKey;
    const delivery: InboundDelivery = {
      topic: topicOfRoutingKey(routingKey, this.options.topicPrefix),
      body: msg.content,
      attributes: attributesOf(headers),
      messageId: msg.properties.messageId ?? randomUUID(),
      messageIdMissing: msg.properties.messageId === undefined,
      receiveCount,
      raw: msg,
    };
    const content = decodeContent(msg.content, msg.properties.contentEncoding, this.options.maxDecodedBytes);
    let outcome: DeliveryOutcome;
    if (!content.ok) {
      const reason = `cannot decode message: ${content.reason}`;
      outcome = rejectionOutcome('bad-encoding', reason);
      registration.onRejected?.({ messageId: delivery.messageId, topic: delivery.topic, receiveCount, reason });
    } else {
      delivery.body = content.body;
      try {
        outcome = await registration.handler(delivery);
      } catch (error) {
        outcome = { kind: 'failed', reason: describeError(error) };
      }
    }
    // the decision is lib/transport/settlement.ts's; this carries it out, then logs it (settlement-log.ts)
    const decision = settle(outcome, receiveCount, plan);
    if (decision.action !== 'ack') {
      const about: SettledMessage = { messageId: delivery.messageId, topic: delivery.topic, queue: plan.name, receiveCount };
      const requeue = await this.move(plan, channel, msg, routingKey, about, outcome, decision);
      if (requeue !== undefined) {
        this.rememberFailedMove(this.failureKey(plan, msg), receiveCount);
        const delay = requeue.delaySeconds * 1000;
        this.logger.error(
          `Could not move message ${delivery.messageId} from "${plan.name}" (${outcome.kind}, attempt ${receiveCount}): ${requeue.error}; it returns to the queue in ${delay} ms`,
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
        acks.nack(slot);
        return;
      }
    }
    if (failedBefore > 0) this.failedMoves.delete(this.failureKey(plan, msg));
    acks.ack(slot);
  }

  private failureKey(plan: QueuePlan, msg: ConsumeMessage): string {
    return `${plan.name}\u0000${msg.properties.messageId ?? createHash('sha1').update(msg.content).digest('base64')}`;
  }

  private rememberFailedMove(key: string, attempts: number): void {
    this.failedMoves.delete(key);
    this.failedMoves.set(key, attempts);
    if (this.failedMoves.size > MAX_REMEMBERED_FAILURES) this.failedMoves.delete(this.failedMoves.keys().next().value!);
  }

  /**
   * Carries out a retry or dead-letter decision and logs it; when a move fails, what settleFailedMove() decides instead
   * (the dead-letter queue for a retry that can never be republished, else a requeue, returned with the error).
   */
  private async move(
    plan: QueuePlan,
    channel: Channel,
    msg: ConsumeMessage,
    routingKey: string,
    about: SettledMessage,
    outcome: DeliveryOutcome,
    decision: Exclude<Settlement, { action: 'ack' }>,
  ): Promise<{ delaySeconds: number; error: string } | undefined> {
    const moving: MessageToMove = { plan, channel, msg, routingKey, attempts: about.receiveCount };
    let step = decision;
    for (;;) {
      try {
        if (step.action === 'retry') {
          await this.toRetryQueue(moving, step.reason, step.delaySeconds * 1000);
          logSettledFailure(this.logger, about, outcome, step, plan);
        } else {
          await this.toDeadLetterQueue(moving, step.reason);
          logDeadLettered(this.logger, about, plan.deadLetter!.name, step.reason);
        }
        return undefined;
      } catch (error) {
        const failed =
          step.action === 'retry'
            ? {
                to: 'retry' as const,
                reason: step.reason,
                error: describeError(error),
                permanent: error instanceof UnencodableMessageError,
              }
            : DEAD_LETTER_MOVE;
        const next = settleFailedMove(failed, about.receiveCount, plan);
        if (next.action === 'requeue') return { delaySeconds: next.delaySeconds, error: describeError(error) };
        step = next;
      }
    }
  }

  private async toRetryQueue({ plan, channel, msg, routingKey, attempts }: MessageToMove, reason: string, delayMs: number): Promise<void> {
    const queue = retryQueueName(plan.name);
    // a per-process retry queue expires perProcessQueueExpires after its last declaration: refresh it
    if (!plan.competing) await channel.assertQueue(queue, retryQueueOptions(plan, this.options));
    const properties = {
      ...republishProperties(msg, routingKey, attempts, { [HEADER.lastError]: reason }),
      expiration: String(Math.round(delayMs)),
    };
    await this.publisher.publishRaw('', queue, msg.content, properties);
  }

  /** Only for plans with a dead-letter queue: settle() never dead-letters without one. */
  private async toDeadLetterQueue({ plan, msg, routingKey, attempts }: MessageToMove, reason: string): Promise<void> {
    if (!plan.deadLetter) throw new MessagingError(`"${plan.name}" has no dead-letter queue`);
    const properties = republishProperties(msg, routingKey, attempts, { [HEADER.deadLetterReason]: reason });
    await this.publishFitting(plan.deadLetter.name, msg, properties, reason, HEADER.deadLetterReason);
  }

  /** Publishes with the message's headers, or, when they cannot be encoded, without the largest ones (named in the reason). */
  private async publishFitting(
    queue: string,
    msg: ConsumeMessage,
    properties: Options.Publish,
    reason: string,
    reasonHeader: string,
  ): Promise<void> {
    try {
      await this.publisher.publishRaw('', queue, msg.content, properties);
      return;
    } catch (error) {
      if (!(error instanceof UnencodableMessageError)) throw error;
    }
    for (const dropAll of [false, true]) {
      const trimmed = withoutLargeHeaders(properties, dropAll);
      (trimmed.properties.headers as Record<string, unknown>)[reasonHeader] = truncateReason(
        `${reason} (headers left off, too large to republish: ${trimmed.dropped.join(', ')})`,
      );
      try {
        await this.publisher.publishRaw('', queue, msg.content, trimmed.properties);
        this.logger.warn?.(
          `Message ${msg.properties.messageId ?? '(no id)'} moved to "${queue}" without its headers ${trimmed.dropped.join(', ')}: together they exceed the AMQP header limit`,
        );
        return;
      } catch (error) {
        if (!(error instanceof UnencodableMessageError) || dropAll) throw error;
      }
    }
  }

  /**
   * basic.cancel every consumer, wait for in-flight handlers until `drainEnd`, close the channels by `closeBy`
   * (unacked messages return to the queue). While the broker blocks the connection no reply can come, so only the
   * handlers are waited for.
   */
  async stop(drainEnd: number, closeBy: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    const cancels: Promise<unknown>[] = [];
    for (const r of this.registrations) {
      clearTimeout(r.reattachTimer);
      r.reattachTimer = undefined;
      if (r.channel && r.consumerTag) cancels.push(r.channel.cancel(r.consumerTag).catch(() => undefined));
    }
    if (!this.connection.blocked) await awaitUntil(Promise.all(cancels), drainEnd);
    for (;;) {
      const busy = this.registrations.filter((r) => r.inflight.size > 0);
      if (busy.length === 0) break;
      const finished = await awaitUntil(Promise.all(busy.map((r) => r.inflight.whenIdle())), drainEnd);
      if (!finished.done) {
        this.logger.warn?.(
          `${busy.reduce((n, r) => n + r.inflight.size, 0)} handler(s) still running after the drain timeout; their messages return to the queue`,
        );
        break;
      }
    }
    await this.closeChannels(closeBy);
  }

  async closeChannels(deadline: number): Promise<void> {
    const channels = this.registrations.map((r) => {
      const channel = r.channel;
      // decided acks go out before the channel.close frame (same channel, so in order)
      r.acks?.flush();
      r.acks = undefined;
      r.channel = undefined;
      r.consumerTag = undefined;
      return channel;
    });
    if (this.connection.blocked) return; // the connection close destroys them
    await awaitUntil(Promise.all(channels.map((c) => c?.close().catch(() => undefined))), deadline);
  }

  /** Removes this process's non-competing queues (and their DLQs when empty). */
  async deleteNonCompetingQueues(): Promise<void> {
    const plans = this.registrations.map((r) => r.plan).filter((p) => !p.competing);
    const model = this.connection.current;
    if (plans.length === 0 || !model || this.connection.blocked) return;
    for (const plan of plans) {
      const channel = await model.createChannel().catch(() => undefined);
      if (!channel) return;
      channel.on('error', () => undefined);
      try {
        await channel.deleteQueue(plan.name);
        await channel.deleteQueue(retryQueueName(plan.name));
        if (plan.deadLetter) await channel.deleteQueue(plan.deadLetter.name, { ifEmpty: true });
      } catch (error) {
        this.logger.warn?.(`Kept part of the per-process queues of "${plan.name}": ${describeError(error)}`);
      }
      await channel.close().catch(() => undefined);
    }
  }
}

function attributesOf(headers: Record<string, unknown>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const key in headers) if (!isInternalHeader(key)) attributes[key] = headers[key];
  return attributes;
}
