import { BrokerConnectionError, MessagingError } from '../../errors.js';
import { describeError } from '../../error-text.js';
import {
  AdminBrokerFailedError,
  AdminBrokerRefusedError,
  AdminBrokerUnavailableError,
  AdminConflictError,
  AdminResourceNotFoundError,
} from '../../transport/admin.errors.js';

/** The AMQP reply code of a channel error (404 NOT_FOUND, 406 PRECONDITION_FAILED, ...). */
export function code(error: unknown): number | undefined {
  const c = (error as { code?: unknown } | undefined)?.code;
  return typeof c === 'number' ? c : undefined;
}

const SOCKET_GONE = /^E[A-Z]+$/;
const CONNECTION_GONE = /Connection closed|Socket closed|Channel ended|Channel closed|connection is closed|Heartbeat timeout/i;

/**
 * An AMQP error of an admin operation as the status it deserves: 404 → the resource is missing; 406 (declared with
 * other arguments) → conflict; 405 (locked by another connection) → refused (409); a broker that cannot be reached
 * or dropped the connection → unavailable (503); 403 and the broker's own errors (5xx reply codes) → failed (502).
 * Errors that are not the broker's (the library's own, a bug) pass unchanged.
 */
export function adminErrorOfAmqp(operation: string, error: unknown): unknown {
  if (error instanceof BrokerConnectionError) return new AdminBrokerUnavailableError(operation, describeError(error));
  if (error instanceof MessagingError) return error;
  const message = (error as Error | undefined)?.message ?? String(error);
  const reply = code(error);
  const broker = brokerText(message);
  if (reply === 404) return new AdminResourceNotFoundError(/exchange '/.test(message) ? 'topic' : 'queue', resourceOf(message), broker);
  if (reply === 406) return new AdminConflictError(resourceOf(message), broker);
  if (reply === 405) return new AdminBrokerRefusedError(operation, broker);
  if (reply === 403 || (reply !== undefined && reply >= 500)) return new AdminBrokerFailedError(operation, broker);
  const errno = (error as { code?: unknown } | undefined)?.code;
  if ((typeof errno === 'string' && SOCKET_GONE.test(errno)) || reply === 320 || CONNECTION_GONE.test(message))
    return new AdminBrokerUnavailableError(operation, message);
  return error;
}

function resourceOf(message: string): string {
  return /(?:queue|exchange) '([^']*)'/.exec(message)?.[1] ?? '(resource)';
}

/** The broker's own words from amqplib's "Channel closed by server: 406 (PRECONDITION-FAILED) with message "…"". */
function brokerText(message: string): string {
  return /with message "(.*)"$/s.exec(message)?.[1] ?? message;
}
