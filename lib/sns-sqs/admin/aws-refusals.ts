import { MessagingError, ProvisioningError } from '../../errors.js';
import { describeError } from '../../error-text.js';
import { isTimeoutOrNetwork, networkCode } from '../aws-errors.js';
import { AdminBrokerFailedError, AdminBrokerRefusedError, AdminBrokerUnavailableError } from '../../transport/admin.errors.js';

interface AwsError {
  name?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

const SLOW_DOWN = /Throttl|TooManyRequests|RequestLimitExceeded|ServiceUnavailable/i;

/**
 * An SNS/SQS error of an admin operation as the status it deserves: unreachable or throttled → unavailable (503),
 * the service's own failure or a permission the admin's credentials lack → failed (502), any other refusal of what
 * was asked (an attribute SQS rejects, a queue deleted a moment ago, a FIFO rule) → refused (409). Errors that are
 * not the service's (the library's own, a bug) pass unchanged. A ProvisioningError (createQueue runs startup
 * provisioning's code) is answered as the service's error behind it.
 */
export function adminErrorOfAws(operation: string, error: unknown): unknown {
  if (error instanceof ProvisioningError && error.cause !== undefined) return adminErrorOfAws(operation, error.cause);
  if (error instanceof MessagingError) return error;
  const e = (error ?? {}) as AwsError;
  const reason = describeError(error);
  if (isTimeoutOrNetwork(error) || networkCode(error) !== undefined || SLOW_DOWN.test(e.name ?? ''))
    return new AdminBrokerUnavailableError(operation, reason);
  const status = e.$metadata?.httpStatusCode;
  if (status === undefined && e.$fault === undefined) return error;
  if (e.$fault === 'server' || (status !== undefined && status >= 500) || status === 403)
    return new AdminBrokerFailedError(operation, reason);
  return new AdminBrokerRefusedError(operation, reason);
}
