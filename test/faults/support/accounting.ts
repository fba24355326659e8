import { appendFileSync } from 'node:fs';
import { ACCOUNTING_FILE } from './paths.js';

export interface Accounting {
  line: string;
  lost: number[];
  duplicates: number;
  handledOnce: number;
}

/**
 * The per-scenario accounting line: `published N, confirmed N, handled-once N, duplicates D, dead-lettered X, lost L`.
 * A message is lost when it was confirmed to the publisher and is neither handled nor in the dead-letter queue.
 * Printed with console.log and appended to os.tmpdir()/nestjs-messaging-faults/accounting.txt.
 */
export function account(
  scenario: string,
  input: {
    published: number;
    confirmed: Iterable<number>;
    /** Every handling, duplicates included. */
    handled: Iterable<number>;
    deadLettered?: Iterable<number>;
    rejected?: number;
    note?: string;
  },
): Accounting {
  const handledList = [...input.handled];
  const handled = new Set(handledList);
  const dead = new Set(input.deadLettered ?? []);
  const confirmed = [...new Set(input.confirmed)];
  const lost = confirmed.filter((n) => !handled.has(n) && !dead.has(n)).sort((a, b) => a - b);
  const duplicates = handledList.length - handled.size;
  const extra = [input.rejected !== undefined ? `rejected emits ${input.rejected}` : '', input.note ?? ''].filter(Boolean).join('; ');
  const line = `${scenario}: published ${input.published}, confirmed ${confirmed.length}, handled-once ${handled.size}, duplicates ${duplicates}, dead-lettered ${dead.size}, lost ${lost.length}${extra ? ` (${extra})` : ''}`;
  console.log(line);
  appendFileSync(ACCOUNTING_FILE, `${new Date().toISOString()} ${line}\n`);
  return { line, lost, duplicates, handledOnce: handled.size };
}
