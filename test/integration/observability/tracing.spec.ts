import { PublishCommand, CreateTopicCommand } from '@aws-sdk/client-sns';
import { context, trace, SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord, RawEnvelope, type MessagingModuleOptions } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { handlersController, startHttpApp, type HttpApp } from './http-app.js';

/** The AMQP apps' queues (named after their services) are deleted after all tests. */
const trackAmqp = cleanUpBrokerAfterAll();

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const contextManager = new AsyncLocalStorageContextManager();
let fauxqs: Fauxqs;

beforeAll(async () => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  await fauxqs?.stop();
  await provider.shutdown();
  trace.disable();
  context.disable();
});

const W3C_TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

/** Another client's publish, with a traceparent / tracestate of its own (no nestjs-messaging involved). */
type ForeignPublish = (topic: string, body: string, traceAttributes: Record<string, string>) => Promise<void>;

const transports: Array<
  [string, 'sns-sqs' | 'amqp', string, (o: Omit<MessagingModuleOptions, 'transport'>) => MessagingModuleOptions, () => ForeignPublish]
> = [
  [
    'SNS+SQS (fauxqs)',
    'sns-sqs',
    'aws_sqs',
    (o) => fauxqsOptions(fauxqs, o),
    () => async (topic, body, attributes) => {
      const { TopicArn } = await fauxqs.sns.send(new CreateTopicCommand({ Name: topic }));
      await fauxqs.sns.send(
        new PublishCommand({
          TopicArn,
          Message: body,
          MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])),
        }),
      );
    },
  ],
  [
    'AMQP (RabbitMQ)',
    'amqp',
    'rabbitmq',
    (o) => rabbitMqOptions({ retryBackoff: 0.05, drainTimeout: 5000, ...o, serviceName: trackAmqp(o.serviceName) }),
    () => async (topic, body, headers) => {
      const connection = await rawConnection();
      try {
        const channel = await connection.createConfirmChannel();
        channel.publish('amq.topic', topic, Buffer.from(body), { headers, messageId: uniqueName('foreign'), persistent: true });
        await channel.waitForConfirms();
        await channel.close();
      } finally {
        await connection.close();
      }
    },
  ],
];

