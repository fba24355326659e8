import { RpcException } from '@nestjs/microservices';

/** Base class of every error this library throws on purpose. */
export class MessagingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An option (module option or @EventPattern extra) breaks a rule; thrown at startup, before any broker call. */
export class MessagingOptionsError extends MessagingError {
  constructor(
    readonly option: string,
    readonly rule: string,
    readonly value?: unknown,
  ) {
    super(`Invalid messaging option "${option}": ${rule}${value === undefined ? '' : ` (got ${describe(value)})`}`);
  }
}

/** A message body the envelope cannot turn back into data. Such a message goes to the dead-letter queue at once. */
export class EnvelopeDecodeError extends MessagingError {}

/** A message the broker refused or could not take; the emit observable errors with it. */
export class PublishError extends MessagingError {}

/** A message over the broker's size limit. */
export class MessageTooLargeError extends PublishError {
  constructor(
    readonly topic: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`Message for topic "${topic}" is ${size} bytes, over the ${limit}-byte limit; send a reference to the data (for example an S3 key) instead`);
  }
}

/**
 * Throw it from a handler, pipe or guard to send the message straight to the dead-letter queue with this reason,
 * without further retries. It is an RpcException so that Nest's exception filter hands its reason on intact
 * (any other exception reaches the transport as "Internal server error" and is retried).
 */
export class DeadLetterError extends RpcException {
  constructor(readonly reason: string) {
    super({ status: 'error', message: reason, deadLetter: true });
    this.name = 'DeadLetterError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 100 ? `${json.slice(0, 100)}…` : json;
  } catch {
    return Object.prototype.toString.call(value);
  }
}
