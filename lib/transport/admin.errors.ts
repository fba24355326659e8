import { MessagingError } from '../errors.js';
import { quoted } from './value-preview.js';

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

/** An argument of an admin operation the broker would refuse (HTTP 400); a large or deep value is described, never printed whole. */
export class AdminInvalidArgumentError extends MessagingError {
  constructor(
    readonly argument: string,
    readonly rule: string,
    readonly value?: unknown,
  ) {
    super(`Invalid ${argument}: ${rule}${value === undefined ? '' : ` (got ${quoted(value)})`}`);
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

/**
 * A peek would spend a receive of each message it shows on a queue whose broker dead-letters by receive count
 * (HTTP 409): the caller passes `spendReceive: true` to accept that, or peeks the dead-letter queue.
 */
export class AdminPeekSpendsReceiveError extends MessagingError {
  constructor(
    readonly queue: string,
    readonly maxReceiveCount: number,
    readonly deadLetterQueue: string,
  ) {
    super(
      `Peeking "${queue}" counts as a receive of each message shown, and a message received ${maxReceiveCount} times moves to "${deadLetterQueue}": pass spendReceive: true to peek anyway, or peek "${deadLetterQueue}"`,
    );
  }
}

/**
 * The broker refused the operation because of the state the caller asked about (HTTP 409): a queue locked by another
 * connection, a full target queue, a FIFO target that needs a message group. `reason` is the broker's.
 */
export class AdminBrokerRefusedError extends MessagingError {
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation} was refused by the broker: ${reason}`);
  }
}

/** The broker could not be reached or did not answer in time (HTTP 503): try again when it is back. */
export class AdminBrokerUnavailableError extends MessagingError {
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation} failed: the broker is unavailable (${reason}); try again when it is back`);
  }
}

/** The broker answered with an error of its own (HTTP 502), not caused by the request. */
export class AdminBrokerFailedError extends MessagingError {
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation} failed on the broker: ${reason}`);
  }
}
