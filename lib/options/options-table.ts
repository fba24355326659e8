import type { TransportName } from '../messaging.options.js';
import { honouringTransports, type OptionRecord, type OptionRecords } from './option-record.js';
import { OPTIONS } from './option-records.js';

const WHERE = { module: '`forRoot`', subscription: '`@EventPattern`', both: 'both' } as const;
const TRANSPORT_NAMES: Record<TransportName, string> = { 'sns-sqs': 'SNS+SQS', amqp: 'AMQP' };

/**
 * The README's options table, from the option records: every module option (sections expanded as `snsSqs.region`)
 * and every `@EventPattern` extra, where it is set, its default, the transports that honour it and what it does.
 */
export function renderOptionsTable(): string {
  const header = ['| option | set in | default | transports | meaning |', '|---|---|---|---|---|'];
  return [...header, ...rows(OPTIONS, '')].join('\n');
}

function rows(records: OptionRecords, path: string): string[] {
  return Object.entries(records).flatMap(([name, record]) => [
    row(`${path}${name}`, record),
    ...(record.section ? rows(record.section, `${path}${name}.`) : []),
  ]);
}

function row(name: string, record: OptionRecord): string {
  const transports = record.transports.map((t) => TRANSPORT_NAMES[t]).join(', ');
  const cells = [`\`${name}\``, WHERE[record.scope], defaultText(record), transports, meaning(record)];
  return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
}

function defaultText(record: OptionRecord): string {
  if (record.doc.default !== undefined) return record.doc.default;
  if (record.default === undefined) return '—';
  const value = `\`${typeof record.default === 'string' ? `'${record.default}'` : String(record.default)}\``;
  return record.doc.unit ? `${value} ${record.doc.unit}` : value;
}

/** What it does, and for each transport that does not honour it what to do instead (setting it there fails at startup). */
function meaning(record: OptionRecord): string {
  const elsewhere = Object.entries(record.instead ?? {}).map(([transport, instead]) => {
    const name = TRANSPORT_NAMES[transport as TransportName];
    const asExtra = honouringTransports(record, 'extra').includes(transport as TransportName);
    return asExtra ? `; ${name}: in \`forRoot\` refused at startup (${instead})` : `; ${name}: refused at startup (${instead})`;
  });
  return `${record.doc.meaning}${elsewhere.join('')}`;
}
