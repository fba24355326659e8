import type { LoggerService } from '@nestjs/common';
import type { Channel, ConsumeMessage, Options } from 'amqplib';
import { randomUUID } from 'node:crypto';
import type { ResolvedMessagingOptions } from '../options-validation.js';
import type { DeliveryHandler, DeliveryOutcome, InboundDelivery, QueuePlan } from '../transport/broker.js';
import { errorText, type AmqpConnection, type AmqpModel } from './connection.js';
import { HEADER, isInternalHeader, retryQueueName } from './naming.js';
import type { AmqpPublisher } from './publisher.js';
import { declareTopology, retryQueueOptions } from './topology.js';

const MAX_RETRY_DELAY_S = 900;
const MAX_REASON_LENGTH = 1000;

interface Registration {
  plan: QueuePlan;
  handler: DeliveryHandler;
  channel?: Channel;
  consumerTag?: string;
  inflight: Set<Promise<void>>;
  reattachTimer?: NodeJS.Timeout;
}

/**
 * One channel per consumed queue with basic.qos = amqp.prefetch: prefetch is the bound on in-flight deliveries
 * (and so on concurrently running handlers) for AMQP; the plan's `concurrency` is not applied on top of it.
 * Every delivery is acked only after its outcome was acted on:
 * - ack: basic.ack;
 * - retry: republished (confirmed) to `<queue>-retry` with expiration = min(900, retryBackoff·2^(attempt-1)) s,
 *   from where it dead-letters back into the queue, then acked; after maxReceiveCount attempts: to the DLQ;
 * - dead-letter: republished (confirmed) to the DLQ with `x-dead-letter-reason`, then acked. Without a DLQ the
 *   message is logged and kept retrying through the retry queue at the longest delay, never dropped.
 * If the republish fails the delivery is nacked back to the queue after a delay (never a hot loop).
 */
export class AmqpConsumer {
  private readonly registrations: Registration[] = [];
  private stopped = false;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publisher: AmqpPublisher,
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {}

  get plans(): QueuePlan[] {
    return this.registrations.map((r) => r.plan);
  }

  async consume(plan: QueuePlan, handler: DeliveryHandler): Promise<void> {
    this.stopped = false;
    const registration: Registration = { plan, handler, inflight: new Set() };
    this.registrations.push(registration);
    const model = await this.connection.get(this.options.amqp.publishTimeout);
    await this.attach(model, registration);
  }

  /** After a reconnect (topology already re-declared): one fresh channel and consumer per queue. */
  async attachAll(model: AmqpModel): Promise<void> {
    if (this.stopped) return;
    for (const registration of this.registrations) {
      registration.channel = undefined;
      await this.attach(model, registration);
    }
  }

