import { createHash } from 'node:crypto';

const FORBIDDEN = /[^A-Za-z0-9_-]/gu;
const ENCODED = /___((?:[0-9a-f]{2})+)_/g;

/** tomodachi's reversible name encoding: every character outside [A-Za-z0-9_-] becomes `___<utf-8 hex>_`. */
export function encodeName(name: string): string {
  return name.replace(FORBIDDEN, (char) => `___${Buffer.from(char, 'utf8').toString('hex')}_`);
}

export function decodeName(encoded: string): string {
  return encoded.replace(ENCODED, (_match, hex: string) => Buffer.from(hex, 'hex').toString('utf8'));
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
