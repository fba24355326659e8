import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { AttributeValue } from '../transport/broker.js';

/** Outbound attributes typed as tomodachi types them: String, Number, Binary, and String.Array (JSON) for the rest. */
export function toSnsAttributes(attributes: Record<string, AttributeValue>): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    if (typeof value === 'string') out[key] = { DataType: 'String', StringValue: value };
    else if (typeof value === 'number') out[key] = { DataType: 'Number', StringValue: String(value) };
    else if (value instanceof Uint8Array) out[key] = { DataType: 'Binary', BinaryValue: value };
    else out[key] = { DataType: 'String.Array', StringValue: JSON.stringify(value) };
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

/** Inbound SNS notification attributes `{ Type, Value }` back to values. */
export function fromNotificationAttributes(attributes: Record<string, { Type?: string; Value?: string }> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, attr] of Object.entries(attributes ?? {})) {
    // defineProperty: a key such as "__proto__" stays an ordinary attribute instead of replacing the prototype.
    Object.defineProperty(out, key, { value: attributeValue(attr), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function attributeValue(attr: { Type?: string; Value?: string } | undefined): unknown {
  const value = attr?.Value ?? '';
  switch (attr?.Type) {
    case 'Number': {
      const n = Number(value);
      return Number.isFinite(n) ? n : value;
    }
    case 'Binary':
      return Buffer.from(value, 'base64');
    case 'String.Array':
      try {
        return JSON.parse(value);
      } catch {
        return value;
      }
    default:
      return value;
  }
}
