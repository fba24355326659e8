import type { LoggerService } from '@nestjs/common';
import { inspect } from 'node:util';
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { MessagingContext } from '../context/messaging.context.js';
import { describeError } from '../error-text.js';
import { DeadLetterError } from '../errors.js';
import { DEFAULTS } from '../messaging.options.js';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { DeliveryHandler, DeliveryOutcome, InboundDelivery } from '../transport/broker.js';
import { rejectionOutcome } from '../transport/settlement.js';
import type { HandlerRoute } from './subscription-planner.js';
import { NEST_UNKNOWN_ERROR, recordedFailure, scopeFailures, type GlobalFilterScope } from './handler-failure.js';
import { filteredLikeNest, type DirectHandler } from './handler-fast-path.js';
import { TopicRouter } from '../transport/topic-router.js';

export interface ResolvedRoute extends HandlerRoute {
  envelopeInstance: MessageEnvelope;
  /** Set when the handler has no pipes, guards, interceptors or filters anywhere: the controller method itself. */
  direct?: DirectHandler;
}

const ACK: DeliveryOutcome = { kind: 'ack' };

/**
 * Runs one delivery through its handler and says how it went: ack when the handler resolved, failed when it threw, a
 * rejection (rejectionOutcome()) when no handler matches, the body is too large or cannot be decoded, or the handler
 * threw DeadLetterError. settle() decides what the consumer does with it; the consumer logs the outcome once it acted on it (lib/transport/settlement-log.ts); here only a thrown Error's stack, at debug.
 * `failureScope`: the app's global exception filters when known, so that Nest's default filter does not print the
 * stack of a failure no filter of the app catches (see UnclaimedFailureFilter).
 */
export function createDeliveryDispatcher(
  queueName: string,
  routes: readonly ResolvedRoute[],
  toObservable: (result: unknown) => Observable<unknown>,
  logger: LoggerService,
  maxDecodedBytes: number = DEFAULTS.maxDecodedBytes,
  failureScope?: GlobalFilterScope,
): DeliveryHandler {
  const router = new TopicRouter(routes);
  return async (delivery: InboundDelivery): Promise<DeliveryOutcome> => {
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
    const direct = route.direct;
    if (direct) {
      try {
        let result = direct(decoded.data, context);
        if (isThenable(result)) result = await result;
        if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
        return ACK;
      } catch (error) {
        // what Nest's default exception filter would have passed on, with the original error for the reason
        return failed(logger, delivery, route, filteredLikeNest(error), error);
      }
    }
    scopeFailures(context, failureScope);
    try {
      const result = await route.handler(decoded.data, context);
      await lastValueFrom(toObservable(result), { defaultValue: undefined });
      return ACK;
    } catch (error) {
      return failed(logger, delivery, route, error, recordedFailure(context));
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value instanceof Promise) return true;
  return (
    (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `error`: what the exception filters passed on; `original`: what the handler (or a pipe) threw. */
function failed(
  logger: LoggerService,
  delivery: InboundDelivery,
  route: ResolvedRoute,
  error: unknown,
  original: unknown,
): DeliveryOutcome {
  if (isDeadLetterRequest(error)) return rejectionOutcome('refused', `handler rejected the message: ${describeError(error)}`);
  const reason = `handler for "${route.pattern}" failed: ${failureText(error, original)}`;
  if (original === undefined) return { kind: 'failed', reason }; // thrown before our recorder (a guard): Nest's filter logged it
  if (original instanceof Error) {
    logger.debug?.(
      `Message ${delivery.messageId} on "${delivery.topic}", attempt ${delivery.receiveCount}: ${original.stack ?? original.message}`,
    );
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
