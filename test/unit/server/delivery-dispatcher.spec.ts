import 'reflect-metadata';
import {
  CallHandler,
  Controller,
  ExecutionContext,
  Injectable,
  Module,
  NestInterceptor,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import {
  DeadLetterError,
  MessagingValidationPipe,
  MessagingClient,
  MessagingContext,
  MessagingModule,
  MessagingRecord,
} from '../../../lib/index.js';
import { MessagingTesting, MessagingTestingModule } from '../../../lib/testing/index.js';

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
    seen.push({
      kind: 'handled',
      value: {
        order,
        isDto: order instanceof OrderPaid,
        topic: ctx.getTopic(),
        count: ctx.getReceiveCount(),
        sender: ctx.getEnvelope().service?.name,
      },
    });
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

describe('MessagingServer dispatch (testing kit, in-memory broker)', () => {
  let messaging: MessagingTesting;
  let client: MessagingClient;
  let close: () => Promise<void>;
  const orders = { service: { name: 'orders' } };

  beforeAll(async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    messaging = await MessagingTesting.start(app);
    client = app.get(MessagingClient);
    close = () => app.close();
  });

  afterAll(() => close());

  beforeEach(() => {
    seen.splice(0);
    messaging.reset();
  });

  it('plans one queue for two handlers that share a queueName, with a default dead-letter queue', () => {
    const queues = messaging.queues();
    expect(queues).toHaveLength(1);
    expect(queues[0]).toMatchObject({ name: 'billing', deadLetter: { name: 'billing-dlq' }, maxReceiveCount: 5, concurrency: 10 });
    expect(queues[0].subscriptions.map((s) => s.pattern).sort()).toEqual(['order-paid', 'order-refunded', 'order-validated']);
  });

  it('acks after the handler resolved, passing validated payload, context and running interceptors', async () => {
    const result = await messaging.publish('order-paid', { orderId: 'o-1', amount: 100 }, { ...orders, receiveCount: 2 });
    expect(result).toMatchObject({ outcome: 'success', attempts: 1, deliveries: [{ queue: 'billing', outcome: 'success' }] });
    expect(seen.map((s) => s.kind)).toEqual(['interceptor-before', 'handled', 'interceptor-after']);
    expect(seen[1].value).toEqual({ order: { orderId: 'o-1', amount: 100 }, isDto: true, topic: 'order-paid', count: 2, sender: 'orders' });
  });

  it('retries a payload that fails the ValidationPipe instead of acking it', async () => {
    const result = await messaging.publish('order-paid', { orderId: 'o-1', amount: 0 }, orders);
    expect(result.outcome).toBe('retry');
    expect(seen.map((s) => s.kind)).toEqual(['interceptor-before']);
  });

  it('dead-letters at once a payload that fails the MessagingValidationPipe, naming the failed constraints', async () => {
    expect(await messaging.publish('order-validated', { orderId: 7, amount: 0 }, orders)).toMatchObject({
      outcome: 'dead-letter',
      attempts: 1,
      reason: 'handler rejected the message: payload failed validation: orderId must be a string; amount must not be less than 1',
    });
    expect((await messaging.publish('order-validated', { orderId: 'o-9', amount: 3 }, orders)).outcome).toBe('success');
    expect(seen).toEqual([{ kind: 'validated', value: { orderId: 'o-9', amount: 3 } }]);
  });

  it('routes by topic among handlers sharing a queue, and retries a handler that throws', async () => {
    expect((await messaging.publish('order-refunded', { fail: 'no' }, orders)).outcome).toBe('success');
    expect(await messaging.publish('order-refunded', { fail: 'transient' }, orders)).toMatchObject({
      outcome: 'retry',
      reason: 'handler for "order-refunded" failed: database unavailable',
      retryDelaySeconds: 1,
    });
  });

  it('dead-letters at once on DeadLetterError, an undecodable body, or a topic without handler', async () => {
    expect(await messaging.publish('order-refunded', { fail: 'poison' }, orders)).toMatchObject({
      outcome: 'dead-letter',
      reason: 'handler rejected the message: refund for unknown order',
    });
    const garbage = await messaging.publishBody('order-paid', '{not json');
    expect(garbage.outcome).toBe('dead-letter');
    expect(garbage.reason).toMatch(/cannot decode message: body is not valid JSON/);
    const unrouted = await messaging.publish('order-shipped', {}, { ...orders, queue: 'billing' });
    expect(unrouted).toMatchObject({ outcome: 'dead-letter', reason: 'no handler on queue "billing" for topic "order-shipped"' });
  });

  it('emit encodes through the envelope and hands attributes and group to the broker', async () => {
    await lastValueFrom(
      client.emit('order-paid', new MessagingRecord({ orderId: 'o-2', amount: 5 }, { attributes: { currency: 'EUR' }, groupId: 'g1' })),
    );
    const [sent] = messaging.emitted('order-paid');
    expect(sent).toMatchObject({
      topic: 'order-paid',
      attributes: { currency: 'EUR' },
      groupId: 'g1',
      data: { orderId: 'o-2', amount: 5 },
    });
    expect(sent.metadata).toMatchObject({
      topic: 'order-paid',
      service: { name: 'billing' },
      protocolVersion: 'tomodachi-json-base--1.0.0',
    });
    expect(JSON.parse(sent.body as string)).toMatchObject({ data: { orderId: 'o-2', amount: 5 }, metadata: { topic: 'order-paid' } });
  });

  it('send() is refused with an error that points to emit()', async () => {
    await expect(lastValueFrom(client.send('order-paid', {}))).rejects.toThrow(/one-way; use emit\(\)/);
  });
});