describe.each(transports)('tracing over %s', (_name, _transport, system, optionsFor, foreignPublisher) => {
  let http: HttpApp | undefined;
  beforeEach(() => exporter.reset());
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  const spansNamed = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);

  it('one trace from emit to handler: PRODUCER span injecting traceparent, CONSUMER span as its child, handler inside it', async () => {
    const topic = uniqueName('traced');
    const seen: Array<{ attributes: Record<string, unknown>; spanId?: string; traceId?: string; messageId: string }> = [];
    http = await startHttpApp(optionsFor({ serviceName: uniqueName('trace-svc'), tracing: true }), [
      handlersController([
        {
          pattern: topic,
          handle: (_data, ctx) => {
            const active = trace.getActiveSpan()?.spanContext();
            seen.push({ attributes: ctx.getAttributes(), spanId: active?.spanId, traceId: active?.traceId, messageId: ctx.getMessageId() });
          },
        },
      ]),
    ]);
    const client = http.app.get(MessagingClient);
    const root = trace.getTracer('test').startSpan('request');
    await context.with(trace.setSpan(context.active(), root), () =>
      lastValueFrom(client.emit(topic, new MessagingRecord({ n: 1 }, { attributes: { currency: 'EUR' } })), { defaultValue: undefined }),
    );
    root.end();

    await waitFor(() => spansNamed(`${topic} process`).length === 1, { timeoutMs: 20_000, what: 'the consumer span' });
    const [producer] = spansNamed(`${topic} publish`);
    const [consumer] = spansNamed(`${topic} process`);
    const rootContext = root.spanContext();
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(rootContext.traceId);
    expect(producer.parentSpanContext?.spanId).toBe(rootContext.spanId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.operation': 'publish',
      'messaging.destination.name': topic,
    });
    expect(producer.status.code).toBe(SpanStatusCode.OK);

    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(consumer.spanContext().traceId).toBe(rootContext.traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.parentSpanContext?.isRemote).toBe(true);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': system,
      'messaging.operation': 'process',
      'messaging.destination_publish.name': topic,
      'messaging.message.id': seen[0].messageId,
      'nestjs_messaging.outcome': 'ack',
      'nestjs_messaging.attempt': 1,
    });
    expect(String(consumer.attributes['messaging.destination.name'])).toContain(topic);
    expect(consumer.status.code).toBe(SpanStatusCode.OK);

    // the handler ran inside the consumer span, and saw its own attributes only
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ spanId: consumer.spanContext().spanId, traceId: rootContext.traceId });
    expect(seen[0].attributes).toEqual({ currency: 'EUR' });
  });

  it('a failing handler: an ERROR span with outcome retry, then the retry in the same trace', async () => {
    const topic = uniqueName('traced-fail');
    http = await startHttpApp(optionsFor({ serviceName: uniqueName('trace-svc'), tracing: true }), [
      handlersController([
        {
          pattern: topic,
          extras: { maxReceiveCount: 2 },
          handle: (_data, ctx) => {
            if (ctx.getReceiveCount() === 1) throw new Error('not yet');
          },
        },
      ]),
    ]);
    await lastValueFrom(http.app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
    await waitFor(() => spansNamed(`${topic} process`).length === 2, { timeoutMs: 20_000, what: 'two consumer spans' });
    const [producer] = spansNamed(`${topic} publish`);
    const [first, second] = spansNamed(`${topic} process`).sort(
      (a, b) => Number(a.attributes['nestjs_messaging.attempt']) - Number(b.attributes['nestjs_messaging.attempt']),
    );
    expect(first.status).toEqual({ code: SpanStatusCode.ERROR, message: expect.stringContaining('not yet') });
    expect(first.attributes['nestjs_messaging.outcome']).toBe('retry');
    expect(second.status.code).toBe(SpanStatusCode.OK);
    expect(second.attributes).toMatchObject({ 'nestjs_messaging.outcome': 'ack', 'nestjs_messaging.attempt': 2 });
    for (const span of [first, second] as ReadableSpan[]) {
      expect(span.spanContext().traceId).toBe(producer.spanContext().traceId);
      expect(span.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    }
  });

  it('continues the trace of a message another client published with a traceparent attribute', async () => {
    const topic = uniqueName('foreign');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const seen: Array<{ data: unknown; attributes: Record<string, unknown>; traceState?: string }> = [];
    http = await startHttpApp(optionsFor({ serviceName: uniqueName('trace-svc'), tracing: true }), [
      handlersController([
        {
          pattern: topic,
          extras: { envelope: RawEnvelope },
          handle: (data, ctx) => {
            seen.push({ data, attributes: ctx.getAttributes(), traceState: trace.getActiveSpan()?.spanContext().traceState?.serialize() });
          },
        },
      ]),
    ]);
    await foreignPublisher()(topic, 'from elsewhere', {
      traceparent: `00-${traceId}-${parentId}-01`,
      tracestate: 'vendor=abc',
      origin: 'tomodachi',
    });
    await waitFor(() => seen.length === 1, { timeoutMs: 20_000, what: 'the foreign message to be handled' });
    const [consumer] = spansNamed(`${topic} process`);
    expect(consumer.spanContext().traceId).toBe(traceId);
    expect(consumer.parentSpanContext).toMatchObject({ traceId, spanId: parentId, isRemote: true });
    expect(seen[0]).toEqual({ data: 'from elsewhere', attributes: { origin: 'tomodachi' }, traceState: 'vendor=abc' });
  });

  it('a consumer without tracing receives the producer span as a W3C traceparent attribute', async () => {
    const topic = uniqueName('traced-raw');
    const seen: Array<Record<string, unknown>> = [];
    // tracing off on the consumer: the attributes reach the handler untouched, so we can read what was injected
    http = await startHttpApp(optionsFor({ serviceName: uniqueName('trace-svc'), tracing: false }), [
      handlersController([
        {
          pattern: topic,
          handle: (_d, ctx) => {
            seen.push(ctx.getAttributes());
          },
        },
      ]),
    ]);
    const publisher = await startHttpApp(optionsFor({ serviceName: uniqueName('trace-pub'), tracing: true }), []);
    try {
      let span: Span | undefined;
      await trace.getTracer('test').startActiveSpan('request', async (s) => {
        span = s;
        await lastValueFrom(publisher.app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
        s.end();
      });
      await waitFor(() => seen.length === 1, { timeoutMs: 20_000, what: 'the message' });
      const [producer] = spansNamed(`${topic} publish`);
      expect(seen[0].traceparent).toMatch(W3C_TRACEPARENT);
      expect(seen[0].traceparent).toBe(`00-${span!.spanContext().traceId}-${producer.spanContext().spanId}-01`);
      expect(seen[0]).not.toHaveProperty('tracestate');
    } finally {
      await publisher.close();
    }
  });
});
