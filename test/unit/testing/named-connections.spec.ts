import 'reflect-metadata';
import { Controller, Injectable, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import {
  getMessagingClientToken,
  InjectMessagingClient,
  MessagingClient,
  MessagingContext,
  MessagingEventPattern,
  MessagingModule,
  MessagingRecord,
  UnknownConnectionError,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { getMessagingTestingToken, InjectMessagingTesting, MessagingTesting, MessagingTestingModule } from '../../../lib/testing/index.js';

const trail: string[] = [];

/** One topic on both connections, so that a publish reaching the wrong connection's handler shows. */
@Controller()
class KnOrdersController {
  constructor(
    private readonly messaging: MessagingClient,
    @InjectMessagingClient('partner') private readonly partner: MessagingClient,
  ) {}

  @MessagingEventPattern('kn-order-paid', { queueName: 'kn-orders' })
  async onOrderPaid(@Payload() order: { id: string }, @Ctx() ctx: MessagingContext) {
    trail.push(`default ${order.id} from ${ctx.getEnvelope().service?.name}`);
    await lastValueFrom(this.messaging.emit('kn-order-booked', { id: order.id }));
  }

  @MessagingEventPattern('kn-order-paid', {
    connection: 'partner',
    queueName: 'kn-partner-orders',
    filterPolicy: { region: ['eu'] },
    maxReceiveCount: 2,
  })
  async onPartnerOrderPaid(@Payload() order: { id: string }, @Ctx() ctx: MessagingContext) {
    trail.push(`partner ${order.id} attempt ${ctx.getReceiveCount()}`);
    if (order.id === 'broken') throw new Error('partner ledger corrupt');
    await lastValueFrom(this.partner.emit('kn-invoice-sent', new MessagingRecord({ id: order.id }, { attributes: { region: 'eu' } })));
  }

  @MessagingEventPattern('kn-partner-note', { connection: 'partner', queue: 'kn-partner-inbox' })
  onPartnerNote(@Payload() note: { id: string }) {
    trail.push(`partner inbox ${note.id}`);
  }
}

/** Both connections at closed ports: the real brokers would fail at startup, so every test below runs in memory. */
const partnerOptions: MessagingModuleOptions = {
  transport: 'sns-sqs',
  serviceName: 'kn-partner-billing',
  snsSqs: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
};

@Module({
  imports: [
    MessagingModule.forRoot({ transport: 'amqp', serviceName: 'kn-billing', amqp: { url: 'amqp://127.0.0.1:1' } }),
    MessagingModule.forRootAsync({ name: 'partner', useFactory: () => partnerOptions }),
  ],
  controllers: [KnOrdersController],
})
class KnAppModule {}

describe('MessagingTestingModule.override on an app with a default and a named connection', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;
  let partner: MessagingTesting;

  beforeAll(async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [KnAppModule] })).compile();
    app = moduleRef.createNestApplication({ logger: false });
    messaging = await MessagingTesting.start(app);
    partner = MessagingTesting.of(app, 'partner');
  });
  afterAll(() => app.close());
  beforeEach(() => {
    trail.splice(0);
    messaging.reset();
    partner.reset();
  });

  it('gives each connection its own kit: of(app) and of(app, "default") are the default one, of(app, "partner") another', () => {
    expect(MessagingTesting.of(app, 'default')).toBe(messaging);
    expect(MessagingTesting.of(app, 'partner')).toBe(partner);
    expect([messaging.connection, partner.connection]).toEqual(['default', 'partner']);
    expect(partner).not.toBe(messaging);
  });

  it("publish on a connection's kit reaches only the handlers consuming through that connection", async () => {
    const onDefault = await messaging.publish('kn-order-paid', { id: 'o-1' }, { service: { name: 'orders' } });
    expect(onDefault.deliveries).toEqual([{ queue: 'kn-orders', outcome: 'success', attempts: 1 }]);
    expect(trail).toEqual(['default o-1 from orders']);
    trail.splice(0);
    const onPartner = await partner.publish('kn-order-paid', { id: 'o-2' }, { attributes: { region: 'eu' } });
    expect(onPartner.deliveries).toEqual([{ queue: 'kn-partner-orders', outcome: 'success', attempts: 1 }]);
    expect(trail).toEqual(['partner o-2 attempt 1']);
  });

  it("emitted(topic) lists only what that connection's client emitted", async () => {
    await messaging.publish('kn-order-paid', { id: 'o-3' });
    await partner.publish('kn-order-paid', { id: 'o-4' }, { attributes: { region: 'eu' } });
    expect(messaging.emitted().map((m) => [m.topic, m.data, m.metadata.service?.name])).toEqual([
      ['kn-order-booked', { id: 'o-3' }, 'kn-billing'],
    ]);
    expect(partner.emitted().map((m) => [m.topic, m.data, m.attributes, m.metadata.service?.name])).toEqual([
      ['kn-invoice-sent', { id: 'o-4' }, { region: 'eu' }, 'kn-partner-billing'],
    ]);
    expect(messaging.emitted('kn-invoice-sent')).toEqual([]);
    expect(partner.emitted('kn-order-booked')).toEqual([]);
  });

  it("the named client's emit is recorded on its own connection; waitForEmitted waits on that connection", async () => {
    const waiting = partner.waitForEmitted('kn-direct', { timeoutMs: 1000 });
    await lastValueFrom(app.get<MessagingClient>(getMessagingClientToken('partner')).emit('kn-direct', { via: 'partner' }));
    await lastValueFrom(app.get(MessagingClient).emit('kn-direct', { via: 'default' }));
    expect((await waiting).map((m) => m.data)).toEqual([{ via: 'partner' }]);
    expect(messaging.emitted('kn-direct').map((m) => m.data)).toEqual([{ via: 'default' }]);
  });

  it("the named client's sendToQueue reaches that connection's queue-only consumer; the default client's does not", async () => {
    await lastValueFrom(app.get(MessagingClient).sendToQueue('kn-partner-inbox', { id: 'q-1' }));
    await lastValueFrom(app.get<MessagingClient>(getMessagingClientToken('partner')).sendToQueue('kn-partner-inbox', { id: 'q-2' }));
    await partner.waitFor(() => trail.includes('partner inbox q-2'), { timeoutMs: 1000, description: 'the partner inbox handled q-2' });
    expect(trail).toEqual(['partner inbox q-2']);
  });

  it("settles per connection with that connection's subscription options: filter policy, retry, dead-letter queue", async () => {
    expect((await partner.publish('kn-order-paid', { id: 'o-5' }, { attributes: { region: 'us' } })).outcome).toBe('filtered');
    const broken = await partner.publish('kn-order-paid', { id: 'broken' }, { attributes: { region: 'eu' }, redeliver: true });
    expect(broken).toMatchObject({
      outcome: 'dead-letter',
      attempts: 2,
      reason: 'failed 2 time(s), last: handler for "kn-order-paid" failed: partner ledger corrupt',
    });
    expect(trail).toEqual(['partner broken attempt 1', 'partner broken attempt 2']);
    expect(partner.queues().map((q) => q.name)).toEqual(['kn-partner-orders', 'kn-partner-inbox']);
    expect(partner.queues()[0]).toMatchObject({
      deadLetter: { name: 'kn-partner-orders-dlq' },
      maxReceiveCount: 2,
      subscriptions: [{ pattern: 'kn-order-paid', filterPolicy: { region: ['eu'] } }],
    });
    expect(messaging.queues().map((q) => q.name)).toEqual(['kn-orders']);
  });

  it('sending straight to a queue of the other connection fails, naming the queues this connection consumes', async () => {
    await expect(messaging.publish('kn-order-paid', { id: 'o-6' }, { queue: 'kn-partner-orders' })).rejects.toThrow(
      /No consumer on queue "kn-partner-orders"; the app consumes "kn-orders" \(kn-order-paid\)/,
    );
  });

  it('reset on one kit forgets only that connection', async () => {
    await messaging.publish('kn-order-paid', { id: 'o-7' });
    await partner.publish('kn-order-paid', { id: 'o-8' }, { attributes: { region: 'eu' } });
    partner.reset();
    expect(partner.emitted()).toEqual([]);
    expect(messaging.emitted()).toHaveLength(1);
  });

  it('an unknown connection name is an UnknownConnectionError naming the known ones', () => {
    const error = caught(() => MessagingTesting.of(app, 'parnter'));
    expect(error).toBeInstanceOf(UnknownConnectionError);
    expect(error).toMatchObject({ connection: 'parnter', known: ['default', 'partner'] });
    expect(error.message).toBe(
      "No messaging connection is named 'parnter' (known: 'default', 'partner'); choose a known one or import MessagingModule.forRoot({ name: 'parnter', ... })",
    );
  });
});

