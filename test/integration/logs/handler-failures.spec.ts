import 'reflect-metadata';
import { Catch, UseFilters, type INestApplicationContext, type RpcExceptionFilter, type Type } from '@nestjs/common';
import type { INestMicroservice } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import { DeadLetterError, MessagingClient, MessagingModule, MessagingServer, type MessagingModuleOptions } from '../../../lib/index.js';
import { hybridFastPathAvailable } from '../../../lib/server/handler-fast-path.js';
import { startTestApp } from '../../support/apps.js';
import { controllerFor, type Handler } from '../../support/controllers.js';
import { startFauxqs, fauxqsOptions, type Fauxqs } from '../../support/fauxqs.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/**
 * Issue 21: the log of a failing handler tells its story in one line per attempt. A failed attempt is one WARN
 * without a stack (the stack goes to debug), Nest's "RpcExceptionsHandler" prints nothing, and the attempt that
 * dead-letters the message is one ERROR naming the queue, the dead-letter queue and the reason, on both transports,
 * whether the handler takes the fast path or Nest's pipeline. The apps are standalone microservices, whose exception
 * filters the library always knows; hybrid apps are the last test.
 */
class LedgerError extends Error {
  override name = 'LedgerError';
}

/** A filter of the app's own for another error type: it makes the handler go through Nest's pipeline. */
class UnrelatedError extends Error {}
@Catch(UnrelatedError)
class UnrelatedFilter implements RpcExceptionFilter {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}

const STACK_FRAME = /\n\s+at /;

function withFilter(controller: Type): Type {
  UseFilters(new UnrelatedFilter())(controller);
  return controller;
}

/** The lines about one queue (the consumer names it in each), and Nest's own exception-handler lines. */
function linesOf(logger: CaptureLogger, queue: string) {
  const about = logger.lines.filter((l) => l.includes(queue));
  return {
    warns: about.filter((l) => l.startsWith('WARN')),
    errors: about.filter((l) => l.startsWith('ERROR')),
    nest: logger.lines.filter((l) => l.includes('RpcExceptionsHandler')),
  };
}

interface Transport {
  name: string;
  options(base: Omit<MessagingModuleOptions, 'transport'>): MessagingModuleOptions;
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
}

let fauxqs: Fauxqs;
const trackRabbit = cleanUpBrokerAfterAll();
const amqpPrefix = trackRabbit(uniqueName('logq'));
const amqpExchange = trackRabbit(uniqueName('logx'));
const transports: Transport[] = [
  {
    name: 'SNS+SQS (fauxqs)',
    options: (base) => fauxqsOptions(fauxqs, { ...base, retryBackoff: 0.1 }),
    setUp: async () => {
      fauxqs = await startFauxqs();
    },
    tearDown: () => fauxqs.stop(),
  },
  {
    name: 'AMQP',
    options: (base) => rabbitMqOptions({ ...base, retryBackoff: 0.1, queueNamePrefix: `${amqpPrefix}-`, amqp: { exchange: amqpExchange } }),
    setUp: async () => undefined,
    tearDown: async () => undefined,
  },
];

function emit(app: INestApplicationContext, topic: string, data: unknown): Promise<unknown> {
  return lastValueFrom(app.get(MessagingClient).emit(topic, data), { defaultValue: undefined });
}

