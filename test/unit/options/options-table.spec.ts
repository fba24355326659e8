import { readFileSync } from 'node:fs';
import { renderOptionsTable } from '../../../lib/options/options-table.js';

const START = '<!-- options-table:start -->';
const END = '<!-- options-table:end -->';

/** The part of README.md between the options-table markers. */
function readmeOptionsTable(): string {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start)
    throw new Error(
      `README.md has no options table between "${START}" and "${END}": put the two markers around the options table ` +
        `and paste renderOptionsTable() (lib/options/options-table.ts) between them`,
    );
  return readme.slice(start + START.length, end).trim();
}

describe('README options table', () => {
  it('is the table the option records render (edit a record in lib/options/option-records.ts, then paste the rendered table)', () => {
    expect(readmeOptionsTable()).toBe(renderOptionsTable());
  });

  it('has a row per option, sections expanded', () => {
    const table = renderOptionsTable();
    for (const option of [
      '`transport`',
      '`visibilityTimeout`',
      '`snsSqs.largePayload.bucket`',
      '`amqp.reconnectDelay.max`',
      '`metrics.queueDepth`',
    ])
      expect(table).toContain(`| ${option} |`);
    expect(table).toContain('| `visibilityTimeout` | `@EventPattern` | `30` s | SNS+SQS |');
  });
});
