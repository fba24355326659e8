import 'reflect-metadata';
import { Catch, UseFilters, type INestMicroservice, type RpcExceptionFilter, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import { MessagingClient, MessagingModule, MessagingServer } from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/**
 * Issue 21: the library keeps Nest's default RPC filter from printing a stack per failed attempt, but only for errors
 * no filter of the app catches: a handler's @UseFilters and the app's global filters still see every error they catch.
 * Standalone microservices: their filters are known on Nest 11 and 12 alike.
 */
class PaymentError extends Error {}

function recordingFilter(seen: unknown[], ...types: Function[]): RpcExceptionFilter {
  @Catch(...types)
  class Recording implements RpcExceptionFilter {
    catch(exception: unknown): Observable<never> {
      seen.push(exception);
      return throwError(() => ({ status: 'error', message: `filtered: ${(exception as Error).message}` }));
    }
  }
  return new Recording();
}

describe('exception filters of the app still run (SNS+SQS, fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestMicroservice[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await fauxqs.stop();
  });

  async function start(controller: Type, globalFilter?: RpcExceptionFilter) {
    const logger = new CaptureLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRoot(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), maxReceiveCount: 5, retryBackoff: 1 }))],
      controllers: [controller],
    }).compile();
    const app = moduleRef.createNestMicroservice({ strategy: moduleRef.get(MessagingServer), logger });
    apps.push(app);
    if (globalFilter) app.useGlobalFilters(globalFilter);
    await app.listen();
    return { app, logger };
  }

  const emit = (app: INestMicroservice, topic: string, data: unknown) =>
    lastValueFrom(app.get(MessagingClient).emit(topic, data), { defaultValue: undefined });

  it("a handler's @UseFilters filter catches its error type; another error type passes it without a Nest stack", async () => {
    const seen: unknown[] = [];
    const [payment, other] = [uniqueName('payment'), uniqueName('other')];
    const controller = controllerFor([
      {
        pattern: payment,
        extras: { queueName: uniqueName('q') },
        handle: () => {
          throw new PaymentError('card declined');
        },
      },
      {
        pattern: other,
        extras: { queueName: uniqueName('q') },
        handle: () => {
          throw new Error('disk full');
        },
      },
    ]);
    UseFilters(recordingFilter(seen, PaymentError))(controller);
    const { app, logger } = await start(controller);
    await emit(app, payment, { id: 'p-1' });
    await emit(app, other, { id: 'p-2' });
    await waitFor(() => logger.lines.filter((l) => l.startsWith('WARN') && l.includes('failed on attempt 1')).length >= 2, {
      what: 'both WARN lines',
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBeInstanceOf(PaymentError);
    expect(logger.lines.find((l) => l.includes(payment) && l.startsWith('WARN'))).toContain('filtered: card declined');
    expect(logger.lines.find((l) => l.includes(other) && l.startsWith('WARN'))).toContain('disk full');
    expect(logger.lines.filter((l) => l.includes('RpcExceptionsHandler'))).toEqual([]);
  });

  it("the app's global catch-all filter sees the error the handler threw", async () => {
    const seen: unknown[] = [];
    const topic = uniqueName('global');
    const controller = controllerFor([
      {
        pattern: topic,
        extras: { queueName: uniqueName('q') },
        handle: () => {
          throw new Error('inventory offline');
        },
      },
    ]);
    const { app, logger } = await start(controller, recordingFilter(seen));
    await emit(app, topic, { id: 'g-1' });
    await waitFor(() => seen.length > 0, { what: 'the global filter to see the error' });
    expect((seen[0] as Error).message).toBe('inventory offline');
    await waitFor(() => logger.lines.some((l) => l.startsWith('WARN') && l.includes('filtered: inventory offline')), {
      what: 'the WARN with what the filter passed on',
    });
  });
});
