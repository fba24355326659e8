import type { LoggerService } from '@nestjs/common';
import { inspect } from 'node:util';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { MessagingBatchContext } from '../context/messaging-batch.context.js';
import { MessagingContext } from '../context/messaging.context.js';
import { describeError } from '../error-text.js';
import { BatchFailure, DeadLetterError, InvalidElementsError } from '../errors.js';
import { DEFAULTS } from '../messaging.options.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { DeliveryHandler, DeliveryOutcome, InboundDelivery } from '../transport/broker.js';
import { rejectionOutcome } from '../transport/settlement.js';
import type { HandlerRoute } from './subscription-planner.js';
import { NEST_UNKNOWN_ERROR, recordedFailure, scopeFailures, type GlobalFilterScope } from './handler-failure.js';
import { filteredLikeNest, type DirectHandler } from './handler-fast-path.js';
import { TopicRouter } from '../transport/topic-router.js';
import { BatchCollector } from './batch-collector.js';

export interface ResolvedRoute extends HandlerRoute {
  envelopeInstance: MessageEnvelope;
  /** Set when the handler has no pipes, guards, interceptors or filters anywhere: the controller method itself. */
  direct?: DirectHandler;
}

const ACK: DeliveryOutcome = { kind: 'ack' };

/** The delivery handler of one queue, and the shutdown hook of its batch handlers. */
export type DeliveryDispatcher = DeliveryHandler & {
  /** Shutdown begins: batch handlers get what they hold now, and later deliveries at once, without waiting for maxWaitMs. */
  drainBatches(): void;
};

/**
 * Runs one delivery through its handler and says how it went: ack when the handler resolved, failed when it threw, a
 * rejection (rejectionOutcome()) when no handler matches, the body is too large or cannot be decoded, or the handler
 * threw DeadLetterError. A batch route's delivery waits for its batch (BatchCollector, see runBatch) and resolves
 * with its own outcome from the batch handler's call. settle() decides what the consumer does with it; the consumer logs the outcome once it acted on it (lib/transport/settlement-log.ts); here only a thrown Error's stack, at debug.
 * `failureScope`: the app's global exception filters when known, so that Nest's default filter does not print the
 * stack of a failure no filter of the app catches (see UnclaimedFailureFilter). `onBatch`: told of each batch a batch
 * handler is called with (the metrics' batch-size histogram).
 */
export function createDeliveryDispatcher(
  queueName: string,
  routes: readonly ResolvedRoute[],
  toObservable: (result: unknown) => Observable<unknown>,
  logger: LoggerService,
  maxDecodedBytes: number = DEFAULTS.maxDecodedBytes,
  failureScope?: GlobalFilterScope,
  onBatch?: (pattern: string, size: number) => void,
): DeliveryDispatcher {
  const router = new TopicRouter(routes);
  const call = (route: ResolvedRoute, data: unknown, context: MessagingContext | MessagingBatchContext) =>
    callHandler(route, data, context, toObservable, failureScope);
  const collectors = new Map<ResolvedRoute, BatchCollector<Prepared, DeliveryOutcome>>();
  for (const route of routes) {
    if (!route.batch) continue;
    const collector = new BatchCollector<Prepared, DeliveryOutcome>(
      route.batch.maxSize,
      route.batch.maxWaitMs,
      (batch) => {
        onBatch?.(route.pattern, batch.length);
        return runBatch(route, batch, call, logger);
      },
      (error) => ({ kind: 'failed', reason: `batch handler for "${route.pattern}" could not run: ${describeError(error)}` }),
    );
    collectors.set(route, collector);
  }
  const dispatch = async (delivery: InboundDelivery): Promise<DeliveryOutcome> => {
    const route = router.match(delivery.topic) as ResolvedRoute | undefined;
    if (!route) return rejectionOutcome('no-handler', `no handler on queue "${queueName}" for topic "${delivery.topic}"`);
    const size = typeof delivery.body === 'string' ? Buffer.byteLength(delivery.body) : delivery.body.length;
    if (size > maxDecodedBytes)
      return rejectionOutcome('too-large', `message body is ${size} bytes, over maxDecodedBytes (${maxDecodedBytes})`);
    let decoded;
    try {
      const result = route.envelopeInstance.decode(delivery.body, { topic: delivery.topic, protoClass: route.protoClass, maxDecodedBytes });
      decoded = result instanceof Promise ? await result : result;
    } catch (error) {
      return rejectionOutcome('undecodable', `cannot decode message: ${describeError(error)}`);
    }
    // a message without a transport id (tomodachi publishes on AMQP with no properties) goes by its envelope's uuid
    const uuid = decoded.metadata?.messageUuid;
    if ((delivery.messageIdMissing || delivery.messageId === '') && typeof uuid === 'string' && uuid !== '') {
      delivery.messageId = uuid;
      delivery.messageIdMissing = false;
    }
    const context = new MessagingContext([
      delivery.topic,
      delivery.attributes,
      delivery.messageId,
      delivery.receiveCount,
      decoded.metadata,
      delivery.raw,
      delivery.groupId,
    ]);
    if (route.batch) {
      const prepared = { delivery, data: decoded.data, context };
      // a retried message runs in a batch of its own: one that keeps failing then fails alone, not with its companions
      if (delivery.receiveCount > 1) return (await runBatch(route, [prepared], call, logger))[0];
      return collectors.get(route)!.add(prepared);
    }
    try {
      const pending = call(route, decoded.data, context);
      if (pending) await pending;
      return ACK;
    } catch (error) {
      // fast path: what Nest's default exception filter would have passed on, with the original error for the reason
      const [filtered, original] = route.direct ? [filteredLikeNest(error), error] : [error, recordedFailure(context)];
      return failed(logger, messageLabel(delivery), route, filtered, original);
    }
  };
  return Object.assign(dispatch, {
    drainBatches() {
      for (const collector of collectors.values()) collector.drain();
    },
  });
}

