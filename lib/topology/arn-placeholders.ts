import { MessagingError } from '../errors.js';

/**
 * ARNs that exist only once a resource is created appear in topology documents as `{{queue-arn:<name>}}` and
 * `{{topic-arn:<name>}}`; each generator replaces them with its own references.
 */
type ArnKind = 'queue' | 'topic';

export function arnPlaceholder(kind: ArnKind, name: string): string {
  return `{{${kind}-arn:${name}}}`;
}

const PLACEHOLDER = /\{\{(queue|topic)-arn:([^}]+)\}\}/g;

/** Splits a string into literal parts and placeholders, in order. */
export function splitPlaceholders(text: string): Array<string | { kind: ArnKind; name: string }> {
  const parts: Array<string | { kind: ArnKind; name: string }> = [];
  let last = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push({ kind: match[1] as ArnKind, name: match[2] });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** A JSON value with every string that is exactly one placeholder replaced by `reference(kind, name)`. */
export function replacePlaceholders(value: unknown, reference: (kind: ArnKind, name: string) => unknown): unknown {
  if (typeof value === 'string') {
    const parts = splitPlaceholders(value);
    if (parts.length === 1 && typeof parts[0] !== 'string') return reference(parts[0].kind, parts[0].name);
    if (parts.some((p) => typeof p !== 'string')) throw new MessagingError(`A placeholder ARN must be a whole JSON string: ${value}`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item) => replacePlaceholders(item, reference));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replacePlaceholders(v, reference)]));
  return value;
}
