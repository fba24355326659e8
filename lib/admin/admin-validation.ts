import type { TransportName } from '../messaging.options.js';
import type { AttributeValue } from '../transport/broker.js';
import { AdminInvalidArgumentError } from '../transport/admin.errors.js';
import { PREVIEW_CHARS } from '../transport/value-preview.js';

/**
 * Levels of arrays and objects a JSON value given to the admin API may nest (a message's `data`, a filter policy,
 * an attribute's array). Deeper values are refused before anything walks them recursively (JSON.stringify, an
 * envelope, an SDK), which would overflow the stack.
 */
export const MAX_JSON_DEPTH = 64;

/** SNS/SQS message attribute names are at most 256 characters (AMQP header names 255 bytes, checked when sent). */
const ATTRIBUTE_NAME_MAX = 256;

/** One kind of value: the rule it checks and its OpenAPI 3.0 schema, written once. */
export interface Field<T> {
  readonly openApi: Readonly<Record<string, unknown>>;
  /** The value when it satisfies the rule (never called with undefined); else AdminInvalidArgumentError naming `argument`. */
  check(value: unknown, argument: string): T;
}

/**
 * Where an operation's argument comes from over HTTP: the path, the query string or the JSON body; `call` is for
 * programmatic callers only (an AbortSignal).
 */
export type Placement = 'path' | 'query' | 'body' | 'call';

export interface Argument<T = unknown> {
  field: Field<T>;
  in: Placement;
  /** Required arguments are the service method's positional parameters; the others are its options. */
  required: boolean;
  description: string;
  /** Only this transport honours it: giving it on another is refused, saying why. */
  only?: { transport: TransportName; why: string };
  /** Another argument without which this one would be ignored. */
  needs?: string;
}

export type Arguments = Record<string, Argument>;

type RequiredKeys<A extends Arguments> = { [K in keyof A]: A[K]['required'] extends true ? K : never }[keyof A];
type ValueOf<P> = P extends Argument<infer T> ? T : never;

/** The checked optional arguments of an operation (a service method's options). */
export type CheckedOptions<A extends Arguments> = { [K in Exclude<keyof A, RequiredKeys<A>>]?: ValueOf<A[K]> };

/** The checked arguments of an operation: required ones present, optional ones possibly absent. */
export type Checked<A extends Arguments> = { [K in RequiredKeys<A>]: ValueOf<A[K]> } & CheckedOptions<A>;

/**
 * Whether the value nests more than `max` levels of arrays and objects. Iterative (a 50,000-deep array cannot
 * overflow it) and depth first: a cycle (infinitely deep) is found when an object comes back below itself, and an
 * object already walked is walked again only when reached deeper than before, so shared sub-objects cannot multiply
 * the work.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const deepestWalk = new Map<object, number>();
  const onPath = new Set<object>();
  const stack: Array<{ node: unknown; depth: number; leave?: true }> = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth, leave } = stack.pop()!;
    if (typeof node !== 'object' || node === null || ArrayBuffer.isView(node) || node instanceof ArrayBuffer) continue;
    if (leave) {
      onPath.delete(node);
      continue;
    }
    if (depth >= max || onPath.has(node)) return true;
    if ((deepestWalk.get(node) ?? -1) >= depth) continue;
    deepestWalk.set(node, depth);
    onPath.add(node);
    stack.push({ node, depth, leave: true });
    for (const child of Array.isArray(node) ? node : Object.values(node)) stack.push({ node: child, depth: depth + 1 });
  }
  return false;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function checkDepth(value: unknown, argument: string): void {
  if (nestsDeeperThan(value, MAX_JSON_DEPTH))
    throw new AdminInvalidArgumentError(argument, `nests more than ${MAX_JSON_DEPTH} levels of arrays and objects`, value);
}

/** A string of `minLength` to `maxLength` characters. */
export function text(minLength: number, maxLength: number): Field<string> {
  const rule =
    minLength > 0 ? `must be a non-empty string of at most ${maxLength} characters` : `must be a string of at most ${maxLength} characters`;
  return {
    openApi: { type: 'string', ...(minLength > 0 ? { minLength } : {}), maxLength },
    check(value, argument) {
      if (typeof value !== 'string' || value.length < minLength || value.length > maxLength)
        throw new AdminInvalidArgumentError(argument, rule, value);
      return value;
    },
  };
}

export function integer(minimum: number, maximum: number): Field<number> {
  return {
    openApi: { type: 'integer', minimum, maximum },
    check(value, argument) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum || value > maximum)
        throw new AdminInvalidArgumentError(argument, `must be an integer from ${minimum} to ${maximum}`, value);
      return value;
    },
  };
}