/** A decoded delivery of a batch route, waiting for its batch. */
interface Prepared {
  delivery: InboundDelivery;
  data: unknown;
  context: MessagingContext;
}

/**
 * Runs the route's handler for one message or one batch: straight to the controller method on the fast path, else
 * through Nest's pipeline. Throws what failed: on the fast path what the handler threw, else the exception filters'
 * output (recordedFailure() has the original). A fast-path handler that returns a plain value is done without a
 * promise (no await per message on the hot path).
 */
function callHandler(
  route: ResolvedRoute,
  data: unknown,
  context: MessagingContext | MessagingBatchContext,
  toObservable: (result: unknown) => Observable<unknown>,
  failureScope: GlobalFilterScope | undefined,
): Promise<void> | undefined {
  const direct = route.direct;
  if (direct) {
    const result = direct(data, context);
    return isThenable(result) ? Promise.resolve(result).then(untilComplete) : untilComplete(result);
  }
  return throughPipeline(route, data, context, toObservable, failureScope);
}

async function throughPipeline(
  route: ResolvedRoute,
  data: unknown,
  context: MessagingContext | MessagingBatchContext,
  toObservable: (result: unknown) => Observable<unknown>,
  failureScope: GlobalFilterScope | undefined,
): Promise<void> {
  scopeFailures(context, failureScope);
  const result = await route.handler(data, context);
  await lastValueFrom(toObservable(result), { defaultValue: undefined });
}

/**
 * A handler's result done: an Observable's completion (its values are ignored); anything else is done already, with
 * no promise made for it (this runs once per message).
 */
function untilComplete(result: unknown): Promise<void> | undefined {
  return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }).then(() => undefined) : undefined;
}

/**
 * One call of a batch handler with the batch's payloads and a MessagingBatchContext, and each message's outcome:
 * all ack when it resolved; a BatchFailure fails the messages it names and acks the rest; any other failure (a
 * DeadLetterError included) is every message's outcome. settle() then decides for each message on its own.
 */
async function runBatch(
  route: ResolvedRoute,
  batch: Prepared[],
  call: (route: ResolvedRoute, data: unknown, context: MessagingBatchContext) => Promise<void> | undefined,
  logger: LoggerService,
): Promise<DeliveryOutcome[]> {
  const context = new MessagingBatchContext([batch.map((entry) => entry.context)]);
  try {
    await call(
      route,
      batch.map((entry) => entry.data),
      context,
    );
    return batch.map(() => ACK);
  } catch (error) {
    const [filtered, original] = route.direct ? [filteredLikeNest(error), error] : [error, recordedFailure(context)];
    if (original instanceof BatchFailure) return reportedFailures(route, batch, original);
    if (original instanceof InvalidElementsError) return withoutInvalid(route, batch, original, call, logger);
    const ids = batch.map((entry) => entry.delivery.messageId).join(', ');
    const outcome = failed(logger, `Batch of ${batch.length} on "${route.pattern}" (messages ${ids})`, route, filtered, original);
    return batch.map(() => outcome);
  }
}

