import type { DeliveryOutcome, InboundDelivery, QueuePlan, AttributeValue } from '../../transport/broker.js';

/**
 * What the server and the client ask of tracing; implemented with @opentelemetry/api (otel-tracing.ts), loaded only
 * when `tracing: true`.
 */
export interface MessagingTracing {
  /** Runs `publish` inside a PRODUCER span, with the span's trace context added to the attributes it is given. */
  publish(
    topic: string,
    attributes: Record<string, AttributeValue>,
    publish: (attributes: Record<string, AttributeValue>) => Promise<void>,
  ): Promise<void>;
  /**
   * Runs `run` inside a CONSUMER span that continues the trace the delivery's attributes carry; `run` gets the
   * delivery without the trace context attributes.
   */
  consume(
    delivery: InboundDelivery,
    queue: QueuePlan,
    run: (delivery: InboundDelivery) => Promise<DeliveryOutcome>,
  ): Promise<DeliveryOutcome>;
}
