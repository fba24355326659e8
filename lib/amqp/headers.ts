import { PublishError } from '../errors.js';
import type { AttributeValue } from '../transport/broker.js';

/**
 * MessagingRecord attributes as AMQP header values (strings, finite numbers, booleans, null, byte arrays, arrays of
 * these). Anything else (BigInt, Symbol, function, NaN, an object) fails here with a PublishError naming the topic
 * and the attribute, instead of a bare TypeError from deep inside the encoder.
 */
export function toHeaders(attributes: Record<string, AttributeValue>, topic = '(unknown)'): Record<string, unknown> | undefined {
  let headers: Record<string, unknown> | undefined;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined) continue;
    const problem = unencodable(value);
    if (problem) {
      throw new PublishError(
        `cannot publish to topic "${topic}": attribute "${key}" is ${problem}; AMQP headers take strings, finite numbers, booleans, null, Buffer/Uint8Array and arrays of these`,
      );
    }
    headers ??= {};
    headers[key] = value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value) : value;
  }
  return headers;
}

function unencodable(value: unknown, depth = 0): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `the number ${value}`;
    case 'bigint':
      return `a BigInt (${value}n); pass it as a string or a number`;
    case 'symbol':
      return 'a Symbol';
    case 'function':
      return 'a function';
    case 'undefined':
      return depth > 0 ? 'an array holding undefined' : undefined;
    default:
      if (value === null || value instanceof Uint8Array) return undefined;
      if (Array.isArray(value)) {
        for (const item of value) {
          const problem = unencodable(item, depth + 1);
          if (problem) return depth === 0 ? `an array holding ${problem}` : problem;
        }
        return undefined;
      }
      return `an object (${Object.prototype.toString.call(value)}); serialize it to a string`;
  }
}
