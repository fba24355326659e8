import { decodeRoutingKey, encodeRoutingKey } from '../naming.js';

/** Delay queue whose messages dead-letter back into the main queue when their per-message TTL expires. */
export function retryQueueName(queue: string): string {
  return `${queue}-retry`;
}

/** Broker-side headers this transport sets or RabbitMQ adds; they are not handed to handlers as attributes. */
export const HEADER = {
  originalRoutingKey: 'x-original-routing-key',
  originalExchange: 'x-original-exchange',
  receiveCount: 'x-receive-count',
  deadLetterReason: 'x-dead-letter-reason',
  lastError: 'x-last-error',
} as const;

const INTERNAL_HEADERS = new Set<string>([
  ...Object.values(HEADER),
  'x-death',
  // a quorum queue's count of this message's redeliveries
  'x-delivery-count',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
]);

export function isInternalHeader(name: string): boolean {
  return INTERNAL_HEADERS.has(name);
}

/** The exchanges a queue's subscriptions bind on. */
export function exchangeOf(subscriptionExchange: string | undefined, defaultExchange: string): string {
  return subscriptionExchange ?? defaultExchange;
}

/** RabbitMQ reserves `amq.*` names; such exchanges exist already and are never declared. */
export function isReservedName(name: string): boolean {
  return name.startsWith('amq.');
}

/**
 * The routing key a topic (or binding pattern) is published and bound with: topicPrefix + topic, encoded as tomodachi
 * encodes routing keys (characters outside printable ASCII as `___<utf-8 hex>_`), so both sides meet on the wire.
 */
export function routingKeyOf(topicPrefix: string, topic: string): string {
  return encodeRoutingKey(`${topicPrefix}${topic}`);
}

/** The topic a routing key carries, as the handler names it: decoded, without topicPrefix. */
export function topicOfRoutingKey(routingKey: string, topicPrefix: string): string {
  const key = decodeRoutingKey(routingKey);
  return topicPrefix && key.startsWith(topicPrefix) ? key.slice(topicPrefix.length) : key;
}
