import type { MessagingModuleOptions, SubscriptionExtras, TransportName } from '../messaging.options.js';
import type { Rule } from './rules.js';

/** Where an option is set: `MessagingModule.forRoot` (module), `@EventPattern` extras (subscription), or both. */
export type OptionScope = 'module' | 'subscription' | 'both';

/**
 * Checked once every value passed its own rule: what the option needs from the object that holds it (or from the
 * module options); returns the rule text when that is missing.
 */
type Alongside = (holder: Record<string, any>, module: MessagingModuleOptions) => string | undefined;

/** One option: everything the checks, the defaults, the transports and the README know about it. */
export interface OptionRecord<V = unknown> {
  readonly scope: OptionScope;
  /** Filled in when unset (a `both` option's default is the module's; its extra falls back to the module's value). */
  readonly default?: V;
  /** The default with `queueNaming: 'tomodachi'`, where it differs (what tomodachi itself declares). */
  readonly tomodachiDefault?: V;
  /** Checked when unset too (the rule then says what it must be). */
  readonly required?: true;
  readonly rule: Rule;
  readonly alongside?: Alongside;
  /** The transports that read it; setting it with another transport fails at startup with `instead`'s text. */
  readonly transports: readonly TransportName[];
  /**
   * A `both` option that a transport honours as an extra but not in forRoot: the transports that honour its forRoot
   * value (the others refuse it there, with `instead`'s text). Absent: `transports`.
   */
  readonly moduleTransports?: readonly TransportName[];
  /** For each transport not in `transports` (or `moduleTransports`): why it does not apply there and what to do instead. */
  readonly instead?: { readonly [T in TransportName]?: string };
  /**
   * `snsSqs` / `amqp`: read only with their own transport and left unread with the other, so that one configuration
   * can hold both and switch transports (the README's quick start does).
   */
  readonly transportSection?: true;
  /** The records of an object-valued option (`snsSqs`, `amqp`, `metrics`, ...). */
  readonly section?: OptionRecords;
  /**
   * A queue-only handler (`queue`) changes none of its queue's settings, so it refuses this extra when set
   * (`'unless default'`: except at its default, which changes nothing).
   */
  readonly notWithQueue?: true | 'unless default';
  /** The README's options table: the default as shown (else the `default` value with `unit`) and what it does. */
  readonly doc: { readonly default?: string; readonly unit?: 'ms' | 's'; readonly meaning: string };
}

export type OptionRecords = { readonly [name: string]: OptionRecord };

type Exactly<R, T> = R & { readonly [K in Exclude<keyof R, keyof T>]: never };

type SectionRecordsOf<T, Sc extends OptionScope = 'module'> = {
  readonly [K in keyof T]-?: OptionRecord<NonNullable<T[K]>> & { readonly scope: Sc };
};

/**
 * The records of one options object: exactly one per property of T (a missing or an undeclared one fails to compile),
 * each default of T's type.
 */
export function sectionRecords<T>() {
  return <const R extends SectionRecordsOf<T>>(records: Exactly<R, T>): R => records;
}

/** As sectionRecords, for an object-valued `@EventPattern` extra (`batch`): its records are set in `@EventPattern`. */
export function extraSectionRecords<T>() {
  return <const R extends SectionRecordsOf<T, 'subscription'>>(records: Exactly<R, T>): R => records;
}

type M = MessagingModuleOptions;
type S = SubscriptionExtras;
type ScopeOf<K> = K extends keyof M ? (K extends keyof S ? 'both' : 'module') : 'subscription';
type TopLevelValue<K> = NonNullable<K extends keyof M ? M[K] : K extends keyof S ? S[K] : never>;
type TopLevelRecordsOf = {
  readonly [K in keyof M | keyof S]-?: OptionRecord<TopLevelValue<K>> & { readonly scope: ScopeOf<K> };
};

/**
 * The records of the module options and the `@EventPattern` extras: one per name, whose scope must say where the
 * name is declared (both in MessagingModuleOptions and in SubscriptionExtras: `both`).
 */
export function topLevelRecords<const R extends TopLevelRecordsOf>(records: Exactly<R, TopLevelRecordsOf>): R {
  return records;
}

/** The defaults of the records in these scopes, typed as written in the records. */
type DefaultsOf<R, Sc extends OptionScope> = {
  readonly [K in keyof R as R[K] extends { readonly default: unknown; readonly scope: Sc } ? K : never]: R[K] extends {
    readonly default: infer D;
  }
    ? D
    : never;
};

export function defaultsOf<R extends OptionRecords, Sc extends OptionScope>(records: R, ...scopes: Sc[]): DefaultsOf<R, Sc> {
  return Object.fromEntries(
    Object.entries(records)
      .filter(([, record]) => record.default !== undefined && (scopes as OptionScope[]).includes(record.scope))
      .map(([name, record]) => [name, record.default]),
  ) as DefaultsOf<R, Sc>;
}

/** The names of the records in these scopes (a section's records are all `module`). */
export function namesOf(records: OptionRecords, ...scopes: OptionScope[]): ReadonlySet<string> {
  return new Set(Object.keys(records).filter((name) => scopes.includes(records[name].scope)));
}

/** The transports that honour an option where it is set: in forRoot (`module`) or as an @EventPattern extra. */
export function honouringTransports(record: OptionRecord, where: 'module' | 'extra'): readonly TransportName[] {
  return where === 'module' ? (record.moduleTransports ?? record.transports) : record.transports;
}