  private async attach(model: AmqpModel, registration: Registration, declare = false): Promise<void> {
    const channel = await model.createChannel();
    channel.on('error', (error: Error) => this.logger.warn?.(`AMQP consumer channel of "${registration.plan.name}" closed by the broker: ${error.message}`));
    channel.on('close', () => {
      if (registration.channel !== channel) return;
      registration.channel = undefined;
      registration.consumerTag = undefined;
      this.scheduleReattach(model, registration);
    });
    try {
      if (declare) await declareTopology(channel, [registration.plan], this.options);
      await channel.prefetch(this.options.amqp.prefetch);
      registration.channel = channel;
      const { consumerTag } = await channel.consume(registration.plan.name, (msg) => this.onMessage(registration, channel, msg), { noAck: false });
      if (registration.channel === channel) registration.consumerTag = consumerTag;
    } catch (error) {
      if (registration.channel === channel) registration.channel = undefined;
      await channel.close().catch(() => undefined);
      throw error;
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
        this.logger.warn?.(`AMQP consumer of "${registration.plan.name}" could not re-attach: ${errorText(error)}`);
        this.scheduleReattach(model, registration, Math.min(delay * 2, this.options.amqp.reconnectDelay.max));
      }
    }, delay);
    registration.reattachTimer.unref();
  }

  private onMessage(registration: Registration, channel: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      this.logger.warn?.(`The broker cancelled the consumer of "${registration.plan.name}" (queue deleted?); re-attaching`);
      if (registration.channel === channel) {
        registration.channel = undefined;
        registration.consumerTag = undefined;
        void channel.close().catch(() => undefined);
        const model = this.connection.current;
        if (model) this.scheduleReattach(model, registration);
      }
      return;
    }
    const work = this.process(registration, channel, msg);
    registration.inflight.add(work);
    void work.finally(() => registration.inflight.delete(work));
  }

  private async process(registration: Registration, channel: Channel, msg: ConsumeMessage): Promise<void> {
    const headers = msg.properties.headers ?? {};
    const previous = Number(headers[HEADER.receiveCount]) || 0;
    const receiveCount = previous + 1 + (msg.fields.redelivered ? 1 : 0);
    const routingKey = typeof headers[HEADER.originalRoutingKey] === 'string' ? headers[HEADER.originalRoutingKey] as string : msg.fields.routingKey;
    const prefix = this.options.topicPrefix;
    const delivery: InboundDelivery = {
      topic: prefix && routingKey.startsWith(prefix) ? routingKey.slice(prefix.length) : routingKey,
      body: msg.content,
      attributes: attributesOf(headers),
      messageId: msg.properties.messageId ?? randomUUID(),
      receiveCount,
      raw: msg,
    };
    let outcome: DeliveryOutcome;
    try {
      outcome = await registration.handler(delivery);
    } catch (error) {
      outcome = { kind: 'retry', reason: errorText(error) };
    }
    const plan = registration.plan;
    try {
      if (outcome.kind === 'ack') {
        // fall through to the ack
      } else if (outcome.kind === 'retry' && receiveCount < plan.maxReceiveCount) {
        await this.toRetryQueue(plan, channel, msg, routingKey, receiveCount, outcome.reason, retryDelayMs(plan.retryBackoff, receiveCount));
      } else {
        const reason = outcome.kind === 'retry' ? `gave up after ${receiveCount} attempts: ${outcome.reason}` : outcome.reason;
        await this.toDeadLetterQueue(plan, channel, msg, routingKey, receiveCount, reason);
      }
    } catch (error) {
      const delay = Math.max(1000, retryDelayMs(plan.retryBackoff, receiveCount));
      this.logger.error(`Could not move message ${delivery.messageId} from "${plan.name}" (${outcome.kind}): ${errorText(error)}; it returns to the queue in ${delay} ms`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      settle(channel, msg, false);
      return;
    }
    settle(channel, msg, true);
  }

  private async toRetryQueue(plan: QueuePlan, channel: Channel, msg: ConsumeMessage, routingKey: string, attempts: number, reason: string, delayMs: number): Promise<void> {
    const queue = retryQueueName(plan.name);
    // a per-process retry queue expires an hour after its last declaration: refresh it
    if (!plan.competing) await channel.assertQueue(queue, retryQueueOptions(plan));
    await this.publisher.publishRaw('', queue, msg.content, {
      ...republishProperties(msg, routingKey, attempts, { [HEADER.lastError]: truncate(reason) }),
      expiration: String(Math.round(delayMs)),
    });
  }

  private async toDeadLetterQueue(plan: QueuePlan, channel: Channel, msg: ConsumeMessage, routingKey: string, attempts: number, reason: string): Promise<void> {
    if (!plan.deadLetter) {
      this.logger.error(`Message on "${plan.name}" should be dead-lettered (${reason}) but the queue has no dead-letter queue; retrying it every ${MAX_RETRY_DELAY_S} s instead`);
      await this.toRetryQueue(plan, channel, msg, routingKey, attempts, reason, MAX_RETRY_DELAY_S * 1000);
      return;
    }
    await this.publisher.publishRaw('', plan.deadLetter.name, msg.content, republishProperties(msg, routingKey, attempts, {
      [HEADER.deadLetterReason]: truncate(reason),
    }));
  }

  /** basic.cancel every consumer, wait for in-flight handlers (bounded), close the channels (unacked return to the queue). */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.stopped = true;
    for (const r of this.registrations) {
      clearTimeout(r.reattachTimer);
      r.reattachTimer = undefined;
      if (r.channel && r.consumerTag) await r.channel.cancel(r.consumerTag).catch(() => undefined);
    }
    const deadline = Date.now() + drainTimeoutMs;
    for (;;) {
      const inflight = this.registrations.flatMap((r) => [...r.inflight]);
      const left = deadline - Date.now();
      if (inflight.length === 0 || left <= 0) {
        if (inflight.length > 0) this.logger.warn?.(`${inflight.length} handler(s) still running after the ${drainTimeoutMs} ms drain timeout; their messages return to the queue`);
        break;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(inflight), new Promise((resolve) => { timer = setTimeout(resolve, left); })]);
      clearTimeout(timer);
    }
    await this.closeChannels();
  }

  async closeChannels(): Promise<void> {
    for (const r of this.registrations) {
      const channel = r.channel;
      r.channel = undefined;
      r.consumerTag = undefined;
      await channel?.close().catch(() => undefined);
    }
  }

  /** Removes this process's non-competing queues (and their DLQs when empty). */
  async deleteNonCompetingQueues(): Promise<void> {
    const plans = this.registrations.map((r) => r.plan).filter((p) => !p.competing);
    const model = this.connection.current;
    if (plans.length === 0 || !model) return;
    for (const plan of plans) {
      const channel = await model.createChannel().catch(() => undefined);
      if (!channel) return;
      channel.on('error', () => undefined);
      try {
        await channel.deleteQueue(plan.name);
        await channel.deleteQueue(retryQueueName(plan.name));
        if (plan.deadLetter) await channel.deleteQueue(plan.deadLetter.name, { ifEmpty: true });
      } catch (error) {
        this.logger.warn?.(`Kept part of the per-process queues of "${plan.name}": ${errorText(error)}`);
      }
      await channel.close().catch(() => undefined);
    }
  }
}

function settle(channel: Channel, msg: ConsumeMessage, ack: boolean): void {
  try {
    if (ack) channel.ack(msg);
    else channel.nack(msg, false, true);
  } catch {
    // the channel closed meanwhile: the broker returns the message to the queue
  }
}

export function retryDelayMs(backoffSeconds: number, attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_S, backoffSeconds * 2 ** Math.max(0, attempt - 1)) * 1000;
}

function republishProperties(msg: ConsumeMessage, routingKey: string, attempts: number, extra: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p.headers ?? {})) {
    if (key !== 'x-death' && !key.startsWith('x-first-death-') && !key.startsWith('x-last-death-')) headers[key] = value;
  }
  headers[HEADER.originalRoutingKey] = routingKey;
  if (msg.fields.exchange && headers[HEADER.originalExchange] === undefined) headers[HEADER.originalExchange] = msg.fields.exchange;
  headers[HEADER.receiveCount] = attempts;
  Object.assign(headers, extra);
  return {
    persistent: true,
    headers,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    messageId: p.messageId,
    correlationId: p.correlationId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  };
}

function attributesOf(headers: Record<string, unknown>): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const key in headers) if (!isInternalHeader(key)) attributes[key] = headers[key];
  return attributes;
}

function truncate(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text;
}
