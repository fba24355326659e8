import { Inject, Injectable, Optional } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { Observable, Subject } from 'rxjs';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE } from '../constants.js';
import { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import { newMessageUuid } from '../envelopes/envelope-fields.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import { MessagingError, PublishError, PublishOutcomeUnknownError } from '../errors.js';
import { MESSAGING_TRACING } from '../observability/observability.tokens.js';
import { ListenerList } from '../observability/listener-list.js';
import type { PublishEvent, PublishListener } from '../observability/publish-event.js';
import type { MessagingTracing } from '../observability/tracing/messaging-tracing.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import { MessagingRecord, type MessagingRecordOptions } from './messaging-record.js';
import { checkSendToQueue, type SendToQueueOptions } from './send-to-queue-options.js';

const ignore = () => undefined;

/**
 * The outcome of a publish already under way, for every subscriber: its value then completion, or its error. Half the
 * objects of rxjs's `from(promise)`, which each emit keeps alive until its confirm (measured: the emit path's CPU per
 * message nearly halved at 1000 emits in flight).
 */
function observeOutcome<T>(outcome: Promise<T>): Observable<T> {
  outcome.catch(ignore); // nobody may subscribe; the error still reaches every subscriber
  return new Observable<T>((subscriber) => {
    outcome.then(
      (value) => {
        try {
          subscriber.next(value);
          subscriber.complete();
        } catch (error) {
          reportThrownBySubscriber(error);
        }
      },
      (error: unknown) => {
        try {
          subscriber.error(error);
        } catch (thrown) {
          reportThrownBySubscriber(thrown);
        }
      },
    );
  });
}

/** What a subscriber threw (only rxjs's deprecated synchronous error handling lets it through): thrown, as rxjs reports it. */
function reportThrownBySubscriber(error: unknown): void {
  setTimeout(() => {
    throw error;
  });
}

const NO_OPTIONS: MessagingRecordOptions = Object.freeze({});
const NO_ATTRIBUTES = Object.freeze({});

/**
 * Publishes events: `emit(topic, data | MessagingRecord)` encodes through the envelope and resolves once the
 * broker accepted the message. Request-response (`send`) is not part of this transport.
 */
@Injectable()
export class MessagingClient extends ClientProxy<Record<never, Function>, BrokerStatus> {
  private readonly publishes = new Subject<PublishEvent>();
  private readonly publishListeners = new ListenerList<PublishListener>();
  /** Every emit's result (success, failure, unknown) and duration; only measured while someone subscribes. */
  readonly published$: Observable<PublishEvent> = this.publishes.asObservable();

  constructor(
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_ENVELOPE) private readonly envelope: MessageEnvelope,
    private readonly envelopes: EnvelopeResolver,
    private readonly identity: ServiceIdentity,
    @Optional() @Inject(MESSAGING_TRACING) private readonly tracing?: MessagingTracing,
  ) {
    super();
    broker.status$.subscribe((status) => this._status$.next(status));
  }

  async connect(): Promise<void> {}

  /** The connection belongs to the module and closes with the application. */
  async close(): Promise<void> {}

  unwrap<T>(): T {
    return this.broker.unwrap() as T;
  }

  /**
   * Publishes at once (a subscriber is not needed) and returns an observable that completes when the broker
   * accepted the message. Same contract as ClientProxy.emit, without its per-message connect/connectable rxjs chain,
   * which cost more CPU than the publish itself on the hot path.
   */
  emit<TResult = undefined, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    const packet: ReadPacket = { pattern, data };
    // the hook Nest 12 lets instrumentation set with setOnDispatchHook (Nest 11 has none)
    (this as unknown as { onDispatchHook?: (packet: ReadPacket) => void }).onDispatchHook?.(packet);
    return observeOutcome(this.dispatchEvent<TResult>(packet));
  }

  /**
   * Sends straight to one existing queue (a name, which gets queueNamePrefix, an SQS queue URL or an SQS queue ARN):
   * no topic, no fan-out. Like emit, it sends at once and returns an observable that completes when the broker
   * accepted the message (`await lastValueFrom(client.sendToQueue(...))`) and errors with a PublishError otherwise.
   */
  sendToQueue<TInput = unknown>(queue: string, data: TInput, options: SendToQueueOptions = {}): Observable<void> {
    return observeOutcome(this.encodeAndSend(queue, data, options));
  }

  private async encodeAndSend(queue: string, data: unknown, options: SendToQueueOptions): Promise<void> {
    checkSendToQueue(queue, options);
    const broker = this.broker;
    if (!broker.sendToQueue) throw new PublishError(`sendToQueue('${queue}') is not supported by this broker`);
    const envelope = options.envelope ? await this.envelopes.resolve(options.envelope) : this.envelope;
    const topic = options.topic ?? '';
    const messageId = newMessageUuid(this.identity.uuid);
    const body = await envelope.encode(data, { topic, service: this.identity, protoClass: options.protoClass, messageUuid: messageId });
    const { delaySeconds, groupId, deduplicationId } = options;
    const send = (attributes: MessagingRecordOptions['attributes'] & object) =>
      broker.sendToQueue!({ queue, body, attributes, delaySeconds, groupId, deduplicationId, messageId });
    const attributes = options.attributes ?? NO_ATTRIBUTES;
    if (this.tracing) return this.tracing.publish(topic || queue, attributes, send);
    return send(attributes);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({
      err: new MessagingError(`send('${String(packet.pattern)}') is not supported: the messaging transport is one-way; use emit()`),
      isDisposed: true,
    });
    return () => undefined;
  }

  /** Told of every emit's result with plain arguments; returns the function that removes the listener. */
  addPublishListener(listener: PublishListener): () => void {
    return this.publishListeners.add(listener);
  }

  protected dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    if (this.publishListeners.items.length === 0 && !this.publishes.observed) return this.encodeAndPublish<T>(packet);
    const started = performance.now();
    const topic = typeof packet.pattern === 'string' ? packet.pattern : String(packet.pattern);
    return this.encodeAndPublish<T>(packet).then(
      (result) => {
        this.reportPublish(topic, 'success', performance.now() - started);
        return result;
      },
      (error: unknown) => {
        this.reportPublish(topic, error instanceof PublishOutcomeUnknownError ? 'unknown' : 'failure', performance.now() - started, error);
        throw error;
      },
    );
  }

  private reportPublish(topic: string, outcome: PublishEvent['outcome'], durationMs: number, error?: unknown): void {
    for (const listener of this.publishListeners.items) listener.published(topic, outcome, durationMs);
    if (this.publishes.observed) this.publishes.next({ topic, outcome, durationMs, ...(error !== undefined ? { error } : {}) });
  }

  /** Synchronous up to the broker call when the envelope encodes synchronously: no async frame per emit. */
  private encodeAndPublish<T>(packet: ReadPacket): Promise<T> {
    try {
      const topic = packet.pattern;
      if (typeof topic !== 'string' || topic.length === 0) {
        throw new PublishError(`emit() needs a non-empty topic string as its pattern, got ${JSON.stringify(topic)}`);
      }
      const record = packet.data instanceof MessagingRecord ? packet.data : undefined;
      const options = record?.options ?? NO_OPTIONS;
      if (options.envelope) return this.publishWithEnvelope<T>(topic, record!.data, options);
      const messageId = newMessageUuid(this.identity.uuid);
      const encoded = this.envelope.encode(record ? record.data : packet.data, {
        topic,
        service: this.identity,
        protoClass: options.protoClass,
        messageUuid: messageId,
      });
      if (typeof encoded === 'string' || Buffer.isBuffer(encoded))
        return this.publishEncoded(topic, encoded, options, messageId) as Promise<T>;
      return encoded.then((body) => this.publishEncoded(topic, body, options, messageId)) as Promise<T>;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private async publishWithEnvelope<T>(topic: string, data: unknown, options: MessagingRecordOptions): Promise<T> {
    const envelope = await this.envelopes.resolve(options.envelope!);
    const messageId = newMessageUuid(this.identity.uuid);
    const encoded = envelope.encode(data, { topic, service: this.identity, protoClass: options.protoClass, messageUuid: messageId });
    await this.publishEncoded(topic, typeof encoded === 'string' || Buffer.isBuffer(encoded) ? encoded : await encoded, options, messageId);
    return undefined as T;
  }

  private publishEncoded(topic: string, body: string | Buffer, options: MessagingRecordOptions, messageId: string): Promise<void> {
    const attributes = options.attributes ?? NO_ATTRIBUTES;
    const { groupId, deduplicationId, exchange } = options;
    if (this.tracing)
      return this.tracing.publish(topic, attributes, (traced) =>
        this.broker.publish({ topic, body, attributes: traced, groupId, deduplicationId, exchange, messageId }),
      );
    return this.broker.publish({ topic, body, attributes, groupId, deduplicationId, exchange, messageId });
  }
}
