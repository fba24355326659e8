import type { ConsumeMessage, Options } from 'amqplib';
import { HEADER, isInternalHeader } from './naming.js';

/** Header that lists the user headers left off a republished message because they did not fit. */
const DROPPED_HEADERS = 'x-dropped-headers';
/** Keep a republished message's headers well under amqplib's 64 KB field-table encoding buffer. */
const HEADER_BUDGET_BYTES = 48 * 1024;

/**
 * The original message's properties for a republish to the retry queue or DLQ, with this transport's headers added;
 * mandatory, so that the publish fails when the queue no longer exists.
 */
export function republishProperties(
  msg: ConsumeMessage,
  routingKey: string,
  attempts: number,
  extra: Record<string, unknown>,
): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(p.headers ?? {})) {
    if (key !== 'x-death' && key !== 'x-delivery-count' && !key.startsWith('x-first-death-') && !key.startsWith('x-last-death-'))
      headers[key] = value;
  }
  headers[HEADER.originalRoutingKey] = routingKey;
  if (msg.fields.exchange && headers[HEADER.originalExchange] === undefined) headers[HEADER.originalExchange] = msg.fields.exchange;
  headers[HEADER.receiveCount] = attempts;
  Object.assign(headers, extra);
  return {
    persistent: true,
    // published to the default exchange: a queue that is gone must fail the move, not swallow the message
    mandatory: true,
    headers,
    contentType: p.contentType,
    contentEncoding: p.contentEncoding,
    messageId: p.messageId,
    correlationId: p.correlationId,
    timestamp: p.timestamp,
    type: p.type,
    appId: p.appId,
  };
}

/**
 * The same properties with the largest user headers left off until the rest fits the budget (all of them if need
 * be); the names left off are listed in `x-dropped-headers`. Used only when the full set cannot be encoded.
 */
export function withoutLargeHeaders(properties: Options.Publish, dropAll = false): { properties: Options.Publish; dropped: string[] } {
  const headers = { ...(properties.headers as Record<string, unknown>) };
  const user = Object.keys(headers).filter((k) => !isInternalHeader(k) && k !== DROPPED_HEADERS);
  let total = Object.entries(headers).reduce((sum, [k, v]) => sum + approximateSize(k, v), 0);
  const dropped: string[] = [];
  for (const key of user.sort((a, b) => approximateSize(b, headers[b]) - approximateSize(a, headers[a]))) {
    if (!dropAll && total <= HEADER_BUDGET_BYTES) break;
    total -= approximateSize(key, headers[key]);
    delete headers[key];
    dropped.push(key);
  }
  const list = dropped.join(',');
  headers[DROPPED_HEADERS] = list.length > 4000 ? `${list.slice(0, 4000)}…` : list;
  return { properties: { ...properties, headers }, dropped };
}

function approximateSize(key: string, value: unknown): number {
  const overhead = Buffer.byteLength(key) + 6;
  if (typeof value === 'string') return overhead + Buffer.byteLength(value);
  if (Buffer.isBuffer(value)) return overhead + value.length;
  if (value !== null && typeof value === 'object') {
    try {
      return overhead + Buffer.byteLength(JSON.stringify(value) ?? '');
    } catch {
      return overhead + 65_536;
    }
  }
  return overhead + 8;
}
