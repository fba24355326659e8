/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) in message attributes, under the keys tomodachi's
 * OpenTelemetry instrumentation uses (it injects with TraceContextTextMapPropagator into SNS message attributes and
 * AMQP headers): `traceparent` and `tracestate`. Written here rather than through the global propagator so that the
 * wire format does not depend on how the application configured OpenTelemetry.
 */
export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

interface TraceParent {
  traceId: string;
  spanId: string;
  traceFlags: number;
}

const TRACEPARENT_PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export function formatTraceparent(context: TraceParent): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A valid traceparent's fields, or undefined (unknown version ff, all-zero ids, trailing data on version 00). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  const text = attributeText(value)?.trim();
  if (!text) return undefined;
  const match = TRACEPARENT_PATTERN.exec(text);
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) };
}

/** An attribute value as text: SNS attributes arrive as strings, AMQP headers may arrive as Buffers. */
export function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

/** The attributes without the trace context keys (the same object when it has none). */
export function withoutTraceContext<T extends Record<string, unknown>>(attributes: T): T {
  if (!(TRACEPARENT in attributes) && !(TRACESTATE in attributes)) return attributes;
  const { [TRACEPARENT]: _parent, [TRACESTATE]: _state, ...rest } = attributes;
  return rest as T;
}
