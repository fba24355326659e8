import { AdminInvalidArgumentError } from './admin.errors.js';

/** A resource name an admin operation was given: every broker needs one. */
export function checkNonEmpty(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new AdminInvalidArgumentError(argument, 'must be a non-empty string', value);
}
