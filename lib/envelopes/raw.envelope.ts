import { Injectable } from '@nestjs/common';
import { PublishError } from '../errors.js';
import type { DecodedMessage, MessageEnvelope } from './message-envelope.js';

/** No envelope: a string or Buffer is the body as it is, and handlers receive the body as a string. */
@Injectable()
export class RawEnvelope implements MessageEnvelope {
  encode(data: unknown, context: { topic: string }): string | Buffer {
    if (typeof data === 'string' || Buffer.isBuffer(data)) return data;
    if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    throw new PublishError(
      `RawEnvelope sends strings and Buffers only; topic "${context.topic}" got ${data === null ? 'null' : typeof data}. Serialize it first or use JsonEnvelope`,
    );
  }

  decode(body: string | Buffer): DecodedMessage<string> {
    return { data: typeof body === 'string' ? body : body.toString('utf8'), metadata: {} };
  }
}
