/** The value of an envelope call that must be synchronous (ProtobufEnvelope after prepare()); fails if it is a promise. */
export function synchronous<T>(value: T | Promise<T>): T {
  if (value instanceof Promise) throw new Error('expected a synchronous result (is prepare() awaited?)');
  return value;
}
