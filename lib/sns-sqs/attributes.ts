import { PublishError } from '../errors.js';
import type { MessageAttributeValue } from '@aws-sdk/client-sns';
import type { AttributeValue } from '../transport/broker.js';
import { decodeAttribute, type InvalidAttribute } from './attribute-decoding.js';
import {
  attributeCountRule,
  attributeNameRule,
  binaryValueRule,
  entryRefused,
  type EntryTarget,
  MAX_SQS_MESSAGE_ATTRIBUTES,
  numberValueRule,
  stringValueRule,
} from './entry-rules.js';

/**
 * Outbound attributes typed as tomodachi types them: String, Number, Binary, and String.Array (JSON) for the rest.
 * A name or value AWS would refuse (entry-rules.ts), or one SNS/SQS cannot carry, is a PublishError naming the topic
 * (or queue), the attribute and the rule.
 */
export function toSnsAttributes(
  attributes: Record<string, AttributeValue>,
  target = '(unknown)',
  kind: EntryTarget = 'topic',
): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  const refuse = (rule: string) => entryRefused(kind, target, rule);
  let count = 0;
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    const value = attributes[key];
    if (value === undefined) continue;
    count += 1;
    const nameRule = attributeNameRule(key);
    if (nameRule) throw refuse(nameRule);
    const type = typeof value;
    if (type === 'bigint') throw refuse(`attribute "${key}" is a BigInt (${String(value)}n); pass it as a number (when safe) or a string`);
    if (type === 'function' || type === 'symbol')
      throw refuse(`attribute "${key}" is a ${type}; attributes are strings, numbers, Buffers or JSON arrays`);
    let rule: string | undefined;
    if (typeof value === 'string') {
      rule = stringValueRule(key, value);
      out[key] = { DataType: 'String', StringValue: value };
    } else if (typeof value === 'number') {
      rule = numberValueRule(key, value);
      out[key] = { DataType: 'Number', StringValue: String(value) };
    } else if (value instanceof Uint8Array) {
      rule = binaryValueRule(key, value);
      out[key] = { DataType: 'Binary', BinaryValue: value };
    } else {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch (error) {
        throw new PublishError(
          `${kind === 'topic' ? 'Cannot publish to topic' : 'Cannot send to queue'} "${target}": attribute "${key}" cannot be sent as JSON (${(error as Error).message})`,
          { cause: error },
        );
      }
      rule = stringValueRule(key, json ?? 'null');
      out[key] = { DataType: 'String.Array', StringValue: json ?? 'null' };
    }
    if (rule) throw refuse(rule);
  }
  if (count > MAX_SQS_MESSAGE_ATTRIBUTES) {
    const countRule = attributeCountRule(kind, Object.keys(out));
    if (countRule) throw refuse(countRule);
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
