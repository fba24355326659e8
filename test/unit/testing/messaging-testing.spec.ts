import 'reflect-metadata';
import {
  CanActivate,
  Controller,
  ExecutionContext,
  Injectable,
  Module,
  NestInterceptor,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type CallHandler,
  type INestApplication,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { lastValueFrom, tap, type Observable } from 'rxjs';
import { DeadLetterError, MessagingClient, MessagingContext, MessagingModule, MessagingRecord } from '../../../lib/index.js';
import { MessagingTesting, MessagingTestingModule, MessagingTestingTimeoutError } from '../../../lib/testing/index.js';

class InvoiceRequested {
  @IsString() orderId!: string;
  @IsInt() @Min(1) amount!: number;
}

const trail: string[] = [];

@Injectable()
class TrailInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    trail.push(`before ${context.switchToRpc().getContext<MessagingContext>().getTopic()}`);
    return next.handle().pipe(tap(() => trail.push('after')));
  }
}

@Injectable()
class NoBlockedCustomers implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToRpc().getData<{ customer?: string }>().customer !== 'blocked';
  }
}

@Controller()
class KitInvoiceController {
  constructor(private readonly messaging: MessagingClient) {}

  @UseInterceptors(TrailInterceptor)
  @UseGuards(NoBlockedCustomers)
  @EventPattern('kit.invoice.requested', { queueName: 'kit-invoices', filterPolicy: { region: ['eu', 'us'] }, maxReceiveCount: 3 })
  async onInvoiceRequested(@Payload(new ValidationPipe({ transform: true })) request: InvoiceRequested, @Ctx() ctx: MessagingContext) {
    trail.push(
      `handled ${request.orderId} attempt ${ctx.getReceiveCount()} from ${ctx.getEnvelope().service?.name} region ${String(ctx.getAttributes().region)}`,
    );
    if (request.orderId === 'flaky' && ctx.getReceiveCount() < 2) throw new Error('ledger unavailable');
    if (request.orderId === 'broken') throw new Error('ledger corrupt');
    if (request.orderId === 'unknown') throw new DeadLetterError('no such order');
    await lastValueFrom(
      this.messaging.emit(
        'kit-invoice-issued',
        new MessagingRecord(
          { orderId: request.orderId, total: request.amount },
          { attributes: { region: String(ctx.getAttributes().region) } },
        ),
      ),
    );
  }

  @EventPattern('kit.invoice.*', { queueName: 'kit-audit', competing: false })
  onAudit(@Payload() request: { orderId: string }) {
    trail.push(`audited ${request.orderId}`);
  }

  @EventPattern('kit-large-order', {
    queueName: 'kit-large',
    filterPolicyScope: 'MessageBody',
    filterPolicy: { data: { amount: [{ numeric: ['>=', 1000] }] } },
  })
  onLargeOrder(@Payload() order: { amount: number }) {
    trail.push(`large ${order.amount}`);
  }
}

@Module({
  imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'kit-billing', amqp: { url: 'amqp://127.0.0.1:1' } })],
  controllers: [KitInvoiceController],
})
class KitAppModule {}

async function startApp(): Promise<{ app: INestApplication; messaging: MessagingTesting }> {
  const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [KitAppModule] }), {
    timeoutMs: 2000,
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  return { app, messaging: await MessagingTesting.start(app) };
}