describe('MessagingTesting.of on a named connection whose broker is a real one', () => {
  it('names the fix for that connection', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [KnAppModule] }).compile();
    try {
      expect(() => MessagingTesting.of(moduleRef, 'partner')).toThrow(
        "The broker of messaging connection 'partner' is not the in-memory one: build the test module with MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })), or import MessagingTestingModule.forRoot({ name: 'partner', ... }) instead of MessagingModule.forRoot({ name: 'partner', ... })",
      );
    } finally {
      await moduleRef.close();
    }
  });
});

describe('MessagingTestingModule.forRoot({ name }) in place of MessagingModule.forRoot({ name })', () => {
  @Injectable()
  class KnKits {
    constructor(
      readonly plain: MessagingTesting,
      @InjectMessagingTesting() readonly byDefault: MessagingTesting,
      @InjectMessagingTesting('partner') readonly partner: MessagingTesting,
    ) {}
  }

  @Module({
    imports: [
      MessagingTestingModule.forRoot({ serviceName: 'kn-billing' }),
      MessagingTestingModule.forRoot({ name: 'partner', serviceName: 'kn-partner-billing' }),
    ],
    controllers: [KnOrdersController],
    providers: [KnKits],
  })
  class KnStandInModule {}

  beforeEach(() => trail.splice(0));

  it('getMessagingTestingToken: MessagingTesting for the default connection, a token per name otherwise', () => {
    expect(getMessagingTestingToken()).toBe(MessagingTesting);
    expect(getMessagingTestingToken('default')).toBe(MessagingTesting);
    expect(getMessagingTestingToken('partner')).not.toBe(getMessagingTestingToken('rabbit'));
    expect(getMessagingTestingToken('partner')).not.toBe(getMessagingClientToken('partner'));
  });

  it('injects each connection kit and keeps their messages apart (NestFactory alone, no @nestjs/testing)', async () => {
    const app = await NestFactory.create(KnStandInModule, { logger: false });
    try {
      const messaging = await MessagingTesting.start(app);
      const kits = app.get(KnKits);
      // identity compared as booleans: a failing toBe would print the whole Nest container the kits hold
      expect(kits.plain === messaging && kits.byDefault === messaging).toBe(true);
      expect(kits.partner === app.get(getMessagingTestingToken('partner'))).toBe(true);
      expect(kits.partner === MessagingTesting.of(app, 'partner')).toBe(true);
      expect(kits.partner.connection).toBe('partner');

      expect((await kits.partner.publish('kn-order-paid', { id: 'p-1' }, { attributes: { region: 'eu' } })).outcome).toBe('success');
      expect(trail).toEqual(['partner p-1 attempt 1']);
      trail.splice(0);
      expect((await messaging.publish('kn-order-paid', { id: 'p-2' })).outcome).toBe('success');
      expect(trail).toEqual(['default p-2 from messaging-testing']);

      expect(kits.partner.emitted().map((m) => [m.topic, m.metadata.service?.name])).toEqual([['kn-invoice-sent', 'kn-partner-billing']]);
      expect(messaging.emitted().map((m) => [m.topic, m.metadata.service?.name])).toEqual([['kn-order-booked', 'kn-billing']]);
      expect(kits.partner.queues().map((q) => q.name)).toEqual(['kn-partner-orders', 'kn-partner-inbox']);
    } finally {
      await app.close();
    }
  });

  it('fails with a pointer to override() when the app also imports that named connection', async () => {
    await expect(
      Test.createTestingModule({
        imports: [KnAppModule, MessagingTestingModule.forRoot({ name: 'partner' })],
      }).compile(),
    ).rejects.toThrow(
      /MessagingTestingModule\.forRoot\(\{ name: 'partner' \}\) takes the place of MessagingModule\.forRoot\(\{ name: 'partner' \}\), but the app imports that connection as well.*MessagingTestingModule\.override/,
    );
  });

  it('a named stand-in beside a real default connection: the named kit is in memory, the default one names the fix', async () => {
    @Module({
      imports: [
        MessagingModule.forRoot({ transport: 'amqp', serviceName: 'kn-billing', amqp: { url: 'amqp://127.0.0.1:1' } }),
        MessagingTestingModule.forRoot({ name: 'partner' }),
      ],
    })
    class KnMixedModule {}
    const moduleRef = await Test.createTestingModule({ imports: [KnMixedModule] }).compile();
    try {
      expect(MessagingTesting.of(moduleRef, 'partner').connection).toBe('partner');
      expect(() => MessagingTesting.of(moduleRef)).toThrow(/The app's messaging broker is not the in-memory one/);
    } finally {
      await moduleRef.close();
    }
  });
});

function caught(run: () => unknown): Error & Record<string, unknown> {
  try {
    run();
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a throw');
}
