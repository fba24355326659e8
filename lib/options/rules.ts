import { MessagingOptionsError } from '../errors.js';

/** What a set value must be. `check` throws a MessagingOptionsError naming `option` and the rule. */
export interface Rule {
  check(value: unknown, option: string): void;
}

/** A numeric rule whose bounds other checks (the admin API) and the README read. */
export interface RangeRule extends Rule {
  readonly min: number;
  readonly max: number;
}

export interface EnumRule<T extends string> extends Rule {
  readonly values: readonly T[];
}

export function integer(min: number, max: number): RangeRule {
  return range(min, max, 'an integer', Number.isInteger);
}

export function number(min: number, max: number): RangeRule {
  return range(min, max, 'a number', Number.isFinite);
}

function range(min: number, max: number, kind: string, accepts: (value: number) => boolean): RangeRule {
  return {
    min,
    max,
    check(value, option) {
      if (typeof value !== 'number' || !accepts(value) || value < min || value > max)
        throw new MessagingOptionsError(option, `must be ${kind} from ${min} to ${max}`, value);
    },
  };
}

/** `0` (off) or an integer in the range. */
export function zeroOr(range: RangeRule): RangeRule {
  return { min: range.min, max: range.max, check: (value, option) => value === 0 || range.check(value, option) };
}

/** One of `values`; `rule` words the error when the default wording ("must be one of 'a', 'b'") reads badly. */
export function oneOf<const T extends string>(
  values: readonly T[],
  rule = `must be one of ${values.map((v) => `'${v}'`).join(', ')}`,
): EnumRule<T> {
  return {
    values,
    check(value, option) {
      if (!values.includes(value as T)) throw new MessagingOptionsError(option, rule, value);
    },
  };
}

export const boolean: Rule = {
  check(value, option) {
    if (typeof value !== 'boolean') throw new MessagingOptionsError(option, 'must be true or false', value);
  },
};

export const string: Rule = {
  check(value, option) {
    if (typeof value !== 'string') throw new MessagingOptionsError(option, 'must be a string', value);
  },
};

export const nonEmptyString: Rule = {
  check(value, option) {
    if (typeof value !== 'string' || value.length === 0) throw new MessagingOptionsError(option, 'must be a non-empty string', value);
  },
};

/** A plain object (not null, not an array); `shape` says what it should look like. */
export function object(shape: string): Rule {
  return {
    check(value, option) {
      if (!isPlainObject(value)) throw new MessagingOptionsError(option, `must be ${shape}`, value);
    },
  };
}

/** A rule of its own: `check` throws MessagingOptionsError itself. */
export function custom(check: (value: unknown, option: string) => void): Rule {
  return { check };
}

export function isPlainObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
