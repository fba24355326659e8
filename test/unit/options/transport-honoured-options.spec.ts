import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  JsonEnvelope,
  MessagingEventPattern,
  MessagingModule,
  MessagingOptionsError,
  type MessagingModuleOptions,
  type TransportName,
} from '../../../lib/index.js';
import { honouringTransports, type OptionRecord, type OptionRecords } from '../../../lib/options/option-record.js';
import { OPTIONS } from '../../../lib/options/option-records.js';
import { checkExtrasHonoured, checkSubscriptionExtras, resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { caught, startupError } from './options-errors.js';
import { MessagingTestingModule } from '../../../lib/testing/index.js';
import { Person } from '../../support/proto-person.js';

const TRANSPORTS: readonly TransportName[] = ['sns-sqs', 'amqp'];
const RECORDS: OptionRecords = OPTIONS;

/**
 * A valid setting of every option, with what it needs alongside (FIFO settings need fifo: true). The test below
 * fails when an option gets a record without a sample here.
 */
const SAMPLES: Record<string, Record<string, unknown>> = {
  name: { name: 'partner' },
  transport: {},
  serviceName: {},
  topicPrefix: { topicPrefix: 'prod-' },
  queueNamePrefix: { queueNamePrefix: 'prod-' },
  envelope: { envelope: JsonEnvelope },
  drainTimeout: { drainTimeout: 5000 },
  maxDecodedBytes: { maxDecodedBytes: 1024 * 1024 },
  concurrency: { concurrency: 3 },
  maxReceiveCount: { maxReceiveCount: 3 },
  deadLetterQueue: { deadLetterQueue: false },
  retryBackoff: { retryBackoff: 0.5 },
  provisioning: { provisioning: 'verify' },
  queueNaming: { queueNaming: 'tomodachi' },
  metrics: { metrics: { queueDepth: true } },
  tracing: { tracing: true },
  queueName: { queueName: 'billing' },
  competing: { competing: false },
  filterPolicy: { filterPolicy: { currency: ['EUR'] } },
  filterPolicyScope: { filterPolicyScope: 'MessageAttributes' },
  visibilityTimeout: { visibilityTimeout: 45 },
  deadLetterQueueName: { deadLetterQueueName: 'billing-dead' },
  fifo: { fifo: true },
  contentBasedDeduplication: { fifo: true, contentBasedDeduplication: true },
  deduplicationScope: { fifo: true, deduplicationScope: 'messageGroup' },
  fifoThroughputLimit: { fifo: true, deduplicationScope: 'messageGroup', fifoThroughputLimit: 'perMessageGroupId' },
  protoClass: { protoClass: Person },
  exchange: { exchange: 'events' },
  queue: { queue: 'orders' },
  batch: { batch: { maxSize: 50, maxWaitMs: 200 } },
  connection: { connection: 'partner' },
  topicArn: { topicArn: 'arn:aws:sns:eu-west-1:111122223333:orders' },
  snsSqs: { snsSqs: { region: 'eu-west-1', waitTimeSeconds: 1 } },
  amqp: { amqp: { url: 'amqp://127.0.0.1:5672', prefetch: 5 } },
};

const sets = (key: string) => SAMPLES[key] as Record<string, unknown>;
const inModule = (record: OptionRecord) => record.scope !== 'subscription';
const inExtras = (record: OptionRecord) => record.scope !== 'module';
const transportSection = (record: OptionRecord) => record.transportSection === true;

const scopeOf = { module: inModule, extra: inExtras } as const;

/** [option, transport] for each option a transport does not honour where it is set (the transports' own sections aside). */
function unhonoured(where: 'module' | 'extra'): [string, TransportName][] {
  return Object.entries(RECORDS)
    .filter(([, record]) => scopeOf[where](record) && !transportSection(record))
    .flatMap(([key, record]) =>
      TRANSPORTS.filter((t) => !honouringTransports(record, where).includes(t)).map((t): [string, TransportName] => [key, t]),
    );
}

function honoured(where: 'module' | 'extra'): [string, TransportName][] {
  return Object.entries(RECORDS)
    .filter(([, record]) => scopeOf[where](record))
    .flatMap(([key, record]) => honouringTransports(record, where).map((t): [string, TransportName] => [key, t]));
}

const moduleOptions = (transport: TransportName, set: Record<string, unknown>) =>
  ({ transport, serviceName: 'billing', ...set }) as MessagingModuleOptions;

/** What startup checks of a handler's extras: their values, then whether the transport honours each. */
function checkHandlerExtras(extras: Record<string, unknown>, transport: TransportName): void {
  checkSubscriptionExtras(extras, 'order-paid');
  checkExtrasHonoured(extras, 'order-paid', transport);
}

describe('option records', () => {
  it('every option has a sample setting in this test', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(Object.keys(RECORDS).sort());
  });

  it.each([...unhonoured('module'), ...unhonoured('extra')])('%s on %s says what to do instead', (key, transport) => {
    expect(RECORDS[key].instead?.[transport]).toMatch(/\w/);
  });

  it('in forRoot, AMQP refuses only concurrency (amqp.prefetch is the module-wide bound there)', () => {
    expect(unhonoured('module')).toEqual([['concurrency', 'amqp']]);
  });

  it('the only unhonoured extras are the ones the transports really ignore', () => {
    expect(unhonoured('extra')).toEqual([
      ['visibilityTimeout', 'amqp'],
      ['fifo', 'amqp'],
      ['contentBasedDeduplication', 'amqp'],
      ['deduplicationScope', 'amqp'],
      ['fifoThroughputLimit', 'amqp'],
      ['exchange', 'sns-sqs'],
      ['topicArn', 'amqp'],
    ]);
  });
});

