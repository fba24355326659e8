/** Characters of a refused string an error message quotes. */
export const PREVIEW_CHARS = 60;

/** A value as an error message shows it: small ones quoted as they are, large or nested ones described briefly. */
export function quoted(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return String(value);
  return preview(value);
}

/** A short description of any value, safe for values too large or too deep to print. */
export function preview(value: unknown): string {
  if (typeof value === 'string')
    return value.length <= PREVIEW_CHARS
      ? JSON.stringify(value)
      : `${JSON.stringify(value.slice(0, PREVIEW_CHARS))}… (${value.length} characters)`;
  if (Array.isArray(value)) return `an array of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  if (typeof value === 'object' && value !== null) return 'an object';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function' || typeof value === 'symbol') return `a ${typeof value}`;
  return String(value);
}