describe('MessagingTestingModule.override on an AppModule that imports MessagingModule.forRoot', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;

  beforeAll(async () => {
    ({ app, messaging } = await startApp());
  });
  afterAll(() => app.close());
  beforeEach(() => {
    trail.splice(0);
    messaging.reset();
  });

  it('delivers through pipes, guards and interceptors to every subscribed queue and reports success', async () => {
    const result = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'o-1', amount: 40 },
      { attributes: { region: 'eu' }, service: { name: 'orders' } },
    );
    expect(result).toMatchObject({ topic: 'kit.invoice.requested', outcome: 'success', attempts: 1 });
    expect(result.deliveries.map((d) => [d.queue, d.outcome]).sort()).toEqual([
      ['kit-audit', 'success'],
      ['kit-invoices', 'success'],
    ]);
    expect(trail).toEqual(
      expect.arrayContaining(['before kit.invoice.requested', 'handled o-1 attempt 1 from orders region eu', 'after', 'audited o-1']),
    );
  });

  it('records what the handler emitted: data, attributes and envelope metadata', async () => {
    await messaging.publish('kit.invoice.requested', { orderId: 'o-2', amount: 7 }, { attributes: { region: 'us' } });
    const [issued] = messaging.emitted('kit-invoice-issued');
    expect(issued.data).toEqual({ orderId: 'o-2', total: 7 });
    expect(issued.attributes).toEqual({ region: 'us' });
    expect(issued.metadata).toMatchObject({
      topic: 'kit-invoice-issued',
      service: { name: 'kit-billing' },
      protocolVersion: 'tomodachi-json-base--1.0.0',
    });
    expect(typeof issued.body).toBe('string');
    expect(messaging.emitted()).toHaveLength(1);
    expect(messaging.emitted('kit-other-topic')).toEqual([]);
  });

  it('filters with SNS semantics: a queue whose policy rejects the attributes reports filtered, the handler does not run', async () => {
    const result = await messaging.publish('kit.invoice.requested', { orderId: 'o-3', amount: 5 }, { attributes: { region: 'apac' } });
    expect(result.deliveries.find((d) => d.queue === 'kit-invoices')).toEqual({ queue: 'kit-invoices', outcome: 'filtered', attempts: 0 });
    expect(result.outcome).toBe('success'); // the audit queue has no policy and took it
    expect(trail).toEqual(['audited o-3']);
    const alone = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'o-3', amount: 5 },
      { attributes: { region: 'apac' }, queue: 'kit-invoices' },
    );
    expect(alone.outcome).toBe('success'); // sent straight to the queue: no subscription, no filter
  });

  it('evaluates a MessageBody-scoped policy on the JSON envelope', async () => {
    expect((await messaging.publish('kit-large-order', { amount: 999 })).outcome).toBe('filtered');
    expect((await messaging.publish('kit-large-order', { amount: 1000 })).outcome).toBe('success');
    expect(trail).toEqual(['large 1000']);
  });

  it('reports retry with the reason and backoff, and with redeliver runs the attempts through to success or the dead-letter queue', async () => {
    const once = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'flaky', amount: 1 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices' },
    );
    expect(once).toMatchObject({ outcome: 'retry', attempts: 1, reason: 'handler for "kit.invoice.requested" failed: ledger unavailable' });
    expect(once.retryDelaySeconds).toBeGreaterThan(0);
    const healed = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'flaky', amount: 1 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices', redeliver: true },
    );
    expect(healed).toMatchObject({ outcome: 'success', attempts: 2 });
    const broken = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'broken', amount: 1 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices', redeliver: true },
    );
    expect(broken).toMatchObject({
      outcome: 'dead-letter',
      attempts: 3,
      reason: 'failed 3 time(s), last: handler for "kit.invoice.requested" failed: ledger corrupt',
    });
    const last = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'broken', amount: 1 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices', receiveCount: 3 },
    );
    expect(last.outcome).toBe('dead-letter');
  });

  it('dead-letters at once on DeadLetterError, a failed validation keeps the guard and handler out, a guard refusal is retried', async () => {
    const rejected = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'unknown', amount: 1 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices' },
    );
    expect(rejected).toMatchObject({ outcome: 'dead-letter', attempts: 1, reason: 'handler rejected the message: no such order' });
    const invalid = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'o-4', amount: 0 },
      { attributes: { region: 'eu' }, queue: 'kit-invoices' },
    );
    expect(invalid.outcome).toBe('retry');
    expect(invalid.reason).toMatch(/amount must not be less than 1/);
    const refused = await messaging.publish(
      'kit.invoice.requested',
      { orderId: 'o-5', amount: 3, customer: 'blocked' },
      { attributes: { region: 'eu' }, queue: 'kit-invoices' },
    );
    expect(refused.outcome).toBe('retry');
    expect(refused.reason).toMatch(/Forbidden resource/);
    expect(trail.filter((t) => t.startsWith('handled'))).toEqual(['handled unknown attempt 1 from messaging-testing region eu']);
  });

  it('a body the envelope cannot decode goes to the dead-letter queue; a topic nobody subscribes to has no subscriber', async () => {
    const garbage = await messaging.publishBody('kit.invoice.requested', '{not json', { attributes: { region: 'eu' } });
    expect(garbage.outcome).toBe('dead-letter');
    expect(garbage.reason).toMatch(/cannot decode message/);
    expect(await messaging.publish('kit-nobody-listens', {})).toMatchObject({ outcome: 'no-subscriber', attempts: 0, deliveries: [] });
    await expect(messaging.publish('kit.invoice.requested', {}, { queue: 'kit-no-such-queue' })).rejects.toThrow(
      /No consumer on queue "kit-no-such-queue"; the app consumes "kit-invoices" \(kit\.invoice\.requested\), "kit-audit" \(kit\.invoice\.\*\)/,
    );
  });

  it('waitForEmitted resolves once the app emitted, counting earlier emits, and rejects at its deadline saying what it saw', async () => {
    const waiting = messaging.waitForEmitted('kit-invoice-issued', { count: 2, where: (m) => (m.data as { total: number }).total > 1 });
    await messaging.publish('kit.invoice.requested', { orderId: 'w-1', amount: 2 }, { attributes: { region: 'eu' } });
    await messaging.publish('kit.invoice.requested', { orderId: 'w-2', amount: 1 }, { attributes: { region: 'eu' } });
    await messaging.publish('kit.invoice.requested', { orderId: 'w-3', amount: 3 }, { attributes: { region: 'eu' } });
    expect((await waiting).map((m) => m.data)).toEqual([
      { orderId: 'w-1', total: 2 },
      { orderId: 'w-3', total: 3 },
    ]);
    const started = Date.now();
    const late = messaging.waitForEmitted('kit-invoice-issued', { count: 4, timeoutMs: 150 });
    await expect(late).rejects.toThrow(MessagingTestingTimeoutError);
    await expect(late).rejects.toThrow(
      /expected 4 message\(s\) emitted on "kit-invoice-issued", saw 3; emitted so far: "kit-invoice-issued" \{"orderId":"w-1","total":2\}/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('waitFor checks a condition on the app state until its deadline', async () => {
    let ready = false;
    const waiting = messaging.waitFor(() => ready && 'ready', { timeoutMs: 1000 });
    setImmediate(() => {
      ready = true;
    });
    await expect(waiting).resolves.toBe('ready');
    await expect(messaging.waitFor(() => false, { timeoutMs: 50, description: 'never' })).rejects.toThrow(
      /condition "never" not met \(waited 50 ms\)/,
    );
  });

  it('reset forgets what was emitted and rejects pending waits', async () => {
    await messaging.publish('kit.invoice.requested', { orderId: 'r-1', amount: 2 }, { attributes: { region: 'eu' } });
    const pending = messaging.waitForEmitted('kit-invoice-issued', { count: 5 });
    messaging.reset();
    await expect(pending).rejects.toThrow(/reset\(\) was called/);
    expect(messaging.emitted()).toEqual([]);
  });

  it('lists the queues the server provisioned, with dead-letter queues and filter policies', () => {
    const invoices = messaging.queues().find((q) => q.name === 'kit-invoices');
    expect(invoices).toMatchObject({
      deadLetter: { name: 'kit-invoices-dlq' },
      maxReceiveCount: 3,
      subscriptions: [{ pattern: 'kit.invoice.requested', filterPolicy: { region: ['eu', 'us'] } }],
    });
  });
});

describe('MessagingTesting before the server started and after the app closed', () => {
  it('refuses to publish before the strategy is connected, telling what to call', async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [KitAppModule] })).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await expect(MessagingTesting.of(app).publish('kit.invoice.requested', {})).rejects.toThrow(
        /MessagingServer is not started, so no handler is attached\. In the test, call app\.connectMicroservice\(\{ strategy: app\.get\(MessagingServer\) \}, \{ inheritAppConfig: true \}\) and await app\.startAllMicroservices\(\)/,
      );
    } finally {
      await app.close();
    }
  });

  it('refuses to publish after close, and emits fail as on a closed connection', async () => {
    const { app, messaging } = await startApp();
    const client = app.get(MessagingClient);
    await app.close();
    await expect(messaging.publish('kit.invoice.requested', {})).rejects.toThrow(/the application was closed/);
    await expect(lastValueFrom(client.emit('kit-invoice-issued', {}))).rejects.toThrow(/in-memory broker is closed/);
  });

  it('MessagingTesting.of names the fix when the broker is a real one', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [KitAppModule] }).compile();
    expect(() => MessagingTesting.of(moduleRef)).toThrow(
      /not the in-memory one: build the test module with MessagingTestingModule\.override\(Test\.createTestingModule/,
    );
  });
});

