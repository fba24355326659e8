import { MessagingOptionsError } from '../errors.js';

/** The name of the unnamed `MessagingModule.forRoot`: handlers without a `connection` extra consume through it. */
export const DEFAULT_CONNECTION = 'default';

/** Whether a handler's `connection` extra (unset or `'default'`) chooses the unnamed connection. */
export function isDefaultConnection(connection: unknown): boolean {
  return connection === undefined || connection === DEFAULT_CONNECTION;
}

/** The name of the connection a handler's `connection` extra chooses (DEFAULT_CONNECTION when unset). */
export function connectionOf(connection: unknown): string {
  return isDefaultConnection(connection) ? DEFAULT_CONNECTION : String(connection);
}

/** The longest connection name. */
export const CONNECTION_NAME_MAX = 63;
const CONNECTION_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_-]{0,${CONNECTION_NAME_MAX - 1}}$`);
const CONNECTION_NAME_RULE = `must be 1-${CONNECTION_NAME_MAX} letters, digits, "-" or "_", starting with a letter or digit`;

/** A handler's `connection` extra: the name of a connection (`'default'` is the unnamed one). */
export function checkConnectionChoice(value: unknown, option: string): void {
  if (typeof value !== 'string' || !CONNECTION_NAME.test(value)) throw new MessagingOptionsError(option, CONNECTION_NAME_RULE, value);
}

/** `MessagingModule.forRoot({ name })`: a connection name other than the unnamed one's. */
export function checkConnectionName(value: unknown, option: string): void {
  checkConnectionChoice(value, option);
  if (value === DEFAULT_CONNECTION)
    throw new MessagingOptionsError(
      option,
      `'${DEFAULT_CONNECTION}' is the unnamed connection's name: leave name out for the default connection, or choose another name`,
      value,
    );
}
