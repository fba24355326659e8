import { PublishError } from '../errors.js';
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { AttributeValue } from '../transport/broker.js';
import { decodeAttribute, type InvalidAttribute } from './attribute-decoding.js';

/**
 * Outbound attributes typed as tomodachi types them: String, Number, Binary, and String.Array (JSON) for the rest.
 * A value SNS cannot carry is a PublishError naming the topic and the attribute.
 */
export function toSnsAttributes(attributes: Record<string, AttributeValue>, topic = '(unknown)'): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  const refuse = (key: string, what: string) => new PublishError(`Cannot publish to topic "${topic}": attribute "${key}" ${what}`);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    const type = typeof value;
    if (type === 'bigint') throw refuse(key, `is a BigInt (${String(value)}n); pass it as a number (when safe) or a string`);
    if (type === 'function' || type === 'symbol')
      throw refuse(key, `is a ${type}; attributes are strings, numbers, Buffers or JSON arrays`);
    if (typeof value === 'string') out[key] = { DataType: 'String', StringValue: value };
    else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw refuse(key, `is ${value}; SNS Number attributes must be finite`);
      out[key] = { DataType: 'Number', StringValue: String(value) };
    } else if (value instanceof Uint8Array) out[key] = { DataType: 'Binary', BinaryValue: value };
    else {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (error) {
        throw new PublishError(
          `Cannot publish to topic "${topic}": attribute "${key}" cannot be sent as JSON (${(error as Error).message})`,
          { cause: error },
        );
      }
      out[key] = { DataType: 'String.Array', StringValue: json ?? 'null' };
    }
  }
  return out;
}

/** Bytes SNS counts for the attributes: name, data type and value of each. */
export function attributesSize(attributes: Record<string, MessageAttributeValue>): number {
  let size = 0;
  for (const [key, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(key) + Buffer.byteLength(value.DataType ?? '');
    size += value.BinaryValue ? value.BinaryValue.byteLength : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

/** Inbound SNS notification attributes `{ Type, Value }` back to values (see decodeAttribute). */
export function fromNotificationAttributes(
  attributes: Record<string, { Type?: string; Value?: string }> | undefined,
  onInvalid?: InvalidAttribute,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, attr] of Object.entries(attributes ?? {})) {
    const value = decodeAttribute(key, attr?.Type, attr?.Value ?? '', onInvalid);
    // defineProperty: a key such as "__proto__" stays an ordinary attribute instead of replacing the prototype.
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