describe('MessagingTestingModule.forRoot in place of MessagingModule.forRoot', () => {
  @Controller()
  class KitShippingController {
    @EventPattern('kit-parcel-sent', { queueName: 'kit-parcels', filterPolicy: { carrier: [{ prefix: 'dh' }] } })
    onParcel(@Payload() parcel: { id: string }, @Ctx() ctx: MessagingContext) {
      trail.push(`parcel ${parcel.id} via ${String(ctx.getAttributes().carrier)}`);
    }
  }

  @Module({
    imports: [MessagingTestingModule.forRoot({ serviceName: 'kit-shipping', topicPrefix: 'kit-' })],
    controllers: [KitShippingController],
  })
  class KitShippingTestModule {}

  beforeEach(() => trail.splice(0));

  it('works with NestFactory alone (no @nestjs/testing), injects MessagingTesting, and starts the app', async () => {
    const app = await NestFactory.create(KitShippingTestModule, { logger: false });
    try {
      const messaging = await MessagingTesting.start(app);
      expect(app.get(MessagingTesting)).toBe(messaging);
      expect((await messaging.publish('kit-parcel-sent', { id: 'p-1' }, { attributes: { carrier: 'ups' } })).outcome).toBe('filtered');
      expect((await messaging.publish('kit-parcel-sent', { id: 'p-2' }, { attributes: { carrier: 'dhl' } })).outcome).toBe('success');
      expect(trail).toEqual(['parcel p-2 via dhl']);
      await lastValueFrom(app.get(MessagingClient).emit('kit-parcel-delivered', { id: 'p-2' }));
      expect(messaging.emitted('kit-parcel-delivered').map((m) => [m.data, m.metadata.service?.name])).toEqual([
        [{ id: 'p-2' }, 'kit-shipping'],
      ]);
    } finally {
      await app.close();
    }
  });

  it('fails with a pointer to override() when the app also imports MessagingModule', async () => {
    await expect(Test.createTestingModule({ imports: [KitAppModule, MessagingTestingModule.forRoot()] }).compile()).rejects.toThrow(
      /takes the place of MessagingModule\.forRoot\(\), but the app imports MessagingModule as well.*MessagingTestingModule\.override/,
    );
  });

  it('a filter policy the in-memory evaluator cannot run fails at startup', async () => {
    @Controller()
    class KitCidrController {
      @EventPattern('kit-cidr', { filterPolicy: { ip: [{ cidr: '10.0.0.0/8' }] } })
      onCidr() {}
    }
    @Module({ imports: [MessagingTestingModule.forRoot()], controllers: [KitCidrController] })
    class KitCidrModule {}
    const app = await NestFactory.create(KitCidrModule, { logger: false });
    try {
      await expect(MessagingTesting.start(app)).rejects.toThrow(
        /filter operator "cidr" is not supported on the in-memory broker of nestjs-messaging\/testing/,
      );
    } finally {
      await app.close();
    }
  });
});
