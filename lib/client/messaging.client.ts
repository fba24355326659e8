import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { from, type Observable } from 'rxjs';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE } from '../constants.js';
import { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import { MessagingError, PublishError } from '../errors.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import { MessagingRecord, type MessagingRecordOptions } from './messaging-record.js';

const NO_OPTIONS: MessagingRecordOptions = Object.freeze({});
const NO_ATTRIBUTES = Object.freeze({});

/**
 * Publishes events: `emit(topic, data | MessagingRecord)` encodes through the envelope and resolves once the
 * broker accepted the message. Request-response (`send`) is not part of this transport.
 */
@Injectable()
export class MessagingClient extends ClientProxy<Record<never, Function>, BrokerStatus> {
  constructor(
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_ENVELOPE) private readonly envelope: MessageEnvelope,
    private readonly envelopes: EnvelopeResolver,
    private readonly identity: ServiceIdentity,
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
    const published = this.dispatchEvent<TResult>(packet);
    published.catch(() => undefined); // nobody may subscribe; the error still reaches every subscriber
    return from(published);
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new MessagingError(`send('${String(packet.pattern)}') is not supported: the messaging transport is one-way; use emit()`), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const topic = packet.pattern;
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new PublishError(`emit() needs a non-empty topic string as its pattern, got ${JSON.stringify(topic)}`);
    }
    const record = packet.data instanceof MessagingRecord ? packet.data : undefined;
    const data = record ? record.data : packet.data;
    const options = record?.options ?? NO_OPTIONS;
    const envelope = options.envelope ? await this.envelopes.resolve(options.envelope) : this.envelope;
    const encoded = envelope.encode(data, { topic, service: this.identity, protoClass: options.protoClass });
    const body = typeof encoded === 'string' || Buffer.isBuffer(encoded) ? encoded : await encoded;
    await this.broker.publish({ topic, body, attributes: options.attributes ?? NO_ATTRIBUTES, groupId: options.groupId, deduplicationId: options.deduplicationId });
    return undefined as T;
  }
}
