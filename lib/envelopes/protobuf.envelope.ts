import { Injectable } from '@nestjs/common';
import { deflateSync } from 'node:zlib';
import { EnvelopeDecodeError, PublishError } from '../errors.js';
import type { DecodedMessage, EnvelopeDecodeContext, EnvelopeEncodeContext, MessageEnvelope, ProtoClass } from './message-envelope.js';
import { DEFAULTS } from '../messaging.options.js';
import { inflateWithin } from './inflate.js';
import type { SnsSqsMessageFields } from './protobuf-schema.js';
import { requirePackages } from '../optional-package.js';
import { epochSeconds, newMessageUuid } from './envelope-fields.js';

const PROTOCOL_VERSION = 'tomodachi-protobuf-base--1.0.0';
/** tomodachi compresses serialized data longer than this many bytes. */
const COMPRESSION_THRESHOLD = 60_000;

type MessageType = (typeof import('./protobuf-schema.js'))['SnsSqsMessageType'];

let loading: Promise<MessageType> | undefined;
let loaded: MessageType | undefined;

/** protobufjs is an optional peer: loaded on first use (or at startup through prepare()), then used synchronously. */
function loadMessageType(): Promise<MessageType> {
  loading ??= requirePackages([{ name: 'protobufjs', load: () => import('protobufjs') }], 'ProtobufEnvelope')
    .then(() => import('./protobuf-schema.js'))
    .then((schema) => (loaded = schema.SnsSqsMessageType))
    .catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
  return loading;
}

/**
 * tomodachi's protobuf envelope (ProtobufBase): a base64 SNSSQSMessage whose `data` holds the serialized message.
 * Handlers name their message class with the `protoClass` extra; without one they receive the bytes as a Buffer.
 */
@Injectable()
export class ProtobufEnvelope implements MessageEnvelope {
  /** Loads protobufjs, so that a missing package fails at startup rather than on the first message. */
  async prepare(): Promise<void> {
    await loadMessageType();
  }

  encode(data: unknown, context: EnvelopeEncodeContext): string | Promise<string> {
    if (loaded) return encodeWith(loaded, data, context);
    return loadMessageType().then((type) => encodeWith(type, data, context));
  }

  decode(body: string | Buffer, context: EnvelopeDecodeContext): DecodedMessage | Promise<DecodedMessage> {
    if (loaded) return decodeWith(loaded, body, context);
    return loadMessageType().then((type) => decodeWith(type, body, context));
  }
}

function encodeWith(SnsSqsMessageType: MessageType, data: unknown, context: EnvelopeEncodeContext): string {
  const serialized = serialize(data, context);
  const compressed = serialized.length > COMPRESSION_THRESHOLD;
  const message = SnsSqsMessageType.create({
    service: { name: context.service.name, uuid: context.service.uuid },
    metadata: {
      message_uuid: context.messageUuid ?? newMessageUuid(context.service.uuid),
      protocol_version: PROTOCOL_VERSION,
      timestamp: epochSeconds(),
      topic: context.topic,
      data_encoding: compressed ? 'gzip_proto' : 'proto',
    },
    data: compressed ? deflateSync(serialized) : serialized,
  });
  return Buffer.from(SnsSqsMessageType.encode(message).finish()).toString('base64');
}

function decodeWith(SnsSqsMessageType: MessageType, body: string | Buffer, context: EnvelopeDecodeContext): DecodedMessage {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text.trim())) throw new EnvelopeDecodeError('protobuf envelope body is not base64');
  let message: SnsSqsMessageFields;
  try {
    message = SnsSqsMessageType.decode(Buffer.from(text, 'base64')) as SnsSqsMessageFields;
  } catch (error) {
    throw new EnvelopeDecodeError(`body is not a protobuf SNSSQSMessage: ${(error as Error).message}`);
  }
  const metadata = message.metadata ?? {};
  if (!metadata.protocol_version?.startsWith('tomodachi-protobuf-base')) {
    throw new EnvelopeDecodeError(
      `envelope protocol_version ${JSON.stringify(metadata.protocol_version ?? '')} is not tomodachi-protobuf-base`,
    );
  }
  const bytes = inflate(Buffer.from(message.data ?? []), metadata.data_encoding, context.maxDecodedBytes ?? DEFAULTS.maxDecodedBytes);
  return {
    data: context.protoClass ? parse(context.protoClass, bytes) : bytes,
    metadata: {
      service: message.service?.name !== undefined ? { name: message.service.name, uuid: message.service.uuid ?? '' } : undefined,
      messageUuid: metadata.message_uuid,
      protocolVersion: metadata.protocol_version,
      timestamp: metadata.timestamp,
      topic: metadata.topic,
      dataEncoding: metadata.data_encoding,
    },
  };
}

function serialize(data: unknown, context: EnvelopeEncodeContext): Uint8Array {
  if (data instanceof Uint8Array) return data;
  const protoClass = context.protoClass ?? ((data as { constructor?: unknown })?.constructor as ProtoClass | undefined);
  if (!protoClass || typeof protoClass.encode !== 'function') {
    throw new PublishError(
      `ProtobufEnvelope needs a protobuf message (an instance of a protobufjs class) or bytes for topic "${context.topic}"; pass protoClass in the MessagingRecord options`,
    );
  }
  return protoClass.encode(data).finish();
}

function inflate(bytes: Buffer, encoding: string | undefined, maxBytes: number): Buffer {
  if (encoding === 'proto' || encoding === undefined || encoding === '') return bytes;
  if (encoding !== 'gzip_proto') throw new EnvelopeDecodeError(`unknown data_encoding ${JSON.stringify(encoding)}`);
  return inflateWithin(bytes, maxBytes, 'gzip_proto data');
}

function parse(protoClass: ProtoClass, bytes: Buffer): unknown {
  try {
    return protoClass.decode(bytes);
  } catch (error) {
    throw new EnvelopeDecodeError(`data is not a valid ${protoClass.name ?? 'protobuf'} message: ${(error as Error).message}`);
  }
}
