import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { MESSAGING_BROKER, MESSAGING_ENVELOPE } from '../constants.js';
import { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import { MessagingError, PublishError } from '../errors.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import { MessagingRecord } from './messaging-record.js';

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

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new MessagingError(`send('${String(packet.pattern)}') is not supported: the messaging transport is one-way; use emit()`), isDisposed: true });
    return () => undefined;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket): Promise<T> {
    const topic = packet.pattern;
    if (typeof topic !== 'string' || topic.length === 0) {
      throw new PublishError(`emit() needs a non-empty topic string as its pattern, got ${JSON.stringify(topic)}`);
    }
    const record = packet.data instanceof MessagingRecord ? packet.data : new MessagingRecord(packet.data);
    const { attributes = {}, groupId, deduplicationId, protoClass } = record.options;
    const envelope = record.options.envelope ? await this.envelopes.resolve(record.options.envelope) : this.envelope;
    const body = await envelope.encode(record.data, { topic, service: this.identity, protoClass });
    await this.broker.publish({ topic, body, attributes, groupId, deduplicationId });
    return undefined as T;
  }
}
