import type { LoggerService } from '@nestjs/common';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { PublishError, PublishOutcomeUnknownError } from '../errors.js';
import type { AttributeValue } from '../transport/broker.js';
import { type AmqpConnection, type AmqpModel } from './connection.js';
import { describeError } from '../error-text.js';
import { awaitUntil } from './deadline.js';
import { toHeaders } from './headers.js';

/** One publish until its confirm: what a re-send needs, and the emit's promise. */
class Pending {
  /** Handed to a channel at least once: from then on a missing confirm leaves the outcome unknown. */
  written = false;
  /** The channel it was last written to, for the confirm callback. */
  channel?: ConfirmChannel;
  resolve!: () => void;
  reject!: (error: unknown) => void;
  readonly promise: Promise<void>;
  /** amqplib's confirm callback; one function per publish, bound to this entry. */
  readonly onConfirm: (error: unknown) => void;
  /** Its place in PendingPublishes while it awaits its confirm. */
  listed = false;
  previous?: Pending;
  next?: Pending;

  constructor(
    readonly publisher: AmqpPublisher,
    readonly exchange: string,
    readonly routingKey: string,
    readonly content: Buffer,
    readonly options: Options.Publish,
    /** On performance.now()'s clock. */
    readonly deadline: number,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.onConfirm = (error) => publisher.confirmed(this.channel!, this, error);
  }
}

/**
 * The publishes awaiting their confirm, oldest first, linked through the entries themselves. A Set of them, churned at
 * the publish rate, made the young generation's survivors several times larger (measured: ten times the bytes
 * promoted per message at 1000 in flight), and the collector's work with it; the list allocates nothing.
 */
class PendingPublishes {
  private first?: Pending;
  private last?: Pending;
  size = 0;

  add(entry: Pending): void {
    entry.listed = true;
    entry.previous = this.last;
    entry.next = undefined;
    if (this.last) this.last.next = entry;
    else this.first = entry;
    this.last = entry;
    this.size++;
  }

  /** False when the entry was not (or no longer) pending. */
  delete(entry: Pending): boolean {
    if (!entry.listed) return false;
    entry.listed = false;
    const { previous, next } = entry;
    if (previous) previous.next = next;
    else this.first = next;
    if (next) next.previous = previous;
    else this.last = previous;
    entry.previous = entry.next = undefined;
    this.size--;
    return true;
  }

  has(entry: Pending): boolean {
    return entry.listed;
  }

  /** Oldest first; the entry yielded may be deleted before the next one is taken. */
  *[Symbol.iterator](): IterableIterator<Pending> {
    for (let entry = this.first; entry;) {
      const next = entry.next;
      yield entry;
      entry = next;
    }
  }
}

/** The message cannot be encoded as an AMQP frame (headers over amqplib's 64 KB field-table buffer, unknown types). */
export class UnencodableMessageError extends PublishError {}

/**
 * Publishes on one confirm channel per connection. A publish resolves on the broker's ack and rejects with
 * PublishError when the broker nacks it, the exchange does not exist, or no connection comes within
 * amqp.publishTimeout; with PublishOutcomeUnknownError when the message was sent but no confirm came in time
 * (it may still be delivered, e.g. once a blocked connection is unblocked). A channel lost with unconfirmed messages (connection drop, or another publish to a missing
 * exchange closing the shared channel) is replaced and those messages are sent again (at-least-once).
 * Unroutable messages are not errors: a topic exchange drops what nobody subscribed to, as pub/sub should.
 */
export class AmqpPublisher {
  private channel?: ConfirmChannel;
  private opening?: Promise<ConfirmChannel>;
  private drained?: Promise<void>;
  private readonly pending = new PendingPublishes();
  /** Mandatory publishes the broker returned as unroutable (basic.return comes before their confirm): why. */
  private readonly returned = new Map<Pending, string>();
  private sweeper?: NodeJS.Timeout;
  private closed = false;
  private readonly idBase = `${randomBytes(9).toString('base64url')}.`;
  private idCounter = 0;

  constructor(
    private readonly connection: AmqpConnection,
    private readonly publishTimeout: number,
    private readonly logger: LoggerService,
  ) {}

  /**
   * Publishes a message as the library's client does: persistent, content type, headers from attributes, message id.
   * `topic` (as given to emit) names the message in errors; `extra` adds properties (e.g. an expiration);
   * `messageId` (the envelope's message uuid) gives the message_id (amqpMessageId), else the publisher makes one.
   */
  publish(
    exchange: string,
    routingKey: string,
    body: string | Buffer,
    attributes: Record<string, AttributeValue>,
    topic = routingKey,
    extra?: Options.Publish,
    messageId?: string,
  ): Promise<void> {
    let headers: Record<string, unknown> | undefined;
    try {
      headers = toHeaders(attributes, topic);
    } catch (error) {
      return Promise.reject(error);
    }
    const content = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const options: Options.Publish = {
      persistent: true,
      contentType: contentTypeOf(body),
      messageId: messageId !== undefined ? amqpMessageId(messageId) : this.nextMessageId(),
      headers,
    };
    return this.publishRaw(exchange, routingKey, content, extra ? { ...options, ...extra } : options);
  }

