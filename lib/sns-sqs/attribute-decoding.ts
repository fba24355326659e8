import type { LoggerService } from '@nestjs/common';

/** Called for an attribute whose value does not parse as its data type; the value is then passed on as its string. */
export type InvalidAttribute = (name: string, type: string, value: string, problem: string) => void;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Attribute names a consumer remembers having warned about; past this, it stops adding (a producer may invent names). */
const MAX_WARNED = 1000;

/**
 * One incoming attribute value by its data type, as SNS notifications and SQS messages carry them: Number → number,
 * Binary → Buffer (base64 in a notification, bytes at SQS level), String.Array → the parsed JSON (an array; this library
 * and tomodachi also send booleans and null this way), String → string. SQS custom types (`Number.int`, `Binary.png`,
 * `String.id`) decode by their base type. A value that does not parse is returned as its string and reported.
 */
export function decodeAttribute(
  name: string,
  type: string | undefined,
  value: string,
  onInvalid?: InvalidAttribute,
  bytes?: Uint8Array,
): unknown {
  const base = type === 'String.Array' ? type : type?.split('.')[0];
  switch (base) {
    case undefined:
    case '':
    case 'String':
      return value;
    case 'Number': {
      const n = NUMBER.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n)) return invalid(onInvalid, name, type!, value, 'is not a valid Number');
      if (Number.isInteger(n) && !Number.isSafeInteger(n) && !/[.eE]/.test(value))
        return invalid(onInvalid, name, type!, value, 'is an integer beyond Number.MAX_SAFE_INTEGER (a number would lose digits)');
      return n;
    }
    case 'Binary':
      if (bytes) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return BASE64.test(value) ? Buffer.from(value, 'base64') : invalid(onInvalid, name, type!, value, 'is not valid base64 Binary');
    case 'String.Array':
      try {
        return JSON.parse(value);
      } catch {
        return invalid(onInvalid, name, type!, value, 'is not a JSON array');
      }
    default:
      return invalid(onInvalid, name, type!, value, `has the unknown data type "${type}"`);
  }
}

function invalid(onInvalid: InvalidAttribute | undefined, name: string, type: string, value: string, problem: string): string {
  onInvalid?.(name, type, value, problem);
  return value;
}

/** Logs an undecodable attribute once per attribute name (per consumer), so a misbehaving producer cannot flood the log. */
export function attributeWarnings(logger: LoggerService, queue: string): InvalidAttribute {
  const warned = new Set<string>();
  return (name, type, value, problem) => {
    if (warned.has(name) || warned.size >= MAX_WARNED) return;
    warned.add(name);
    const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
    logger.warn?.(
      `Attribute "${name}" (${type}) of a message on ${queue} ${problem}: ${JSON.stringify(shown)}; handlers get it as a string (logged once per attribute name)`,
    );
  };
}
