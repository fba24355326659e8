import { createHash } from 'node:crypto';

const FORBIDDEN = /[^A-Za-z0-9_-]/gu;
/** AMQP routing keys: everything outside printable ASCII (space to `~`; `*` and `#` included) is escaped. */
const OUTSIDE_PRINTABLE_ASCII = /[^\x20-\x7e]/gu;
const ENCODED = /___((?:[0-9a-f]{2})+)_/g;

/**
 * tomodachi's one reversible escape, the rule behind every encoded name: each character `forbidden` matches (a global
 * regular expression over code points) becomes `___<its utf-8 bytes in lowercase hex>_`; `decodeName` undoes it.
 */
export function escapeCharacters(text: string, forbidden: RegExp): string {
  return text.replace(forbidden, hexEscape);
}

function hexEscape(char: string): string {
  return `___${Buffer.from(char, 'utf8').toString('hex')}_`;
}

/** tomodachi's reversible name encoding: every character outside [A-Za-z0-9_-] becomes `___<utf-8 hex>_`. */
export function encodeName(name: string): string {
  return escapeCharacters(name, FORBIDDEN);
}

export function decodeName(encoded: string): string {
  return encoded.includes('___') ? encoded.replace(ENCODED, (_match, hex: string) => Buffer.from(hex, 'hex').toString('utf8')) : encoded;
}

/**
 * An AMQP routing key or binding pattern as tomodachi publishes and binds it (`encode_routing_key`): the same escape,
 * applied to characters outside printable ASCII only (`t1.menu.café` → `t1.menu.caf___c3a9_`; `*`, `#` kept).
 */
export function encodeRoutingKey(routingKey: string): string {
  return escapeCharacters(routingKey, OUTSIDE_PRINTABLE_ASCII);
}

/** The routing key a message was published with, as the handler names it (tomodachi's `decode_routing_key`). */
export function decodeRoutingKey(encoded: string): string {
  return decodeName(encoded);
}

/**
 * Shortens a generated name to `max` characters, keeping its readable start and replacing the rest with a
 * hash so that distinct long names stay distinct (and stable across restarts).
 */
export function fitName(name: string, max: number): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 10);
  return `${name.slice(0, max - hash.length - 1)}-${hash}`;
}

/** What the library appends to a queue's name to name its dead-letter queue; build names with deadLetterQueueName. */
export const DEAD_LETTER_SUFFIX = '-dlq';

/**
 * The dead-letter queue the library names for a queue, on both transports: `<queue>-dlq` (on SNS+SQS before the
 * `.fifo` of a FIFO queue: sqsDeadLetterQueueNameOf in lib/sns-sqs/naming.ts).
 */
export function deadLetterQueueName(queue: string): string {
  return `${queue}${DEAD_LETTER_SUFFIX}`;
}

/** The queue whose dead-letter queue (as deadLetterQueueName names it) this is; undefined for any other name. */
export function deadLetterSourceName(queue: string): string | undefined {
  return queue.endsWith(DEAD_LETTER_SUFFIX) ? queue.slice(0, -DEAD_LETTER_SUFFIX.length) : undefined;
}
