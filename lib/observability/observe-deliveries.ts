import { describeError } from '../error-text.js';
import type { TransportName } from '../messaging.options.js';
import { TopicRouter } from '../transport/topic-router.js';
import type { DeliveryHandler, DeliveryOutcome, InboundDelivery, QueuePlan, RejectionListener } from '../transport/broker.js';
import { settle } from '../transport/settlement.js';
import type { DeliveryObservers } from './delivery-observers.js';
import type { MessageEventBase } from './messaging-event.js';
import type { MessagingTracing } from './tracing/messaging-tracing.js';

/**
 * Wraps a queue's delivery handler (the dispatcher) so that each delivery is traced (when tracing is on) and reported
 * to the delivery listeners and on `events`: `received`, then `handled`, `failed` (with `dead-lettered` after it when
 * no attempt is left) or `dead-lettered`. What the consumer will do is settle()'s decision, the same one the
 * transports carry out. Nobody watching and no tracing: the dispatcher itself, no extra work per message.
 */
export function observeDeliveries(
  dispatch: DeliveryHandler,
  plan: QueuePlan,
  routes: readonly { pattern: string }[],
  transport: TransportName,
  observers: DeliveryObservers,
  tracing?: MessagingTracing,
): DeliveryHandler {
  const traced: DeliveryHandler = tracing ? (delivery) => tracing.consume(delivery, plan, dispatch) : dispatch;
  const router = new TopicRouter(routes);
  // not async itself: with nobody watching, the delivery costs no promise of its own and no extra microtask turn
  const observed: DeliveryHandler = (delivery) => (observers.active ? observe(delivery) : traced(delivery));
  const observe = async (delivery: InboundDelivery): Promise<DeliveryOutcome> => {
    const started = performance.now();
    const pattern = router.match(delivery.topic)?.pattern;
    const base = observers.events.observed
      ? eventBase(transport, plan, delivery.topic, pattern, delivery.messageId, delivery.receiveCount)
      : undefined;
    received(observers, plan, pattern, base);
    let outcome: DeliveryOutcome;
    try {
      outcome = await traced(delivery);
    } catch (error) {
      const failure: DeliveryOutcome = { kind: 'failed', reason: `delivery handler failed: ${describeError(error)}` };
      report(observers, plan, pattern, base, failure, delivery.receiveCount, performance.now() - started);
      throw error;
    }
    report(observers, plan, pattern, base, outcome, delivery.receiveCount, performance.now() - started);
    return outcome;
  };
  return observed;
}

/**
 * Reports what the transport dead-lettered before any handler saw it (an undecodable body, a missing large payload):
 * `received`, then what settle() makes of a dead-letter outcome (`dead-lettered`, or `failed` on a queue without one).
 */
export function observeRejections(plan: QueuePlan, transport: TransportName, observers: DeliveryObservers): RejectionListener {
  return (rejection) => {
    if (!observers.active) return;
    const base = observers.events.observed
      ? eventBase(transport, plan, rejection.topic ?? '', undefined, rejection.messageId, rejection.receiveCount)
      : undefined;
    received(observers, plan, undefined, base);
    report(observers, plan, undefined, base, { kind: 'dead-letter', reason: rejection.reason }, rejection.receiveCount, 0);
  };
}

function eventBase(
  transport: TransportName,
  plan: QueuePlan,
  topic: string,
  pattern: string | undefined,
  messageId: string,
  attempt: number,
): MessageEventBase {
  return { transport, queue: plan.name, topic, pattern, messageId, attempt };
}

function received(observers: DeliveryObservers, plan: QueuePlan, pattern: string | undefined, base: MessageEventBase | undefined): void {
  for (const listener of observers.items) listener.received(plan.name, pattern);
  if (base) observers.events.next({ type: 'received', ...base });
}

function report(
  observers: DeliveryObservers,
  plan: QueuePlan,
  pattern: string | undefined,
  base: MessageEventBase | undefined,
  outcome: DeliveryOutcome,
  receiveCount: number,
  durationMs: number,
): void {
  const decision = settle(outcome, receiveCount, plan);
  for (const listener of observers.items) listener.settled(plan.name, pattern, decision.action, durationMs);
  if (!base) return;
  const events = observers.events;
  if (decision.action === 'ack') {
    events.next({ type: 'handled', ...base, durationMs });
    return;
  }
  if (outcome.kind === 'failed') {
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
