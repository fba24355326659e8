import type * as OtelApi from '@opentelemetry/api';
import { describeError } from '../../error-text.js';
import type { AttributeValue, DeliveryOutcome, InboundDelivery, QueuePlan } from '../../transport/broker.js';
import { settle } from '../../transport/settlement.js';
import type { TransportTracing } from '../../transport/transport-definition.js';
import type { MessagingTracing } from './messaging-tracing.js';
import { attributeText, formatTraceparent, parseTraceparent, TRACEPARENT, TRACESTATE, withoutTraceContext } from './trace-context.js';

/** The instrumentation scope name of every span this library starts. */
const TRACER_NAME = 'nestjs-messaging';

/** Spans through @opentelemetry/api: the SDK, exporter and context manager are the application's. */
export class OtelTracing implements MessagingTracing {
  private readonly tracer: OtelApi.Tracer;

  constructor(
    private readonly api: typeof OtelApi,
    private readonly transport: TransportTracing,
  ) {
    this.tracer = api.trace.getTracer(TRACER_NAME);
  }

  async publish(
    topic: string,
    attributes: Record<string, AttributeValue>,
    publish: (attributes: Record<string, AttributeValue>) => Promise<void>,
  ): Promise<void> {
    const { api } = this;
    const active = api.context.active();
    const span = this.tracer.startSpan(
      `${topic} publish`,
      {
        kind: api.SpanKind.PRODUCER,
        attributes: {
          'messaging.system': this.transport.system,
          'messaging.operation': 'publish',
          'messaging.destination.name': topic,
          'messaging.destination.kind': 'topic',
        },
      },
      active,
    );
    const carrier: Record<string, AttributeValue> = { ...attributes };
    const spanContext = span.spanContext();
    if (api.isSpanContextValid(spanContext)) {
      carrier[TRACEPARENT] = formatTraceparent(spanContext);
      const state = spanContext.traceState?.serialize();
      if (state) carrier[TRACESTATE] = state;
      else delete carrier[TRACESTATE];
    }
    try {
      // Not inside the span's context: the broker call is batched (one PublishBatch or socket write for many emits), so
      // no span beneath it would belong to this emit alone, and entering a context costs every promise made in it.
      await publish(carrier);
      span.setStatus({ code: api.SpanStatusCode.OK });
    } catch (error) {
      span.recordException(error instanceof Error ? error : describeError(error));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: describeError(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  async consume(
    delivery: InboundDelivery,
    queue: QueuePlan,
    run: (delivery: InboundDelivery) => Promise<DeliveryOutcome>,
  ): Promise<DeliveryOutcome> {
    const { api } = this;
    const parent = this.extract(delivery.attributes);
    const attributes: OtelApi.Attributes = {
      'messaging.system': this.transport.system,
      'messaging.operation': 'process',
      'messaging.destination.name': queue.name,
      'messaging.destination.kind': 'queue',
      'messaging.destination_publish.name': delivery.topic,
      'messaging.message.id': delivery.messageId,
      'nestjs_messaging.attempt': delivery.receiveCount,
    };
    if (this.transport.deliveryTopicAttribute) attributes[this.transport.deliveryTopicAttribute] = delivery.topic;
    const span = this.tracer.startSpan(`${delivery.topic} process`, { kind: api.SpanKind.CONSUMER, attributes }, parent);
    const stripped = withoutTraceContext(delivery.attributes);
    const handed = stripped === delivery.attributes ? delivery : { ...delivery, attributes: stripped };
    try {
      const outcome = await api.context.with(api.trace.setSpan(parent, span), run, undefined, handed);
      const decision = settle(outcome, delivery.receiveCount, queue);
      span.setAttribute('nestjs_messaging.outcome', decision.action);
      if (outcome.kind === 'ack') span.setStatus({ code: api.SpanStatusCode.OK });
      else span.setStatus({ code: api.SpanStatusCode.ERROR, message: outcome.reason });
      return outcome;
    } catch (error) {
      span.setAttribute('nestjs_messaging.outcome', 'retry');
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: describeError(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  /** The remote parent from `traceparent` / `tracestate`, or the root context (a new trace) when there is none. */
  private extract(attributes: Record<string, unknown>): OtelApi.Context {
    const { api } = this;
    const parsed = parseTraceparent(attributes[TRACEPARENT]);
    if (!parsed) return api.ROOT_CONTEXT;
    const state = attributeText(attributes[TRACESTATE]);
    const spanContext: OtelApi.SpanContext = { ...parsed, isRemote: true, ...(state ? { traceState: api.createTraceState(state) } : {}) };
    return api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);
  }
}