  /**
   * Unique message ids that cost less than a UUID on the hot path (they are encoded, sent and stored with every
   * message): a random per-publisher base plus a counter.
   */
  private nextMessageId(): string {
    return `${this.idBase}${(this.idCounter++).toString(36)}`;
  }

  /** Publishes with the given properties and resolves on the broker's confirm. */
  publishRaw(exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
    if (this.closed) return Promise.reject(new PublishError('the AMQP publisher is closed'));
    const entry = new Pending(this, exchange, routingKey, content, options, performance.now() + this.publishTimeout);
    this.pending.add(entry);
    this.ensureSweeper();
    this.send(entry);
    return entry.promise;
  }

  private send(entry: Pending): void {
    const channel = this.channel;
    if (channel && !this.drained) {
      this.write(channel, entry);
      return;
    }
    void this.sendLater(entry);
  }

  private async sendLater(entry: Pending): Promise<void> {
    try {
      for (;;) {
        if (this.drained) await this.drained;
        const channel = await this.getChannel(entry.deadline - performance.now());
        if (!this.pending.has(entry)) return;
        if (this.drained) continue;
        this.write(channel, entry);
        return;
      }
    } catch (error) {
      // sent once on a channel that was then lost: whether the broker took it is unknown
      if (entry.written) this.fail(entry, this.timeoutError(entry, error, 'before the connection was lost and the publish timeout passed'));
      else
        this.fail(
          entry,
          error instanceof PublishError
            ? error
            : new PublishError(
                `cannot publish to exchange "${entry.exchange}" with routing key "${entry.routingKey}": ${describeError(error)}`,
                { cause: error },
              ),
        );
    }
  }

  private write(channel: ConfirmChannel, entry: Pending): void {
    let ok: boolean;
    try {
      entry.channel = channel;
      ok = channel.publish(entry.exchange, entry.routingKey, entry.content, entry.options, entry.onConfirm);
    } catch (error) {
      // the channel closed under us (IllegalOperationError) or the headers cannot be encoded
      if (/Channel (closed|closing)/i.test(describeError(error))) {
        if (this.channel === channel) this.channel = undefined;
        void this.sendLater(entry);
      } else {
        this.fail(
          entry,
          new UnencodableMessageError(
            `cannot publish to exchange "${entry.exchange}" with routing key "${entry.routingKey}": ${describeError(error)}`,
            { cause: error },
          ),
        );
      }
      return;
    }
    entry.written = true;
    if (!ok && !this.drained) {
      this.drained = new Promise<void>((resolve) => {
        const done = () => {
          channel.off('drain', done);
          channel.off('close', done);
          this.drained = undefined;
          resolve();
        };
        channel.on('drain', done);
        channel.on('close', done);
      });
    }
  }

