import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { EventPattern, MessagePattern, type MessageHandler } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import {
  JsonEnvelope,
  MESSAGING_BROKER,
  MESSAGING_OPTIONS,
  MessagingModule,
  MessagingOptionsError,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { checkSubscriptionExtras, resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { InMemoryBroker, MessagingTestingModule } from '../../../lib/testing/index.js';
import { Person } from '../../support/proto-person.js';
import { caught, startupError } from './options-errors.js';

function expectExtraRejected(extras: Record<string, unknown>, key: string, rule: RegExp): void {
  const error = caught(() => checkSubscriptionExtras(extras, 'order-paid'));
  expect(error.option).toBe(`@EventPattern('order-paid').${key}`);
  expect(error.message).toContain(`"@EventPattern('order-paid').${key}"`);
  expect(error.message).toMatch(rule);
}

describe('checkSubscriptionExtras', () => {
  it('accepts every known extra', () => {
    const extras = {
      queueName: 'q',
      competing: false,
      filterPolicy: { currency: ['EUR'] },
      filterPolicyScope: 'MessageBody',
      visibilityTimeout: 43_200,
      deadLetterQueueName: false,
      maxReceiveCount: 1000,
      fifo: true,
      envelope: JsonEnvelope,
      protoClass: Person,
      concurrency: 1,
      exchange: 'events',
    };
    expect(checkSubscriptionExtras(extras, 'order-paid')).toBe(extras);
    expect(() => checkSubscriptionExtras({ deadLetterQueueName: 'q-dead' }, 't')).not.toThrow();
    expect(() => checkSubscriptionExtras({}, 't')).not.toThrow();
  });

  it('an unknown extra (a typo) names it and lists the known ones', () => {
    expectExtraRejected({ queuename: 'q' }, 'queuename', /is not a known subscription option; use one of .*queueName/);
  });

  it.each([
    ['queueName', 42, /must be a non-empty string/],
    ['queueName', '', /must be a non-empty string/],
    ['competing', 'true', /must be true or false/],
    ['filterPolicy', '{"currency":["EUR"]}', /must be an object/],
    ['filterPolicy', [['EUR']], /must be an object/],
    ['filterPolicy', null, /must be an object/],
    ['filterPolicyScope', 'Attributes', /must be 'MessageAttributes' or 'MessageBody'/],
    ['visibilityTimeout', -1, /must be an integer from 0 to 43200/],
    ['visibilityTimeout', 43_201, /must be an integer from 0 to 43200/],
    ['visibilityTimeout', '30', /must be an integer/],
    ['deadLetterQueueName', true, /must be a non-empty string/],
    ['deadLetterQueueName', '', /must be a non-empty string/],
    ['maxReceiveCount', 0, /must be an integer from 1 to 1000/],
    ['maxReceiveCount', 1.5, /must be an integer/],
    ['fifo', 1, /must be true or false/],
    ['envelope', 'raw', /must be an envelope class/],
    ['protoClass', { decode: () => ({}) }, /must be a protobuf message class with static encode\(\) and decode\(\)/],
    ['protoClass', 'proto.Person', /must be a protobuf message class/],
    ['concurrency', 0, /must be an integer from 1 to 10000/],
    ['exchange', '', /must be a non-empty string/],
    ['topicArn', 'orders', /must be an SNS topic ARN such as 'arn:aws:sns:eu-west-1:111122223333:orders'/],
    ['topicArn', 'arn:aws:sqs:eu-west-1:111122223333:orders', /must be an SNS topic ARN/],
    ['topicArn', 'arn:aws:sns:eu-west-1:1111:orders', /must be an SNS topic ARN/],
    ['topicArn', 'arn:aws:sns:eu-west-1:111122223333:orders.*', /must be an SNS topic ARN/],
  ])('wrong %s = %p', (key, value, rule) => {
    expectExtraRejected({ [key]: value }, key, rule);
  });

  it.each([
    [{ topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders.fifo' }, /names a FIFO topic \(\.fifo\): set fifo: true as well/],
    [
      { topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders', fifo: true },
      /names a standard topic: SNS does not deliver a standard topic to a FIFO queue/,
    ],
    [{ topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders', competing: false }, /cannot be used with competing: false/],
  ])('topicArn refuses %p', (extras, rule) => {
    expectExtraRejected(extras, 'topicArn', rule);
  });

  it('topicArn accepts a FIFO topic for a FIFO queue, and an aws-cn topic (for an aws-cn connection)', () => {
    expect(() => checkSubscriptionExtras({ topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders.fifo', fifo: true }, 't')).not.toThrow();
    expect(() => checkSubscriptionExtras({ topicArn: 'arn:aws-cn:sns:cn-north-1:111122223333:orders' }, 't')).not.toThrow();
  });
});

type Extras = Record<string, unknown>;
const handler = (extras: Extras = {}, isEventHandler = true): MessageHandler =>
  Object.assign(async () => undefined, { isEventHandler, extras }) as unknown as MessageHandler;
const options = (overrides: Partial<MessagingModuleOptions> = {}) =>
  resolveModuleOptions({ transport: 'sns-sqs', serviceName: 'billing', ...overrides });

describe('planQueues: handlers sharing a queue must agree on queue-level settings', () => {
  it('plans one queue with both subscriptions when they agree (defaults equal explicit values)', () => {
    const plans = planQueues(
      new Map([
        ['order-paid', handler({ queueName: 'billing', visibilityTimeout: 30, filterPolicy: { currency: ['EUR'] } })],
        ['order-refunded', handler({ queueName: 'billing', maxReceiveCount: 5 })],
      ]),
      options(),
      snsSqsTransport,
      'instance',
    );
    expect(plans).toHaveLength(1);
    expect(plans[0].plan.subscriptions).toEqual([
      { pattern: 'order-paid', filterPolicy: { currency: ['EUR'] }, filterPolicyScope: undefined, exchange: undefined },
      { pattern: 'order-refunded', filterPolicy: undefined, filterPolicyScope: undefined, exchange: undefined },
    ]);
    expect(plans[0].routes.map((r) => r.pattern)).toEqual(['order-paid', 'order-refunded']);
  });

  it('refuses a second handler on one queue fed by the same topic ARN: one ARN routes to one handler per queue', () => {
    const topicArn = 'arn:aws:sns:us-east-2:111122223333:partner-orders';
    const error = caught(() =>
      planQueues(
        new Map([
          ['order-paid', handler({ queueName: 'billing', topicArn })],
          ['order-refunded', handler({ queueName: 'billing', topicArn })],
        ]),
        options(),
        snsSqsTransport,
        'instance',
      ),
    );
    expect(error.option).toBe("@EventPattern('order-refunded').topicArn");
    expect(error.message).toContain(`already feeds queue "billing" through @EventPattern('order-paid')`);
  });

  it('a topicArn extra reaches the subscription of the plan, beside the pattern that routes it', () => {
    const topicArn = 'arn:aws:sns:us-east-2:111122223333:partner-orders';
    const plans = planQueues(new Map([['partner-order', handler({ topicArn })]]), options(), snsSqsTransport, 'instance');
    expect(plans[0].plan.subscriptions).toEqual([
      { pattern: 'partner-order', filterPolicy: undefined, filterPolicyScope: undefined, exchange: undefined, topicArn },
    ]);
    expect(plans[0].plan.name).toBe('billing--partner-order');
  });

  it.each([
    ['competing', { competing: true }, { competing: false }],
    ['fifo', {}, { fifo: true }],
    ['visibilityTimeout', { visibilityTimeout: 30 }, { visibilityTimeout: 60 }],
    ['maxReceiveCount', {}, { maxReceiveCount: 3 }],
    ['concurrency', { concurrency: 5 }, {}],
  ])('conflicting %s is refused, naming the second handler and the queue', (key, first, second) => {
    const error = caught(() =>
      planQueues(
        new Map([
          ['order-paid', handler({ queueName: 'billing', ...first })],
          ['order-refunded', handler({ queueName: 'billing', ...second })],
        ]),
        options(),
        snsSqsTransport,
        'instance',
      ),
    );
    expect(error.option).toBe(`@EventPattern('order-refunded').${key}`);
    expect(error.message).toContain(`"@EventPattern('order-refunded').${key}"`);
    expect(error.message).toMatch(/handlers sharing queue "billing" must agree/);
  });

  it('a conflicting dead-letter queue is refused', () => {
    const error = caught(() =>
      planQueues(
        new Map([
          ['order-paid', handler({ queueName: 'billing' })],
          ['order-refunded', handler({ queueName: 'billing', deadLetterQueueName: false })],
        ]),
        options(),
        snsSqsTransport,
        'instance',
      ),
    );
    expect(error.option).toBe("@EventPattern('order-refunded').deadLetterQueueName");
    expect(error.message).toMatch(/must use the same dead-letter queue/);
  });

  it('a @MessagePattern (request-response) handler is refused', () => {
    const error = caught(() => planQueues(new Map([['get-order', handler({}, false)]]), options(), snsSqsTransport, 'instance'));
    expect(error.option).toBe("@MessagePattern('get-order')");
    expect(error.message).toMatch(/"@MessagePattern\('get-order'\)".*request-response handlers are not supported.*use @EventPattern/);
  });

  it('an unknown extra is refused by the planner as well', () => {
    const error = caught(() => planQueues(new Map([['order-paid', handler({ retries: 3 })]]), options(), snsSqsTransport, 'instance'));
    expect(error.option).toBe("@EventPattern('order-paid').retries");
  });
});

@Module({ imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'billing', maxReceiveCount: 0 })] })
class InvalidOptionsModule {}

@Module({
  imports: [
    MessagingModule.forRootAsync({
      useFactory: async () => ({ transport: 'amqp', serviceName: 'billing', amqp: { url: 'http://guest:s3cret@rabbit' } }),
    }),
  ],
})
class InvalidAsyncOptionsModule {}

@Module({ imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'billing', isGlobal: false })] })
class NotGlobalModule {}

@Controller()
class RequestResponseController {
  @MessagePattern('get-order')
  getOrder() {
    return { id: 1 };
  }
}

@Controller()
class TypoController {
  @EventPattern('order-paid', { queueNmae: 'billing' })
  onPaid() {}
}

describe('Nest app startup with invalid options fails fast', () => {
  it.each([
    ['forRoot', InvalidOptionsModule, 'maxReceiveCount'],
    ['forRootAsync', InvalidAsyncOptionsModule, 'amqp.url'],
  ])('%s: compile() rejects with MessagingOptionsError before any broker is created', async (_label, module, option) => {
    let brokersCreated = 0;
    const compiling = Test.createTestingModule({ imports: [module] })
      .overrideProvider(MESSAGING_BROKER)
      .useFactory({
        factory: () => {
          brokersCreated += 1;
          return new InMemoryBroker(new JsonEnvelope(), 1000);
        },
        inject: [MESSAGING_OPTIONS],
      })
      .compile();
    const error = await compiling.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect((error as MessagingOptionsError).option).toBe(option);
    expect((error as Error).message).not.toContain('s3cret');
    expect(brokersCreated).toBe(0);
  });

  it('rejects the same way with the real (not overridden) broker provider', async () => {
    await expect(Test.createTestingModule({ imports: [InvalidOptionsModule] }).compile()).rejects.toThrow(MessagingOptionsError);
  });

  it('the isGlobal module extra is not mistaken for an unknown option', async () => {
    const moduleRef = await MessagingTestingModule.override(Test.createTestingModule({ imports: [NotGlobalModule] })).compile();
    expect(moduleRef.get(MESSAGING_OPTIONS, { strict: false })).toMatchObject({ transport: 'amqp', serviceName: 'billing' });
    await moduleRef.close();
  });

  it.each([
    ['a @MessagePattern handler', RequestResponseController, "@MessagePattern('get-order')"],
    ['an unknown @EventPattern extra', TypoController, "@EventPattern('order-paid').queueNmae"],
  ])('startAllMicroservices() rejects for %s, and nothing is provisioned', async (_label, controller, option) => {
    @Module({ imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'billing' })], controllers: [controller] })
    class AppModule {}
    const { error, broker } = await startupError(AppModule);
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect((error as MessagingOptionsError).option).toBe(option);
    expect(broker).toBeInstanceOf(InMemoryBroker);
    expect(broker.queues()).toEqual([]);
    expect(broker.consuming).toBe(false);
  });
});
