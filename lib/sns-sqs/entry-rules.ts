import { PublishError } from '../errors.js';

/**
 * AWS's per-message rules that SNS and SQS enforce on each entry of a PublishBatch / SendMessageBatch, checked before
 * the message joins a batch: a message AWS would refuse then fails alone, with what to change, instead of riding in a
 * batch that AWS (or an emulator) may refuse as a whole. One place for SNS topics and SQS queues.
 */

/** Where a message goes, for the error text: `topic "orders"` / `queue "billing"`. */
export type EntryTarget = 'topic' | 'queue';

/** SQS takes at most 10 message attributes per message (SNS more, unless a subscription uses raw delivery). */
export const MAX_SQS_MESSAGE_ATTRIBUTES = 10;
const MAX_ATTRIBUTE_NAME_LENGTH = 256;
/** MessageGroupId / MessageDeduplicationId: 1-128 characters, letters, digits and punctuation (printable ASCII, no space). */
const FIFO_ID = /^[\x21-\x7e]{1,128}$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]+$/;
const RESERVED_NAME_PREFIX = /^(aws|amazon)\./i;
/** Characters AWS refuses in message content (string attribute values share the body's rules). */
const INVALID_CONTENT_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** The same without the astral planes, by UTF-16 unit (faster): no match means valid; a match is checked precisely. */
const MAYBE_INVALID_CONTENT = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD]/;
/** Names found valid so far (an application uses a few, on every emit): checked once each, up to this many. */
const knownNames = new Set<string>();
const KNOWN_NAMES_MAX = 1024;
/** AWS Number attributes: magnitude from 10^-128 to 10^126 (or zero). */
const NUMBER_MAX = 1e126;
const NUMBER_MIN = 1e-128;

/** The PublishError for a message to `target` that breaks `rule` (a sentence that says what to change). */
export function entryRefused(kind: EntryTarget, target: string, rule: string): PublishError {
  return new PublishError(`Cannot ${kind === 'topic' ? 'publish to topic' : 'send to queue'} "${target}": ${rule}`);
}

/** Why AWS would refuse this attribute name, or undefined when it takes it. */
export function attributeNameRule(name: string): string | undefined {
  if (knownNames.has(name)) return undefined;
  const rule = nameRule(name);
  if (rule === undefined && knownNames.size < KNOWN_NAMES_MAX) knownNames.add(name);
  return rule;
}

function nameRule(name: string): string | undefined {
  if (name.length === 0) return 'an attribute has an empty name; give it a name';
  if (name.length > MAX_ATTRIBUTE_NAME_LENGTH)
    return `attribute ${quote(name)} has a ${name.length}-character name, over AWS's ${MAX_ATTRIBUTE_NAME_LENGTH}-character limit; use a shorter name`;
  if (!ATTRIBUTE_NAME.test(name)) return refusedName(name, 'only A-Z, a-z, 0-9, "_", "-" and "." are allowed');
  if (RESERVED_NAME_PREFIX.test(name)) return refusedName(name, 'names starting with "AWS." or "Amazon." (any case) are reserved for AWS');
  if (name.startsWith('.') || name.endsWith('.')) return refusedName(name, 'it must not start or end with a period');
  if (name.includes('..')) return refusedName(name, 'it must not contain two periods in a row');
  return undefined;
}

function refusedName(name: string, rule: string): string {
  return `attribute ${quote(name)} has a name AWS refuses: ${rule}; rename it`;
}

/** Why AWS would refuse this string attribute value (String, or the JSON of a String.Array), or undefined. */
export function stringValueRule(name: string, value: string): string | undefined {
  if (value.length === 0)
    return `attribute ${quote(name)} is an empty string, and AWS refuses empty attribute values; leave the attribute out or give it a value`;
  if (!MAYBE_INVALID_CONTENT.test(value)) return undefined;
  const bad = INVALID_CONTENT_CHAR.exec(value);
  if (bad)
    return `attribute ${quote(name)} contains ${codePoint(bad[0])} at index ${bad.index}, a character AWS refuses in message content (allowed: tab, line feed, carriage return, U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF); remove it, or send the value as a Buffer (Binary)`;
  return undefined;
}

/** Why AWS would refuse this binary attribute value, or undefined. */
export function binaryValueRule(name: string, value: Uint8Array): string | undefined {
  if (value.byteLength === 0)
    return `attribute ${quote(name)} is an empty Buffer, and AWS refuses empty attribute values; leave the attribute out or give it bytes`;
  return undefined;
}

/** Why AWS would refuse this number as a Number attribute, or undefined. */
export function numberValueRule(name: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return `attribute ${quote(name)} is ${value}; Number attributes must be finite`;
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude > NUMBER_MAX || magnitude < NUMBER_MIN))
    return `attribute ${quote(name)} is ${value}, outside the range of AWS Number attributes (10^-128 to 10^126); send it as a string`;
  return undefined;
}

/** Why SQS would refuse this many attributes, or undefined (SNS takes more than 10 on its non-raw subscriptions). */
export function attributeCountRule(kind: EntryTarget, names: readonly string[]): string | undefined {
  if (kind !== 'queue' || names.length <= MAX_SQS_MESSAGE_ATTRIBUTES) return undefined;
  const traced = names.includes('traceparent') ? ' (with tracing on, traceparent and tracestate count too)' : '';
  return `${names.length} message attributes (${names.map(quote).join(', ')}) are over SQS's limit of ${MAX_SQS_MESSAGE_ATTRIBUTES} per message${traced}; send at most ${MAX_SQS_MESSAGE_ATTRIBUTES}, and move the rest into the message data`;
}

/**
 * FIFO ids: a groupId / deduplicationId AWS would refuse (it takes 1-128 letters, digits and punctuation), and a
 * deduplicationId without a groupId (a message reaches a FIFO topic only with a groupId). Throws entryRefused.
 */
export function checkFifoIds(kind: EntryTarget, target: string, groupId: unknown, deduplicationId: unknown): void {
  if (groupId === undefined) {
    if (deduplicationId !== undefined && kind === 'topic')
      throw entryRefused(
        kind,
        target,
        'deduplicationId is set but groupId is not: FIFO topics need a message group; add groupId (or drop deduplicationId for a standard topic)',
      );
    return;
  }
  if (typeof groupId !== 'string' || !FIFO_ID.test(groupId))
    throw entryRefused(kind, target, `groupId ${describeId(groupId)} ${FIFO_ID_RULE}`);
  if (deduplicationId !== undefined && (typeof deduplicationId !== 'string' || !FIFO_ID.test(deduplicationId)))
    throw entryRefused(kind, target, `deduplicationId ${describeId(deduplicationId)} ${FIFO_ID_RULE}`);
}

const FIFO_ID_RULE =
  'is not one AWS takes: it must be 1 to 128 characters of letters, digits and punctuation (no spaces, ASCII only); change it';

/** Why AWS would refuse this message body, or undefined (the size is checked with the attributes, by the caller). */
export function bodyRule(body: string): string | undefined {
  return body.length === 0
    ? 'the message body is empty (the envelope produced no bytes), and AWS refuses empty messages; send some data'
    : undefined;
}

function quote(name: string): string {
  return JSON.stringify(name.length > 60 ? `${name.slice(0, 60)}…` : name);
}

function describeId(id: unknown): string {
  return typeof id === 'string' ? quote(id) : `(a ${typeof id})`;
}

function codePoint(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}