export function boolean(): Field<boolean> {
  return {
    openApi: { type: 'boolean' },
    check(value, argument) {
      if (typeof value !== 'boolean') throw new AdminInvalidArgumentError(argument, 'must be true or false', value);
      return value;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Field<T> {
  return {
    openApi: { type: 'string', enum: [...values] },
    check(value, argument) {
      if (!values.includes(value as T))
        throw new AdminInvalidArgumentError(argument, `must be one of ${values.map((v) => `"${v}"`).join(', ')}`, value);
      return value as T;
    },
  };
}

/** A field, or the literal false (for "none"). */
export function orFalse<T>(field: Field<T>): Field<T | false> {
  return {
    openApi: { oneOf: [field.openApi, { type: 'boolean', enum: [false] }] },
    check(value, argument) {
      if (value === false) return false;
      try {
        return field.check(value, argument);
      } catch (error) {
        if (error instanceof AdminInvalidArgumentError) throw new AdminInvalidArgumentError(argument, `${error.rule}, or false`, value);
        throw error;
      }
    },
  };
}

/** Any JSON value (what the envelope encodes), nested at most MAX_JSON_DEPTH levels. */
export function json(): Field<unknown> {
  return {
    openApi: {},
    check(value, argument) {
      checkDepth(value, argument);
      return value;
    },
  };
}

/** A JSON object (not an array), nested at most MAX_JSON_DEPTH levels. */
export function jsonObject(): Field<Record<string, unknown>> {
  return {
    openApi: { type: 'object' },
    check(value, argument) {
      if (!isPlainObject(value)) throw new AdminInvalidArgumentError(argument, 'must be a JSON object', value);
      checkDepth(value, argument);
      return value;
    },
  };
}

/**
 * Message attributes: an object whose values are strings, finite numbers, booleans, null, arrays (JSON, nested at
 * most MAX_JSON_DEPTH levels) or, from code, Buffers / Uint8Arrays. The transport's own rules (names, sizes, counts)
 * come after, as for emit.
 */
export function attributes(): Field<Record<string, AttributeValue>> {
  return {
    openApi: {
      type: 'object',
      additionalProperties: {
        oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }, { type: 'array', items: {} }],
        nullable: true,
      },
    },
    check(value, argument) {
      if (!isPlainObject(value)) throw new AdminInvalidArgumentError(argument, 'must be an object of attribute names to values', value);
      for (const [name, attribute] of Object.entries(value)) {
        const at = `${argument}.${name.length <= PREVIEW_CHARS ? name : `${name.slice(0, PREVIEW_CHARS)}…`}`;
        if (name.length === 0 || name.length > ATTRIBUTE_NAME_MAX)
          throw new AdminInvalidArgumentError(at, `attribute names are 1 to ${ATTRIBUTE_NAME_MAX} characters; this one has ${name.length}`);
        const scalar =
          attribute === null ||
          typeof attribute === 'string' ||
          typeof attribute === 'boolean' ||
          (typeof attribute === 'number' && Number.isFinite(attribute)) ||
          attribute instanceof Uint8Array;
        if (!scalar && !Array.isArray(attribute))
          throw new AdminInvalidArgumentError(at, 'must be a string, a finite number, a boolean, null, an array or bytes', attribute);
        checkDepth(attribute, at);
      }
      return value as Record<string, AttributeValue>;
    },
  };
}

/** An AbortSignal (programmatic callers only). */
export function abortSignal(): Field<AbortSignal> {
  return {
    openApi: {},
    check(value, argument) {
      if (!(value instanceof AbortSignal)) throw new AdminInvalidArgumentError(argument, 'must be an AbortSignal', value);
      return value;
    },
  };
}

/**
 * Checks every argument of an operation: present when required, of its type, honoured by `transport`. `values`
 * holds the arguments by name; undefined means absent.
 */
export function checkArguments<A extends Arguments>(
  operation: string,
  args: A,
  transport: TransportName,
  values: Record<string, unknown>,
): Checked<A> {
  const checked: Record<string, unknown> = {};
  for (const [name, argument] of Object.entries(args)) {
    const value = values[name];
    if (value === undefined) {
      if (argument.required) throw new AdminInvalidArgumentError(name, `is required by ${operation} (${argument.description})`);
      continue;
    }
    if (argument.only && argument.only.transport !== transport)
      throw new AdminInvalidArgumentError(
        name,
        `is not supported on transport '${transport}' (${argument.only.transport} only): ${argument.only.why}`,
      );
    if (argument.needs !== undefined && values[argument.needs] === undefined)
      throw new AdminInvalidArgumentError(name, `applies only together with ${argument.needs}`);
    checked[name] = argument.field.check(value, name);
  }
  return checked as Checked<A>;
}

/** Refuses a key of `given` that is not one of `allowed` (a key given as undefined is absent), naming it and the allowed ones. */
export function refuseUnknown(given: Record<string, unknown>, allowed: readonly string[], what: string, operation: string): void {
  for (const key of Object.keys(given)) {
    if (given[key] === undefined || allowed.includes(key)) continue;
    const takes = allowed.length === 0 ? `it takes no ${what}s` : `its ${what}s are ${allowed.join(', ')}`;
    throw new AdminInvalidArgumentError(
      key.length <= PREVIEW_CHARS ? key : `${key.slice(0, PREVIEW_CHARS)}…`,
      `unknown ${what} of ${operation}: ${takes}`,
    );
  }
}

/** A plain object (or undefined, as {}): a request body or an options argument. */
export function objectOrNothing(value: unknown, argument: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new AdminInvalidArgumentError(argument, 'must be a JSON object', value);
  return value;
}
