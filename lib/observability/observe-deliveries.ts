import type { Subject } from 'rxjs';
import { describeError } from '../error-text.js';
import type { TransportName } from '../messaging.options.js';
import { TopicRouter } from '../server/topic-router.js';
import type { HandlerRoute } from '../server/subscription-planner.js';
import type { DeliveryHandler, DeliveryOutcome, QueuePlan, RejectionListener } from '../transport/broker.js';
import { settle } from '../transport/settlement.js';
import type { MessageEventBase, MessagingEvent } from './messaging-event.js';
import type { MessagingTracing } from './tracing/messaging-tracing.js';

/**
 * Wraps a queue's delivery handler (the dispatcher) so that each delivery is traced (when tracing is on) and reported
 * on `events`: `received`, then `handled`, `failed` (with `dead-lettered` after it when no attempt is left) or
 * `dead-lettered`. What the consumer will do is settle()'s decision, the same one the transports carry out.
 * Nobody subscribed and no tracing: the dispatcher itself, no extra work per message.
 */
export function observeDeliveries(
  dispatch: DeliveryHandler,
  plan: QueuePlan,
  routes: readonly HandlerRoute[],
  transport: TransportName,
  events: Subject<MessagingEvent>,
  tracing?: MessagingTracing,
): DeliveryHandler {
  const traced: DeliveryHandler = tracing ? (delivery) => tracing.consume(delivery, plan, dispatch) : dispatch;
  const router = new TopicRouter(routes);
  const observed: DeliveryHandler = async (delivery) => {
    if (!events.observed) return traced(delivery);
    const started = performance.now();
    const base: MessageEventBase = {
      transport,
      queue: plan.name,
      topic: delivery.topic,
      pattern: router.match(delivery.topic)?.pattern,
      messageId: delivery.messageId,
      attempt: delivery.receiveCount,
    };
    events.next({ type: 'received', ...base });
    let outcome: DeliveryOutcome;
    try {
      outcome = await traced(delivery);
    } catch (error) {
      report(
        events,
        base,
        { kind: 'retry', reason: `delivery handler failed: ${describeError(error)}` },
        delivery.receiveCount,
        plan,
        performance.now() - started,
      );
      throw error;
    }
    report(events, base, outcome, delivery.receiveCount, plan, performance.now() - started);
    return outcome;
  };
  return observed;
}

/**
 * Reports what the transport dead-lettered before any handler saw it (an undecodable body, a missing large payload):
 * `received`, then what settle() makes of a dead-letter outcome (`dead-lettered`, or `failed` on a queue without one).
 */
export function observeRejections(plan: QueuePlan, transport: TransportName, events: Subject<MessagingEvent>): RejectionListener {
  return (rejection) => {
    if (!events.observed) return;
    const base: MessageEventBase = {
      transport,
      queue: plan.name,
      topic: rejection.topic ?? '',
      pattern: undefined,
      messageId: rejection.messageId,
      attempt: rejection.receiveCount,
    };
    events.next({ type: 'received', ...base });
    report(events, base, { kind: 'dead-letter', reason: rejection.reason }, rejection.receiveCount, plan, 0);
  };
}

function report(
  events: Subject<MessagingEvent>,
  base: MessageEventBase,
  outcome: DeliveryOutcome,
  receiveCount: number,
  plan: QueuePlan,
  durationMs: number,
): void {
  const decision = settle(outcome, receiveCount, plan);
  if (decision.action === 'ack') {
    events.next({ type: 'handled', ...base, durationMs });
    return;
  }
  if (outcome.kind === 'retry') {
    const willRetry = decision.action === 'retry';
    events.next({
      type: 'failed',
      ...base,
      durationMs,
      reason: outcome.reason,
      willRetry,
      ...(willRetry ? { retryInSeconds: decision.delaySeconds } : {}),
    });
  }
  if (decision.action === 'dead-letter') events.next({ type: 'dead-lettered', ...base, durationMs, reason: decision.reason });
  else if (outcome.kind === 'dead-letter') {
    // the dispatcher asked for the DLQ but the queue has none: settle() keeps retrying it
    events.next({ type: 'failed', ...base, durationMs, reason: decision.reason, willRetry: true, retryInSeconds: decision.delaySeconds });
  }
}
