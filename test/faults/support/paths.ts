import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Everything the fault suite writes lives here, outside the repository. */
export const FAULTS_DIR = join(tmpdir(), 'nestjs-messaging-faults');
export const ACCOUNTING_FILE = join(FAULTS_DIR, 'accounting.txt');
mkdirSync(FAULTS_DIR, { recursive: true });

export function scratchFile(name: string): string {
  mkdirSync(join(FAULTS_DIR, 'runs'), { recursive: true });
  return join(FAULTS_DIR, 'runs', name);
}
