import { MessagingError } from '../errors.js';

/** A queue, topic or subscription named in an admin operation does not exist (HTTP 404). */
export class AdminResourceNotFoundError extends MessagingError {
  constructor(
    readonly kind: 'queue' | 'topic' | 'subscription' | 'dead-letter source',
    readonly resource: string,
    hint = '',
  ) {
    super(`${kind} "${resource}" does not exist${hint ? `: ${hint}` : ''}`);
  }
}

/** An argument of an admin operation the broker would refuse (HTTP 400). */
export class AdminInvalidArgumentError extends MessagingError {
  constructor(
    readonly argument: string,
    readonly rule: string,
    readonly value?: unknown,
  ) {
    super(`Invalid ${argument}: ${rule}${value === undefined ? '' : ` (got ${JSON.stringify(value)})`}`);
  }
}

/** The resource exists with other settings than the ones asked for (HTTP 409). */
export class AdminConflictError extends MessagingError {
  constructor(
    readonly resource: string,
    detail: string,
  ) {
    super(`"${resource}" exists with other settings: ${detail}; delete it first or ask for the settings it has`);
  }
}

/** The operation needs something this transport or configuration does not have (HTTP 501). */
export class AdminOperationUnavailableError extends MessagingError {
  constructor(
    readonly operation: string,
    readonly transport: string,
    readonly needs: string,
  ) {
    super(`${operation} is not available on transport '${transport}': ${needs}`);
  }
}