/**
 * A pipe (MessagingValidationPipe with `items`) refused some elements: their messages are dead-lettered alone, with
 * the element's reason, and the handler runs again (its pipeline included) with the others.
 */
async function withoutInvalid(
  route: ResolvedRoute,
  batch: Prepared[],
  invalid: InvalidElementsError,
  call: (route: ResolvedRoute, data: unknown, context: MessagingBatchContext) => Promise<void> | undefined,
  logger: LoggerService,
): Promise<DeliveryOutcome[]> {
  const reasons = new Map(invalid.elements.map(({ index, reason }) => [index, reason]));
  const valid = batch.filter((_, index) => !reasons.has(index));
  // no element of this batch named (the pipe validated another array): calling again would fail the same way
  if (valid.length === batch.length) return batch.map(() => rejectionOutcome('refused', `handler rejected the message: ${invalid.reason}`));
  const rest = valid.length > 0 ? await runBatch(route, valid, call, logger) : [];
  let next = 0;
  return batch.map((_, index) => {
    const reason = reasons.get(index);
    return reason === undefined
      ? rest[next++]
      : rejectionOutcome('refused', `handler rejected the message: payload failed validation: ${reason}`);
  });
}

/** The outcomes a BatchFailure asks for; one that names a message not in the batch fails every message, saying so. */
function reportedFailures(route: ResolvedRoute, batch: Prepared[], failure: BatchFailure): DeliveryOutcome[] {
  const inBatch = new Set(batch.map((entry) => entry.delivery.messageId));
  const unknown = failure.messageIds.filter((id) => !inBatch.has(id));
  if (unknown.length > 0) {
    const reason = `batch handler for "${route.pattern}" threw a BatchFailure naming message id(s) not in its batch (${unknown.join(', ')}), so every message of the batch is retried; name ids from MessagingBatchContext.getMessageIds()`;
    return batch.map(() => ({ kind: 'failed', reason }));
  }
  const named = new Set(failure.messageIds);
  const reported: DeliveryOutcome = {
    kind: 'failed',
    reason: `batch handler for "${route.pattern}" failed this message: ${describeError(failure)}`,
  };
  return batch.map((entry) => (named.has(entry.delivery.messageId) ? reported : ACK));
}

function messageLabel(delivery: InboundDelivery): string {
  return `Message ${delivery.messageId} on "${delivery.topic}", attempt ${delivery.receiveCount}`;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value instanceof Promise) return true;
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `error`: what the exception filters passed on; `original`: what the handler (or a pipe) threw; `label`: the log line's subject. */
function failed(logger: LoggerService, label: string, route: ResolvedRoute, error: unknown, original: unknown): DeliveryOutcome {
  if (isDeadLetterRequest(error)) return rejectionOutcome('refused', `handler rejected the message: ${describeError(error)}`);
  const reason = `handler for "${route.pattern}" failed: ${failureText(error, original)}`;
  if (original === undefined) return { kind: 'failed', reason }; // thrown before our recorder (a guard): Nest's filter logged it
  if (original instanceof Error) {
    logger.debug?.(`${label}: ${original.stack ?? original.message}`);
    return { kind: 'failed', reason };
  }
  // no stack to show: the thrown value itself, as inspected, goes with the attempt's log line
  return { kind: 'failed', reason, detail: `thrown value, not an Error: ${inspect(original, { depth: 4, breakLength: Infinity })}` };
}

/** What reaches us is the exception filter's output: DeadLetterError arrives as its error object. */
function isDeadLetterRequest(error: unknown): boolean {
  return (
    error instanceof DeadLetterError ||
    (typeof error === 'object' && error !== null && (error as { deadLetter?: unknown }).deadLetter === true)
  );
}

/**
 * The text of a handler failure: what the exception filters passed on, unless that is Nest's generic
 * "Internal server error" for an error it did not know, in which case the error the handler threw.
 */
function failureText(error: unknown, original: unknown): string {
  const generic = typeof error === 'object' && error !== null && (error as { message?: unknown }).message === NEST_UNKNOWN_ERROR;
  return generic && original !== undefined ? describeError(original) : describeError(error);
}
