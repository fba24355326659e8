import { MessagingOptionsError } from '../errors.js';
import {
  DEFAULTS,
  TOMODACHI_NAMING_DEFAULTS,
  type MessagingModuleOptions,
  type ResolvedMessagingOptions,
  type SubscriptionExtras,
  type TransportName,
} from '../messaging.options.js';
import { honouringTransports, namesOf, type OptionRecord, type OptionRecords, type OptionScope } from './option-record.js';
import { OPTIONS } from './option-records.js';
import { isPlainObject } from './rules.js';

const MODULE_SCOPES: OptionScope[] = ['module', 'both'];
const SUBSCRIPTION_SCOPES: OptionScope[] = ['subscription', 'both'];
const MODULE_OPTION_NAMES = namesOf(OPTIONS, ...MODULE_SCOPES);
const SUBSCRIPTION_OPTION_NAMES = namesOf(OPTIONS, ...SUBSCRIPTION_SCOPES);

/**
 * Checks module options against their records (lib/options/option-records.ts) and fills in defaults; throws
 * MessagingOptionsError naming the option and the rule, or the transport that would ignore it.
 */
export function resolveModuleOptions(options: MessagingModuleOptions): ResolvedMessagingOptions {
  if (!isPlainObject(options)) throw new MessagingOptionsError('options', 'must be an object', options);
  rejectUnknownKeys(options, MODULE_OPTION_NAMES, '', 'option');
  checkValues(options, OPTIONS, MODULE_SCOPES, (key) => key, options);
  checkHonoured(options, OPTIONS, 'module', options.transport, (key) => key);
  const { snsSqs: snsSqsOption, amqp: amqpOption, ...topLevel } = options;
  const snsSqs = snsSqsOption ?? {};
  const amqp = amqpOption ?? {};
  return {
    ...DEFAULTS,
    ...stripUndefined(topLevel),
    snsSqs: { ...DEFAULTS.snsSqs, ...stripUndefined(snsSqs) },
    amqp: {
      ...DEFAULTS.amqp,
      ...(options.queueNaming === 'tomodachi' ? TOMODACHI_NAMING_DEFAULTS.amqp : {}),
      ...stripUndefined(amqp),
      reconnectDelay: { ...DEFAULTS.amqp.reconnectDelay, ...stripUndefined(amqp.reconnectDelay ?? {}) },
    },
  } as ResolvedMessagingOptions;
}

/** Checks one handler's `@EventPattern` extras against their records; `where` names the handler in the error. */
export function checkSubscriptionExtras(extras: Record<string, unknown>, where: string): SubscriptionExtras {
  const name = extraName(where);
  rejectUnknownKeys(extras, SUBSCRIPTION_OPTION_NAMES, name(''), 'subscription option');
  checkValues(extras, OPTIONS, SUBSCRIPTION_SCOPES, name);
  checkQueueOnly(extras, name);
  return extras as SubscriptionExtras;
}

/**
 * Refuses an extra that `transport` would ignore (visibilityTimeout on AMQP, exchange on SNS+SQS, ...), naming the
 * extra, the transport and what to do instead. Unknown extras are left to checkSubscriptionExtras.
 */
export function checkExtrasHonoured(extras: Record<string, unknown>, where: string, transport: TransportName): void {
  checkHonoured(extras, OPTIONS, 'extra', transport, extraName(where));
}

const extraName = (where: string) => (key: string) => `@EventPattern('${where}').${key}`;

/** Each set value (and each required one) against its record's rule, sections recursively, then what each needs alongside. */
function checkValues(
  holder: Record<string, any>,
  records: OptionRecords,
  scopes: OptionScope[],
  name: (key: string) => string,
  module: MessagingModuleOptions = {} as MessagingModuleOptions,
): void {
  const inScope = Object.entries(records).filter(([, record]) => scopes.includes(record.scope));
  for (const [key, record] of inScope) {
    const value = holder[key];
    if (value === undefined && !record.required) continue;
    record.rule.check(value, name(key));
    if (record.section && isPlainObject(value)) {
      // a section's records are all `module`, or all `subscription` for an extra's section (`batch`)
      const sectionScope: OptionScope = record.scope === 'subscription' ? 'subscription' : 'module';
      rejectUnknownKeys(value, namesOf(record.section, sectionScope), `${name(key)}.`, 'option');
      checkValues(value, record.section, [sectionScope], (child) => `${name(key)}.${child}`, module);
    }
  }
  for (const [key, record] of inScope) {
    const broken = holder[key] === undefined ? undefined : record.alongside?.(holder, module);
    if (broken !== undefined) throw new MessagingOptionsError(name(key), broken, holder[key]);
  }
}

function checkHonoured(
  holder: object,
  records: OptionRecords,
  where: 'module' | 'extra',
  transport: TransportName,
  name: (key: string) => string,
): void {
  const scopes = where === 'module' ? MODULE_SCOPES : SUBSCRIPTION_SCOPES;
  for (const [key, value] of Object.entries(holder)) {
    const record: OptionRecord | undefined = records[key];
    if (value === undefined || !record || !scopes.includes(record.scope) || record.transportSection) continue;
    if (!honouringTransports(record, where).includes(transport))
      throw new MessagingOptionsError(
        name(key),
        `is not honoured by transport '${transport}' (${record.instead?.[transport] ?? 'remove it'})`,
        value,
      );
  }
}

/** A queue-only handler (`queue`) consumes an existing queue as it is: the extras that shape a queue are refused. */
function checkQueueOnly(extras: Record<string, unknown>, name: (key: string) => string): void {
  if (extras.queue === undefined) return;
  for (const [key, record] of Object.entries(OPTIONS as OptionRecords)) {
    const value = extras[key];
    const refused = record.notWithQueue;
    if (value === undefined || !refused || (refused === 'unless default' && value === record.default)) continue;
    throw new MessagingOptionsError(
      name(key),
      `cannot be combined with queue ('${extras.queue}'): a queue-only handler consumes an existing queue as it is and changes none of its settings; remove ${key}, or drop queue to let the library create and subscribe a queue`,
      value,
    );
  }
}

function rejectUnknownKeys(object: object, known: ReadonlySet<string>, path: string, what: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw new MessagingOptionsError(`${path}${key}`, `is not a known ${what}; use one of ${[...known].join(', ')}`);
  }
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}