describe.each(transports)('handler failures in the log, $name', (transport) => {
  const apps: INestApplicationContext[] = [];
  beforeAll(() => transport.setUp());
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await transport.tearDown();
  });

  async function start(handle: Handler, pipeline: boolean, extras: { maxReceiveCount?: number } = {}) {
    const logger = new CaptureLogger();
    const topic = uniqueName('fails');
    const queueName = uniqueName('q');
    const controller = controllerFor([{ pattern: topic, extras: { queueName, ...extras }, handle }]);
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRoot(transport.options({ serviceName: uniqueName('svc') }))],
      controllers: [pipeline ? withFilter(controller) : controller],
    }).compile();
    const app: INestMicroservice = moduleRef.createNestMicroservice({ strategy: moduleRef.get(MessagingServer), logger });
    apps.push(app);
    await app.listen();
    const queue = logger.lines.find((l) => l.includes(queueName) && / → queue /.test(l))?.match(/ → queue (\S+)/)?.[1] ?? queueName;
    return { app, logger, topic, queue };
  }

  it.each([
    ['the fast path', false],
    ["Nest's pipeline", true],
  ])(
    'via %s: a WARN per failed attempt without a stack, the stack at debug, no Nest ERROR, then exactly one ERROR naming queue, DLQ and reason',
    async (_path, pipeline) => {
      const { app, logger, topic, queue } = await start(
        () => {
          throw new LedgerError('ledger for o-1 is unavailable');
        },
        pipeline as boolean,
        { maxReceiveCount: 2 },
      );
      await emit(app, topic, { id: 'o-1' });
      await waitFor(() => linesOf(logger, queue).errors.length > 0, { what: 'the dead-letter ERROR', timeoutMs: 20_000 });
      // nothing more comes for this message: its attempts are over
      await waitFor(() => logger.lines.some((l) => l.startsWith('DEBUG') && l.includes('attempt 2')), {
        what: 'the debug line of attempt 2',
      });
      const { warns, errors, nest } = linesOf(logger, queue);
      expect(nest).toEqual([]);
      expect(warns).toHaveLength(1);
      expect(warns[0]).toMatch(
        /failed on attempt 1 of 2; retried in \d+(\.\d+)? s: handler for ".*" failed: LedgerError: ledger for o-1 is unavailable Messaging$/,
      );
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`in ${queue} was dead-lettered to ${queue}-dlq`);
      expect(errors[0]).toContain('failed 2 time(s), last: handler for');
      expect(errors[0]).toContain('ledger for o-1 is unavailable');
      expect(logger.lines.filter((l) => (l.startsWith('WARN') || l.startsWith('ERROR')) && STACK_FRAME.test(l))).toEqual([]);
      const debugStacks = logger.lines.filter((l) => l.startsWith('DEBUG') && l.includes('ledger for o-1') && STACK_FRAME.test(l));
      expect(debugStacks).toHaveLength(2);
    },
    30_000,
  );

  it('a thrown value that is not an Error: its inspection goes with the WARN (there is no stack)', async () => {
    const { app, logger, topic, queue } = await start(
      () => {
        throw { code: 'E42', retriable: true };
      },
      true,
      { maxReceiveCount: 3 },
    );
    await emit(app, topic, { id: 'o-2' });
    await waitFor(() => linesOf(logger, queue).warns.length > 0, { what: 'the WARN of attempt 1' });
    expect(linesOf(logger, queue).warns[0]).toContain("(thrown value, not an Error: { code: 'E42', retriable: true })");
    expect(linesOf(logger, queue).nest).toEqual([]);
  });

  it('DeadLetterError: exactly one ERROR naming queue, DLQ and reason, no WARN', async () => {
    const { app, logger, topic, queue } = await start(() => {
      throw new DeadLetterError('order o-3 is unknown');
    }, false);
    await emit(app, topic, { id: 'o-3' });
    await waitFor(() => linesOf(logger, queue).errors.length > 0, { what: 'the dead-letter ERROR' });
    const { warns, errors } = linesOf(logger, queue);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(`in ${queue} was dead-lettered to ${queue}-dlq \\(attempt 1\\): handler rejected the message: order o-3 is unknown`),
    );
    expect(warns).toEqual([]);
  });

  it('in a hybrid app (connectMicroservice): Nest 12 prints no stack; Nest 11 keeps its own (its microservice config cannot be known)', async () => {
    const logger = new CaptureLogger();
    const [topic, queueName] = [uniqueName('fails'), uniqueName('q')];
    const handle = () => {
      throw new LedgerError('ledger for o-4 is unavailable');
    };
    const app = await startTestApp(
      transport.options({ serviceName: uniqueName('svc') }),
      [controllerFor([{ pattern: topic, extras: { queueName }, handle }])],
      {
        logger,
      },
    );
    apps.push(app);
    await emit(app, topic, { id: 'o-4' });
    await waitFor(() => logger.lines.some((l) => l.startsWith('WARN') && l.includes(queueName)), { what: 'the WARN of attempt 1' });
    const nest = logger.lines.filter((l) => l.includes('RpcExceptionsHandler'));
    if (hybridFastPathAvailable) expect(nest).toEqual([]);
    else expect(nest).toEqual([expect.stringContaining('ledger for o-4 is unavailable')]);
  });
});
