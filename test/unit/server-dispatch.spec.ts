import 'reflect-metadata';
import { CallHandler, Controller, ExecutionContext, Injectable, Module, NestInterceptor, UseInterceptors, ValidationPipe } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import {
  DeadLetterError, JsonEnvelope, MessagingValidationPipe, MESSAGING_BROKER, MessagingClient, MessagingContext, MessagingModule, MessagingRecord, MessagingServer,
} from '../../lib/index.js';
import { InMemoryBroker } from '../support/in-memory-broker.js';

class OrderPaid {
  @IsString() orderId!: string;
  @IsInt() @Min(1) amount!: number;
}

const seen: Array<{ kind: string; value: unknown }> = [];

@Injectable()
class RecordingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = context.switchToRpc().getContext<MessagingContext>();
    seen.push({ kind: 'interceptor-before', value: ctx.getTopic() });
    return next.handle().pipe(tap(() => seen.push({ kind: 'interceptor-after', value: ctx.getTopic() })));
  }
}

@Controller()
class BillingController {
  @UseInterceptors(RecordingInterceptor)
  @EventPattern('order-paid', { queueName: 'billing' })
  onOrderPaid(@Payload(new ValidationPipe({ transform: true })) order: OrderPaid, @Ctx() ctx: MessagingContext) {
    seen.push({ kind: 'handled', value: { order, isDto: order instanceof OrderPaid, topic: ctx.getTopic(), count: ctx.getReceiveCount(), sender: ctx.getEnvelope().service?.name } });
  }

  @EventPattern('order-validated', { queueName: 'billing' })
  onValidated(@Payload(new MessagingValidationPipe()) order: OrderPaid) {
    seen.push({ kind: 'validated', value: order });
  }

  @EventPattern('order-refunded', { queueName: 'billing' })
  async onRefund(@Payload() data: { fail: string }) {
    if (data.fail === 'transient') throw new Error('database unavailable');
    if (data.fail === 'poison') throw new DeadLetterError('refund for unknown order');
  }
}

@Module({ imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'billing' })], controllers: [BillingController] })
class AppModule {}

describe('MessagingServer dispatch (in-memory broker)', () => {
  let broker: InMemoryBroker;
  let client: MessagingClient;
  let close: () => Promise<void>;
  const envelope = new JsonEnvelope();
  const service = { name: 'orders', uuid: '5b2a9d36-4f0c-4c53-9a59-2f1f5b3a1c11' };
  const body = (topic: string, data: unknown) => envelope.encode(data, { topic, service });

  beforeAll(async () => {
    broker = new InMemoryBroker();
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).overrideProvider(MESSAGING_BROKER).useValue(broker).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    await app.startAllMicroservices();
    await app.init();
    client = app.get(MessagingClient);
    close = () => app.close();
  });

  afterAll(() => close());

  beforeEach(() => seen.splice(0));

  it('plans one queue for two handlers that share a queueName, with a default dead-letter queue', () => {
    expect(broker.provisioned).toHaveLength(1);
    expect(broker.provisioned[0]).toMatchObject({ name: 'billing', deadLetter: { name: 'billing-dlq' }, maxReceiveCount: 5, concurrency: 10 });
    expect(broker.provisioned[0].subscriptions.map((s) => s.pattern).sort()).toEqual(['order-paid', 'order-refunded', 'order-validated']);
  });

  it('acks after the handler resolved, passing validated payload, context and running interceptors', async () => {
    const outcome = await broker.deliver('billing', { topic: 'order-paid', body: body('order-paid', { orderId: 'o-1', amount: 100 }), receiveCount: 2 });
    expect(outcome).toEqual({ kind: 'ack' });
    expect(seen.map((s) => s.kind)).toEqual(['interceptor-before', 'handled', 'interceptor-after']);
    expect(seen[1].value).toEqual({ order: { orderId: 'o-1', amount: 100 }, isDto: true, topic: 'order-paid', count: 2, sender: 'orders' });
  });

  it('retries a payload that fails the ValidationPipe instead of acking it', async () => {
    const outcome = await broker.deliver('billing', { topic: 'order-paid', body: body('order-paid', { orderId: 'o-1', amount: 0 }) });
    expect(outcome.kind).toBe('retry');
    expect(seen.map((s) => s.kind)).toEqual(['interceptor-before']);
  });

  it('dead-letters at once a payload that fails the MessagingValidationPipe, naming the failed constraints', async () => {
    const outcome = await broker.deliver('billing', { topic: 'order-validated', body: body('order-validated', { orderId: 7, amount: 0 }) });
    expect(outcome).toEqual({ kind: 'dead-letter', reason: 'handler rejected the message: payload failed validation: orderId must be a string; amount must not be less than 1' });
    expect(await broker.deliver('billing', { topic: 'order-validated', body: body('order-validated', { orderId: 'o-9', amount: 3 }) })).toEqual({ kind: 'ack' });
    expect(seen).toEqual([{ kind: 'validated', value: { orderId: 'o-9', amount: 3 } }]);
  });

  it('routes by topic among handlers sharing a queue, and retries a handler that throws', async () => {
    expect(await broker.deliver('billing', { topic: 'order-refunded', body: body('order-refunded', { fail: 'no' }) })).toEqual({ kind: 'ack' });
    const outcome = await broker.deliver('billing', { topic: 'order-refunded', body: body('order-refunded', { fail: 'transient' }) });
    expect(outcome.kind).toBe('retry');
  });

  it('dead-letters at once on DeadLetterError, an undecodable body, or a topic without handler', async () => {
    expect(await broker.deliver('billing', { topic: 'order-refunded', body: body('order-refunded', { fail: 'poison' }) }))
      .toEqual({ kind: 'dead-letter', reason: 'handler rejected the message: refund for unknown order' });
    const garbage = await broker.deliver('billing', { topic: 'order-paid', body: '{not json' });
    expect(garbage.kind).toBe('dead-letter');
    expect((garbage as { reason: string }).reason).toMatch(/cannot decode message: body is not valid JSON/);
    const unrouted = await broker.deliver('billing', { topic: 'order-shipped', body: body('order-shipped', {}) });
    expect(unrouted).toEqual({ kind: 'dead-letter', reason: 'no handler on queue "billing" for topic "order-shipped"' });
  });

  it('emit encodes through the envelope and hands attributes and group to the broker', async () => {
    await lastValueFrom(client.emit('order-paid', new MessagingRecord({ orderId: 'o-2', amount: 5 }, { attributes: { currency: 'EUR' }, groupId: 'g1' })));
    const sent = broker.published.at(-1)!;
    expect(sent).toMatchObject({ topic: 'order-paid', attributes: { currency: 'EUR' }, groupId: 'g1' });
    const decoded = envelope.decode(sent.body);
    expect(decoded.data).toEqual({ orderId: 'o-2', amount: 5 });
    expect(decoded.metadata).toMatchObject({ topic: 'order-paid', service: { name: 'billing' }, protocolVersion: 'tomodachi-json-base--1.0.0' });
  });

  it('send() is refused with an error that points to emit()', async () => {
    await expect(lastValueFrom(client.send('order-paid', {}))).rejects.toThrow(/one-way; use emit\(\)/);
  });
});
