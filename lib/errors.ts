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
    options?: { cause?: unknown },
  ) {
    super(`Invalid messaging option "${option}": ${rule}${value === undefined ? '' : ` (got ${describe(value)})`}`, options);
  }
}

/**
 * Something the transport needs (the AWS region, credentials) could not be resolved from the options or the
 * environment (unset, or a profile or token that does not resolve): thrown at startup, or by the first emit of an
 * app that does not consume. A MessagingOptionsError, since either place can provide it, but not labelled an
 * invalid option. (The message is set after super(): V8 writes the stack's first line when it is first read.)
 */
export class MessagingEnvironmentError extends MessagingOptionsError {
  constructor(option: string, rule: string, options?: { cause?: unknown }) {
    super(option, rule, undefined, options);
    this.message = `Missing configuration "${option}" (not resolved from the options or the environment): ${rule}`;
  }
}

/**
 * The broker refused or did not answer while topics, queues, subscriptions or bindings were being created at
 * startup. Names the transport, the endpoint (password redacted), the operation and what to check.
 */
export class ProvisioningError extends MessagingError {
  constructor(
    readonly transport: 'sns-sqs' | 'amqp',
    readonly endpoint: string,
    readonly operation: string,
    detail: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport} provisioning failed at ${endpoint}: ${operation}: ${detail}${hint ? `. ${hint}` : ''}`, options);
  }
}

/** No connection to the broker could be made (or kept) within the time allowed. */
export class BrokerConnectionError extends MessagingError {
  constructor(
    readonly transport: 'sns-sqs' | 'amqp',
    readonly endpoint: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${transport}: no connection to ${endpoint}: ${detail}`, options);
  }
}

/**
 * In an app with several connections (`MessagingModule.forRoot({ name })`), one of them failed to start: names the
 * connection; `cause` is what failed (a ProvisioningError, a BrokerConnectionError, ...).
 */
export class ConnectionStartError extends MessagingError {
  constructor(
    readonly connection: string,
    cause: unknown,
  ) {
    super(`Messaging connection '${connection}' failed to start: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * A connection name (`describeTopology({ connection })`, ...) that no `MessagingModule.forRoot` of the app has: names
 * the connections it has.
 */
export class UnknownConnectionError extends MessagingError {
  constructor(
    readonly connection: string,
    readonly known: readonly string[],
  ) {
    super(
      `No messaging connection is named '${connection}' (known: ${known.map((n) => `'${n}'`).join(', ')}); choose a known one or import MessagingModule.forRoot({ name: '${connection}', ... })`,
    );
  }
}

/** A package the chosen transport, envelope or integration needs is not installed. */
export class MissingDependencyError extends MessagingError {
  constructor(
    readonly packages: readonly string[],
    readonly neededBy: string,
    options?: { cause?: unknown },
  ) {
    super(
      `${neededBy} needs ${packages.map((p) => `"${p}"`).join(' and ')}, which ${packages.length > 1 ? 'are' : 'is'} not installed: run npm install ${packages.join(' ')}`,
      options,
    );
  }
}

/** A message body the envelope cannot turn back into data. Such a message goes to the dead-letter queue at once. */
export class EnvelopeDecodeError extends MessagingError {}

/** A message the broker refused or could not take; the emit observable errors with it. */
export class PublishError extends MessagingError {}

/**
 * The broker neither confirmed nor refused the message in time: it may still be delivered. Retrying the emit can
 * deliver it twice; make the handler idempotent (or deduplicate) before you retry.
 */
export class PublishOutcomeUnknownError extends PublishError {}

/** A message over the broker's size limit. */
export class MessageTooLargeError extends PublishError {
  constructor(
    readonly topic: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(
      `Message for topic "${topic}" is ${size} bytes, over the ${limit}-byte limit; send a reference to the data (for example an S3 key) instead`,
    );
  }
}

/**
 * Throw it from a handler, pipe or guard to send the message straight to the dead-letter queue with this reason,
 * without further retries. It is an RpcException so that Nest's exception filter hands its reason on intact
 * (any other exception counts as an ordinary failure and is retried).
 */
export class DeadLetterError extends RpcException {
  constructor(readonly reason: string) {
    super({ status: 'error', message: reason, deadLetter: true });
    this.name = 'DeadLetterError';
  }
}

/**
 * Thrown by `MessagingValidationPipe({ items })` when elements of a payload array fail validation. A batch handler's
 * messages whose elements failed go to the dead-letter queue alone and the handler is called again with the others;
 * for a handler of one message (whose payload is an array) it dead-letters that message, as DeadLetterError does.
 */
export class InvalidElementsError extends DeadLetterError {
  constructor(readonly elements: ReadonlyArray<{ index: number; reason: string }>) {
    super(`payload failed validation: ${elements.map(({ index, reason }) => `element ${index}: ${reason}`).join('; ')}`);
    this.name = 'InvalidElementsError';
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

/**
 * Thrown by a batch handler to say which of its messages failed: those are retried (each by its own receive count,
 * then dead-lettered), the others are settled as handled. `messageIds` are ids of the batch's messages
 * (MessagingBatchContext.getMessageIds()); naming an id that is not in the batch fails the whole batch.
 */
export class BatchFailure extends MessagingError {
  readonly messageIds: readonly string[];

  constructor(messageIds: Iterable<string>, reason = 'the batch handler reported it failed') {
    const ids = [...messageIds];
    super(`${reason} (${ids.length} message(s) of the batch)`);
    this.messageIds = ids;
  }
}
