import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** tomodachi's own wire messages (copied from the project's shared vectors into test/fixtures). */
export const TOMODACHI_VECTORS = fileURLToPath(new URL('../fixtures/tomodachi', import.meta.url));

export function readVector(file: string): string {
  return readFileSync(`${TOMODACHI_VECTORS}/${file}`, 'utf8');
}