describe('a module option the transport does not honour fails at startup, naming the option and the transport', () => {
  it.each(unhonoured('module'))('%s on %s', (key, transport) => {
    const error = caught(() => resolveModuleOptions(moduleOptions(transport, sets(key))));
    expect(error.option).toBe(key);
    expect(error.message).toContain(`"${key}": is not honoured by transport '${transport}' (${RECORDS[key].instead![transport]})`);
  });

  it('concurrency on amqp points at amqp.prefetch', () => {
    expect(() => resolveModuleOptions({ transport: 'amqp', serviceName: 'billing', concurrency: 20 })).toThrow(
      `Invalid messaging option "concurrency": is not honoured by transport 'amqp' (AMQP bounds the handlers running at once per queue by amqp.prefetch: set that instead, or the concurrency extra per handler) (got 20)`,
    );
  });
});

describe('every module option a transport honours is accepted on it', () => {
  it.each(honoured('module'))('%s on %s', (key, transport) => {
    expect(() => resolveModuleOptions(moduleOptions(transport, sets(key)))).not.toThrow();
  });

  // one configuration for both transports (the README's quick start, the sample): the other transport's section is unread
  it.each([
    ['snsSqs', 'amqp'],
    ['amqp', 'sns-sqs'],
  ] as const)('the %s section with transport %s (left unread, still checked)', (key, transport) => {
    expect(() => resolveModuleOptions(moduleOptions(transport, sets(key)))).not.toThrow();
    expect(caught(() => resolveModuleOptions(moduleOptions(transport, { [key]: { retries: 3 } }))).option).toBe(`${key}.retries`);
  });
});

describe('an @EventPattern extra the transport does not honour fails at startup, naming the extra and the transport', () => {
  it.each(unhonoured('extra'))('%s on %s', (key, transport) => {
    const error = caught(() => checkExtrasHonoured({ [key]: sets(key)[key] }, 'order-paid', transport));
    expect(error.option).toBe(`@EventPattern('order-paid').${key}`);
    expect(error.message).toContain(
      `"@EventPattern('order-paid').${key}": is not honoured by transport '${transport}' (${RECORDS[key].instead![transport]})`,
    );
  });

  it('an unknown extra is left to the known-extras check', () => {
    expect(() => checkExtrasHonoured({ retries: 3 }, 'order-paid', 'amqp')).not.toThrow();
  });
});

describe('every @EventPattern extra a transport honours is accepted on it', () => {
  it.each(honoured('extra'))('%s on %s', (key, transport) => {
    expect(() => checkHandlerExtras(sets(key), transport)).not.toThrow();
  });
});

@Controller()
class VisibilityTimeoutController {
  @MessagingEventPattern('order-paid', { visibilityTimeout: 45 })
  onPaid() {}
}

describe('startup on AMQP', () => {
  it.each([['visibilityTimeout', VisibilityTimeoutController, /there is no visibility timeout to set: remove it/]] as const)(
    'startAllMicroservices() rejects a handler with %s and provisions nothing',
    async (key, controller, instead) => {
      @Module({ imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'billing' })], controllers: [controller] })
      class AppModule {}
      const { error, broker } = await startupError(AppModule);
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect((error as MessagingOptionsError).option).toBe(`@EventPattern('order-paid').${key}`);
      expect((error as Error).message).toMatch(/is not honoured by transport 'amqp'/);
      expect((error as Error).message).toMatch(instead);
      expect(broker.queues()).toEqual([]);
    },
  );

  it('module concurrency fails as the module compiles', async () => {
    @Module({ imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: 'billing', concurrency: 20 })] })
    class AppModule {}
    const compiling = MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })).compile();
    await expect(compiling).rejects.toThrow(/"concurrency": is not honoured by transport 'amqp'/);
  });
});
