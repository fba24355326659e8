import { MessagingOptionsError } from '../errors.js';

export type AttributePredicate = (attributes: Record<string, unknown>) => boolean;
type ValueTest = (value: unknown, present: boolean) => boolean;

/**
 * SNS filter-policy semantics, evaluated wherever SNS does not do it (AMQP headers, the testing kit's in-memory broker)
 * so that a handler's `filterPolicy` means the same everywhere: every key must match; within a key, any condition.
 * Supported: exact strings/numbers, prefix, suffix, equals-ignore-case, anything-but, numeric ranges, exists, and a
 * top-level `$or`. Anything else fails at startup; `evaluator` names who refuses it in that error (e.g. 'amqp').
 */
export function compileFilterPolicy(policy: Record<string, unknown>, option: string, evaluator = 'this transport'): AttributePredicate {
  if (Array.isArray(policy.$or)) {
    const alternatives = policy.$or.map((p, i) =>
      compileFilterPolicy(asObject(p, `${option}.$or[${i}]`), `${option}.$or[${i}]`, evaluator),
    );
    const { $or: _or, ...rest } = policy;
    const common = compileFilterPolicy(rest, option, evaluator);
    return (attributes) => common(attributes) && alternatives.some((alternative) => alternative(attributes));
  }
  const keys = Object.entries(policy).map(([key, conditions]) => {
    if (!Array.isArray(conditions))
      throw new MessagingOptionsError(`${option}.${key}`, 'must be an array of conditions, e.g. ["EUR", "USD"]', conditions);
    const tests = conditions.map((condition, i) => compileCondition(condition, `${option}.${key}[${i}]`, evaluator));
    return { key, tests };
  });
  return (attributes) =>
    keys.every(({ key, tests }) => {
      const present = Object.prototype.hasOwnProperty.call(attributes, key);
      const value = present ? attributes[key] : undefined;
      return tests.some((test) => test(value, present));
    });
}

function compileCondition(condition: unknown, option: string, evaluator: string): ValueTest {
  if (typeof condition === 'string' || typeof condition === 'number' || typeof condition === 'boolean' || condition === null) {
    return (value, present) =>
      present && anyValue(value, (v) => v === condition || (typeof condition === 'number' && Number(v) === condition && v !== ''));
  }
  const operator = asObject(condition, option);
  const [name, ...others] = Object.keys(operator);
  if (name === undefined || others.length > 0)
    throw new MessagingOptionsError(option, 'a condition object needs exactly one operator', condition);
  const argument = operator[name];
  switch (name) {
    case 'prefix':
      return stringTest(argument, option, (v, a) => v.startsWith(a));
    case 'suffix':
      return stringTest(argument, option, (v, a) => v.endsWith(a));
    case 'equals-ignore-case':
      return stringTest(argument, option, (v, a) => v.toLowerCase() === a.toLowerCase());
    case 'exists':
      if (typeof argument !== 'boolean') throw new MessagingOptionsError(`${option}.exists`, 'must be true or false', argument);
      return (_value, present) => present === argument;
    case 'anything-but': {
      const values = Array.isArray(argument) ? argument : [argument];
      const excluded = values.map((v, i) => compileCondition(v, `${option}.anything-but[${i}]`, evaluator));
      return (value, present) => present && !excluded.some((test) => test(value, present));
    }
    case 'numeric':
      return numericTest(argument, option);
    default:
      throw new MessagingOptionsError(
        option,
        `filter operator "${name}" is not supported on ${evaluator}; use exact values, prefix, suffix, equals-ignore-case, anything-but, numeric or exists`,
        condition,
      );
  }
}

function stringTest(argument: unknown, option: string, test: (value: string, argument: string) => boolean): ValueTest {
  if (typeof argument !== 'string') throw new MessagingOptionsError(option, 'needs a string argument', argument);
  return (value, present) => present && anyValue(value, (v) => typeof v === 'string' && test(v, argument));
}

const COMPARATORS: Record<string, (a: number, b: number) => boolean> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numericTest(argument: unknown, option: string): ValueTest {
  if (!Array.isArray(argument) || argument.length === 0 || argument.length % 2 !== 0) {
    throw new MessagingOptionsError(`${option}.numeric`, 'must be pairs of comparator and number, e.g. [">", 0, "<=", 100]', argument);
  }
  const checks: Array<(n: number) => boolean> = [];
  for (let i = 0; i < argument.length; i += 2) {
    const compare = COMPARATORS[argument[i] as string];
    const bound = argument[i + 1];
    if (!compare || typeof bound !== 'number')
      throw new MessagingOptionsError(`${option}.numeric`, 'must be pairs of comparator (=, <, <=, >, >=) and number', argument);
    checks.push((n) => compare(n, bound));
  }
  return (value, present) =>
    present &&
    anyValue(value, (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) && checks.every((check) => check(n));
    });
}

/** String.Array attributes match when any element matches, as in SNS. */
function anyValue(value: unknown, test: (v: unknown) => boolean): boolean {
  return Array.isArray(value) ? value.some(test) : test(value);
}

function asObject(value: unknown, option: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MessagingOptionsError(option, 'must be an object', value);
  return value as Record<string, unknown>;
}