  /** @internal amqplib's confirm (or nack, or the channel's close) for `entry`, written to `channel`. */
  confirmed(channel: ConfirmChannel, entry: Pending, error: unknown): void {
    if (!this.pending.has(entry)) return;
    if (!error) {
      const unroutable = this.returned.size > 0 ? this.returned.get(entry) : undefined;
      if (unroutable !== undefined) {
        this.returned.delete(entry);
        this.fail(
          entry,
          new PublishError(
            `no queue took the message to exchange "${entry.exchange}" with routing key "${entry.routingKey}": ${unroutable}`,
          ),
        );
        return;
      }
      this.pending.delete(entry);
      entry.resolve();
      return;
    }
    // a return only counts with the confirm that follows it on the same channel; a resend starts afresh
    if (this.returned.size > 0) this.returned.delete(entry);
    if (describeError(error) === 'message nacked') {
      this.fail(
        entry,
        new PublishError(`the broker refused (nacked) the message for exchange "${entry.exchange}" with routing key "${entry.routingKey}"`),
      );
      return;
    }
    // channel closed before the confirm arrived
    const closeError = channelErrors.get(channel);
    const missing = closeError && /NOT_FOUND - no exchange '([^']*)'/.exec(closeError.message);
    if (missing && missing[1] === entry.exchange) {
      this.fail(
        entry,
        new PublishError(
          `exchange "${entry.exchange}" does not exist; declare it (a subscriber on it declares it as a durable topic exchange) or use an existing exchange`,
          { cause: closeError },
        ),
      );
      return;
    }
    if (closeError && !missing && /PRECONDITION|ACCESS_REFUSED|NOT_ALLOWED/.test(closeError.message)) {
      this.fail(entry, new PublishError(`cannot publish to exchange "${entry.exchange}": ${closeError.message}`, { cause: closeError }));
      return;
    }
    if (performance.now() >= entry.deadline || this.closed) {
      this.fail(entry, this.timeoutError(entry, error));
      return;
    }
    void this.sendLater(entry);
  }

  /** Sent but unconfirmed: the broker may still deliver it. Never sent: a definite failure. */
  private timeoutError(entry: Pending, cause?: unknown, what = `within the ${this.publishTimeout} ms publish timeout`): PublishError {
    const target = `exchange "${entry.exchange}" with routing key "${entry.routingKey}"`;
    if (!entry.written) return new PublishError(`not published to ${target}: no AMQP connection ${what}`, { cause });
    const blocked = this.connection.blocked;
    return new PublishOutcomeUnknownError(
      `no confirm from the broker for the message to ${target} ${what}${blocked ? ` (the broker blocks the connection: ${blocked})` : ''}; ` +
        'it was sent and may still be delivered: retrying the emit may deliver it twice',
      { cause },
    );
  }

  private fail(entry: Pending, error: unknown): void {
    if (this.returned.size > 0) this.returned.delete(entry);
    if (!this.pending.delete(entry)) return;
    entry.reject(error);
  }

  private getChannel(timeoutMs: number): Promise<ConfirmChannel> {
    if (this.channel) return Promise.resolve(this.channel);
    if (timeoutMs <= 0) return Promise.reject(new PublishError(`no AMQP connection within ${this.publishTimeout} ms`));
    this.opening ??= this.open(timeoutMs).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async open(timeoutMs: number): Promise<ConfirmChannel> {
    let model: AmqpModel;
    try {
      model = await this.connection.get(timeoutMs);
    } catch (error) {
      throw new PublishError(
        `cannot publish: no AMQP connection within the ${this.publishTimeout} ms publish timeout (${describeError(error)})`,
        { cause: error },
      );
    }
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => {
      channelErrors.set(channel, error);
      this.logger.warn?.(`AMQP publish channel closed by the broker: ${error.message}`);
    });
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    channel.on('return', (msg: Message) => this.onReturn(channel, msg));
    this.channel = channel;
    return channel;
  }

  /** basic.return of a mandatory publish: remembered for its confirm, which then rejects instead of resolving. */
  private onReturn(channel: ConfirmChannel, msg: Message): void {
    const { exchange, routingKey, replyCode, replyText } = msg.fields as Message['fields'] & { replyCode?: number; replyText?: string };
    for (const entry of this.pending) {
      if (
        entry.channel === channel &&
        entry.options.mandatory &&
        !this.returned.has(entry) &&
        entry.exchange === exchange &&
        entry.routingKey === routingKey &&
        entry.options.messageId === msg.properties.messageId
      ) {
        this.returned.set(entry, `${replyCode ?? ''} ${replyText ?? 'unroutable'}`.trim());
        return;
      }
    }
  }

  private ensureSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const now = performance.now();
        // oldest first, and every entry got the same timeout on the same monotonic clock: the expired ones lead
        for (const entry of this.pending) {
          if (now <= entry.deadline) break;
          this.fail(entry, this.timeoutError(entry));
        }
        if (this.pending.size === 0) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.min(1000, Math.max(50, Math.floor(this.publishTimeout / 10))),
    );
    this.sweeper.unref();
  }

  /**
   * Waits for outstanding confirms (bounded by the publish timeout and `deadline`; not at all while the broker blocks
   * the connection), then closes the channel by `deadline`.
   */
  async close(deadline = Date.now() + this.publishTimeout): Promise<void> {
    const waitUntil = Math.min(deadline, Date.now() + this.publishTimeout);
    while (this.pending.size > 0 && Date.now() < waitUntil && !this.connection.blocked) await new Promise((r) => setTimeout(r, 10));
    this.closed = true;
    for (const entry of this.pending) this.fail(entry, this.timeoutError(entry, undefined, 'before the AMQP publisher was closed'));
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    const channel = this.channel;
    this.channel = undefined;
    if (channel && !this.connection.blocked) await awaitUntil(channel.close(), deadline);
  }
}

const channelErrors = new WeakMap<object, Error>();

/**
 * The AMQP message_id of a message whose envelope uuid is `messageUuid`: the uuid's own part, after the service
 * uuid and its dot (tomodachi's `<service uuid>.<uuid4>`), a uuid4 itself. The whole 73 characters pushed the
 * encoded properties past what RabbitMQ handles cheaply (measured on 3.10: with properties over about 64 bytes the
 * broker spent a quarter more CPU per message, and end-to-end throughput fell by as much). The whole uuid stays in the
 * envelope (ctx.getEnvelope().messageUuid).
 */
export function amqpMessageId(messageUuid: string): string {
  return messageUuid.slice(messageUuid.lastIndexOf('.') + 1);
}

/** JSON envelopes are application/json; other strings text/plain; binary application/octet-stream. */
export function contentTypeOf(body: string | Buffer): string {
  if (typeof body !== 'string') return 'application/octet-stream';
  return body.charCodeAt(0) === 123 /* { */ ? 'application/json' : 'text/plain';
}
