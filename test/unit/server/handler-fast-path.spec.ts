import 'reflect-metadata';
import { jest } from '@jest/globals';
import {
  Catch,
  Controller,
  Injectable,
  Logger,
  Module,
  Scope,
  UseGuards,
  UsePipes,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
  type PipeTransform,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { Ctx, Payload, RpcException, type MicroserviceOptions } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { throwError, type Observable } from 'rxjs';
import { DeadLetterError, MessagingContext, MessagingEventPattern, MessagingModule, MessagingServer } from '../../../lib/index.js';
import { MessagingTesting, MessagingTestingModule } from '../../../lib/testing/index.js';
import { hybridFastPathAvailable } from '../../../lib/server/handler-fast-path.js';

/** How the last handler call was reached: Nest's RPC pipeline calls the method from rpc-context-creator. */
type Via = 'direct' | 'pipeline';
/** Hybrid apps take the fast path on Nest 12; on Nest 11 they keep the pipeline (see hybridFastPathAvailable). */
const HYBRID_VIA: Via = hybridFastPathAvailable ? 'direct' : 'pipeline';
const calls: { topic: string; via: Via; data: unknown; context: unknown; extra?: unknown }[] = [];
function via(): Via {
  const stack = new Error().stack ?? '';
  if (stack.includes('rpc-context-creator')) return 'pipeline';
  if (stack.includes('delivery-dispatcher')) return 'direct';
  throw new Error(`handler reached from an unexpected place:\n${stack}`);
}
const lastCall = () => calls[calls.length - 1];

const Q = { queueName: 'fast' };

@Controller()
class FastController {
  @MessagingEventPattern('fast-both', Q)
  both(@Payload() data: unknown, @Ctx() context: MessagingContext): void {
    calls.push({ topic: 'fast-both', via: via(), data, context });
  }

  @MessagingEventPattern('fast-plain', Q)
  plain(data: unknown, second?: unknown): void {
    // no parameter decorators: Nest passes the payload only
    calls.push({ topic: 'fast-plain', via: via(), data, context: second });
  }

  @MessagingEventPattern('fast-reordered', Q)
  reordered(@Ctx() context: MessagingContext, @Payload('orderId') orderId: unknown): void {
    calls.push({ topic: 'fast-reordered', via: via(), data: orderId, context });
  }

  @MessagingEventPattern('fast-async', Q)
  async asyncOk(@Payload() data: unknown): Promise<void> {
    const reached = via();
    await new Promise((resolve) => setImmediate(resolve));
    calls.push({ topic: 'fast-async', via: reached, data, context: undefined });
  }

  @MessagingEventPattern('fast-error', Q)
  fails(@Payload() data: unknown): void {
    calls.push({ topic: 'fast-error', via: via(), data, context: undefined });
    throw new Error('ledger down');
  }

  @MessagingEventPattern('fast-rejects', Q)
  async rejects(): Promise<void> {
    calls.push({ topic: 'fast-rejects', via: via(), data: undefined, context: undefined });
    throw new TypeError('bad amount');
  }

  @MessagingEventPattern('fast-observable', Q)
  observable(): Observable<never> {
    calls.push({ topic: 'fast-observable', via: via(), data: undefined, context: undefined });
    return throwError(() => new Error('stream failed'));
  }

  @MessagingEventPattern('fast-rpc', Q)
  rpc(): void {
    calls.push({ topic: 'fast-rpc', via: via(), data: undefined, context: undefined });
    throw new RpcException('rpc says no');
  }

  @MessagingEventPattern('fast-object', Q)
  thrownObject(): void {
    calls.push({ topic: 'fast-object', via: via(), data: undefined, context: undefined });
    throw { code: 'E_LEDGER' };
  }

  @MessagingEventPattern('fast-dead', Q)
  poison(): void {
    calls.push({ topic: 'fast-dead', via: via(), data: undefined, context: undefined });
    throw new DeadLetterError('not a ledger entry');
  }
}

/** The outcome of every topic above, in the dispatcher's terms. */
const EXPECTED: Record<string, { kind: string; reason?: string }> = {
  'fast-both': { kind: 'ack' },
  'fast-plain': { kind: 'ack' },
  'fast-reordered': { kind: 'ack' },
  'fast-async': { kind: 'ack' },
  'fast-error': { kind: 'retry', reason: 'handler for "fast-error" failed: ledger down' },
  'fast-rejects': { kind: 'retry', reason: 'handler for "fast-rejects" failed: TypeError: bad amount' },
  'fast-observable': { kind: 'retry', reason: 'handler for "fast-observable" failed: stream failed' },
  'fast-rpc': { kind: 'retry', reason: 'handler for "fast-rpc" failed: rpc says no' },
  'fast-object': { kind: 'retry', reason: 'handler for "fast-object" failed: {"code":"E_LEDGER"}' },
  'fast-dead': { kind: 'dead-letter', reason: 'handler rejected the message: not a ledger entry' },
};

// ---- enhancers, each counting its runs ----
const ran: string[] = [];

@Injectable()
class CountingPipe implements PipeTransform {
  transform(value: unknown) {
    ran.push('pipe');
    return value;
  }
}

@Injectable()
class CountingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    ran.push('interceptor');
    return next.handle();
  }
}

@Injectable()
class CountingGuard implements CanActivate {
  canActivate(): boolean {
    ran.push('guard');
    return true;
  }
}

/** Rewrites every failure, so its effect shows in the reason. */
@Catch()
class RewritingFilter implements ExceptionFilter {
  catch(exception: unknown, _host: ArgumentsHost) {
    ran.push('filter');
    return throwError(() => ({ status: 'error', message: `filtered: ${(exception as Error).message}` }));
  }
}

type Kind = 'pipe' | 'interceptor' | 'guard' | 'filter';
const ENHANCERS: Record<Kind, { instance: () => object; token: string; cls: Function }> = {
  pipe: { instance: () => new CountingPipe(), token: APP_PIPE, cls: CountingPipe },
  interceptor: { instance: () => new CountingInterceptor(), token: APP_INTERCEPTOR, cls: CountingInterceptor },
  guard: { instance: () => new CountingGuard(), token: APP_GUARD, cls: CountingGuard },
  filter: { instance: () => new RewritingFilter(), token: APP_FILTER, cls: RewritingFilter },
};

function useGlobal(
  app: { useGlobalPipes: Function; useGlobalInterceptors: Function; useGlobalGuards: Function; useGlobalFilters: Function },
  kind: Kind,
) {
  const enhancer = ENHANCERS[kind].instance();
  if (kind === 'pipe') app.useGlobalPipes(enhancer);
  if (kind === 'interceptor') app.useGlobalInterceptors(enhancer);
  if (kind === 'guard') app.useGlobalGuards(enhancer);
  if (kind === 'filter') app.useGlobalFilters(enhancer);
}

interface Started {
  app: INestApplication;
  messaging: MessagingTesting;
}

async function compile(providers: Provider[] = [], controllers: Function[] = [FastController]) {
  @Module({
    imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'fast' })],
    controllers: controllers as never[],
    providers,
  })
  class AppModule {}
  return MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })).compile();
}

async function createApp(providers: Provider[] = [], controllers: Function[] = [FastController]) {
  const moduleRef = await compile(providers, controllers);
  return { moduleRef, app: moduleRef.createNestApplication({ logger: false }) };
}

/** A standalone microservice (no HTTP app on the container): its ApplicationConfig is the container's. */
async function createMicroservice(controllers?: Function[]) {
  const moduleRef = await compile([], controllers);
  return moduleRef.createNestMicroservice<MicroserviceOptions>({ strategy: moduleRef.get(MessagingServer), logger: false });
}

/** Starts a standalone microservice with these controllers, uses it, and closes it. */
async function onMicroservice(use: (messaging: MessagingTesting) => Promise<void>, controllers?: Function[]) {
  const microservice = await createMicroservice(controllers);
  await microservice.listen();
  try {
    await use(MessagingTesting.of(microservice));
  } finally {
    await microservice.close();
  }
}

async function startApp(providers: Provider[] = [], configure?: (app: INestApplication) => void): Promise<Started> {
  const { app } = await createApp(providers);
  configure?.(app);
  return { app, messaging: await MessagingTesting.start(app) };
}

const deliver = async (messaging: MessagingTesting, topic: string, data: unknown = { orderId: 'o-1' }) => {
  const result = await messaging.publish(topic, data, { queue: 'fast' });
  return result.outcome === 'success' ? { kind: 'ack' } : { kind: result.outcome, reason: result.reason };
};

beforeEach(() => {
  calls.length = 0;
  ran.length = 0;
});

describe('handler fast path: no pipes, guards, interceptors or filters anywhere', () => {
  let started: Started;
  beforeAll(async () => {
    started = await startApp();
  });
  afterAll(() => started.app.close());

  it('calls the controller method directly with its payload and MessagingContext', async () => {
    expect(await deliver(started.messaging, 'fast-both', { orderId: 'o-7' })).toEqual({ kind: 'ack' });
    const call = lastCall();
    expect(call.via).toBe(HYBRID_VIA);
    expect(call.data).toEqual({ orderId: 'o-7' });
    expect(call.context).toBeInstanceOf(MessagingContext);
    expect((call.context as MessagingContext).getTopic()).toBe('fast-both');
    expect((call.context as MessagingContext).getReceiveCount()).toBe(1);
  });

  it('passes arguments as Nest does: payload only without decorators, a payload field, any order', async () => {
    await deliver(started.messaging, 'fast-plain', { orderId: 'o-8' });
    expect(lastCall()).toMatchObject({ via: HYBRID_VIA, data: { orderId: 'o-8' }, context: undefined });
    await deliver(started.messaging, 'fast-reordered', { orderId: 'o-9' });
    expect(lastCall()).toMatchObject({ via: HYBRID_VIA, data: 'o-9' });
    expect(lastCall().context).toBeInstanceOf(MessagingContext);
  });

  it.each(Object.entries(EXPECTED))('%s: the same outcome as through the pipeline, with its own reason', async (topic, expected) => {
    expect(await deliver(started.messaging, topic)).toEqual(expected);
    expect(lastCall()).toMatchObject({ topic, via: HYBRID_VIA });
  });

  it('a failed attempt is retried with its own reason on every attempt', async () => {
    const first = await started.messaging.publish('fast-error', {}, { queue: 'fast' });
    expect(first).toMatchObject({ outcome: 'retry', reason: 'handler for "fast-error" failed: ledger down' });
  });
});

describe('the same handlers through the pipeline (a global interceptor present)', () => {
  let started: Started;
  beforeAll(async () => {
    started = await startApp([], (app) => useGlobal(app, 'interceptor'));
  });
  afterAll(() => started.app.close());

  it.each(Object.entries(EXPECTED))('%s: outcome and reason as on the fast path', async (topic, expected) => {
    expect(await deliver(started.messaging, topic)).toEqual(expected);
    expect(lastCall()).toMatchObject({ topic, via: 'pipeline' });
    expect(ran).toContain('interceptor');
  });

  it('payload and context arrive as on the fast path', async () => {
    await deliver(started.messaging, 'fast-plain', { orderId: 'o-8' });
    expect(lastCall()).toMatchObject({ via: 'pipeline', data: { orderId: 'o-8' }, context: undefined });
    await deliver(started.messaging, 'fast-reordered', { orderId: 'o-9' });
    expect(lastCall()).toMatchObject({ via: 'pipeline', data: 'o-9' });
  });
});

describe.each(['pipe', 'interceptor', 'guard', 'filter'] as Kind[])('a global %s switches every handler back to the pipeline', (kind) => {
  const check = async (messaging: MessagingTesting) => {
    if (kind === 'filter') {
      expect(await deliver(messaging, 'fast-error')).toEqual({
        kind: 'retry',
        reason: 'handler for "fast-error" failed: filtered: ledger down',
      });
      expect(lastCall().via).toBe('pipeline');
    } else {
      expect(await deliver(messaging, 'fast-both')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('pipeline');
    }
    expect(ran).toContain(kind);
  };

  it(`app.useGlobal*() before connectMicroservice (inheritAppConfig)`, async () => {
    const started = await startApp([], (app) => useGlobal(app, kind));
    try {
      await check(started.messaging);
    } finally {
      await started.app.close();
    }
  });

  it(`an ${ENHANCERS[kind].token} provider (singleton)`, async () => {
    const started = await startApp([{ provide: ENHANCERS[kind].token, useClass: ENHANCERS[kind].cls as never }]);
    try {
      await check(started.messaging);
    } finally {
      await started.app.close();
    }
  });

  it(`an ${ENHANCERS[kind].token} provider (request-scoped)`, async () => {
    const started = await startApp([{ provide: ENHANCERS[kind].token, useClass: ENHANCERS[kind].cls as never, scope: Scope.REQUEST }]);
    try {
      await check(started.messaging);
    } finally {
      await started.app.close();
    }
  });

  it('a standalone microservice (TestingModule.createNestMicroservice) with microservice.useGlobal*()', async () => {
    const microservice = await createMicroservice();
    useGlobal(microservice, kind);
    await microservice.listen();
    try {
      await check(MessagingTesting.of(microservice));
    } finally {
      await microservice.close();
    }
  });
});

describe('when the pipeline configuration cannot be known, or the handler has enhancers of its own', () => {
  it('app.useGlobal*() after connectMicroservice: the pipeline (Nest built it without the pipe; so do we)', async () => {
    const { app } = await createApp();
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    useGlobal(app, 'pipe');
    await app.startAllMicroservices();
    await app.init();
    try {
      expect(await deliver(MessagingTesting.of(app), 'fast-both')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('pipeline');
    } finally {
      await app.close();
    }
  });

  it('a hybrid app with deferInitialization (its own ApplicationConfig is out of sight): the pipeline, its enhancers run', async () => {
    const { app } = await createApp();
    const microservice = app.connectMicroservice({ strategy: app.get(MessagingServer) }, { deferInitialization: true });
    useGlobal(microservice, 'guard');
    await app.startAllMicroservices();
    await app.init();
    try {
      expect(await deliver(MessagingTesting.of(app), 'fast-both')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('pipeline');
      expect(ran).toContain('guard');
    } finally {
      await app.close();
    }
  });

  it('a standalone microservice without enhancers takes the fast path', async () => {
    await onMicroservice(async (messaging) => {
      expect(await deliver(messaging, 'fast-both')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('direct');
    });
  });

  it('a controller-level guard, a request-scoped controller, two handlers of one pattern: the pipeline for those only', async () => {
    @UseGuards(CountingGuard)
    @Controller()
    class Guarded {
      @MessagingEventPattern('guarded', Q)
      handle(@Payload() data: unknown) {
        calls.push({ topic: 'guarded', via: via(), data, context: undefined });
      }
    }
    @Controller({ scope: Scope.REQUEST })
    class PerRequest {
      @MessagingEventPattern('per-request', Q)
      handle(@Payload() data: unknown) {
        calls.push({ topic: 'per-request', via: via(), data, context: undefined });
      }
    }
    @Controller()
    class Twice {
      @MessagingEventPattern('fast-both', Q)
      again(@Payload() data: unknown) {
        calls.push({ topic: 'fast-both', via: via(), data, context: undefined, extra: 'twice' });
      }
    }
    @Controller()
    class Alone {
      @MessagingEventPattern('alone', Q)
      handle(@Payload() data: unknown) {
        calls.push({ topic: 'alone', via: via(), data, context: undefined });
      }
    }
    const { app } = await createApp([], [FastController, Guarded, PerRequest, Twice, Alone]);
    const messaging = await MessagingTesting.start(app);
    try {
      expect(await deliver(messaging, 'guarded')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('pipeline');
      expect(ran).toEqual(['guard']);
      expect(await deliver(messaging, 'per-request')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe('pipeline');
      calls.length = 0;
      expect(await deliver(messaging, 'fast-both')).toEqual({ kind: 'ack' });
      expect(calls.map((c) => c.via)).toEqual(['pipeline', 'pipeline']);
      expect(await deliver(messaging, 'alone')).toEqual({ kind: 'ack' });
      expect(lastCall().via).toBe(HYBRID_VIA);
    } finally {
      await app.close();
    }
  });
});

describe("when Nest's metadata does not read as expected (as after a Nest release that changed it)", () => {
  @Controller()
  class Piped {
    @UsePipes(CountingPipe)
    @MessagingEventPattern('piped', Q)
    handle(@Payload() data: unknown) {
      calls.push({ topic: 'piped', via: via(), data, context: undefined });
    }
  }

  it("every handler runs through Nest's pipeline, its pipes included, with one warning naming why", async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const debug = jest.spyOn(Logger.prototype, 'debug');
    const defineMetadata = Reflect.defineMetadata.bind(Reflect) as (...args: unknown[]) => void;
    // From here on @UsePipes() records under a key the library does not read (the handlers above were decorated before)
    const renamed = jest
      .spyOn(Reflect, 'defineMetadata')
      .mockImplementation((key: unknown, ...rest: unknown[]) => defineMetadata(key === '__pipes__' ? '__pipes_v2__' : key, ...rest));
    try {
      for (let start = 0; start < 2; start += 1) {
        await onMicroservice(
          async (messaging) => {
            expect(await deliver(messaging, 'fast-both')).toEqual({ kind: 'ack' });
            expect(lastCall()).toMatchObject({ via: 'pipeline', data: { orderId: 'o-1' } });
            expect(await deliver(messaging, 'piped')).toEqual({ kind: 'ack' });
            expect(lastCall().via).toBe('pipeline');
            expect(ran).toEqual(['pipe']);
            ran.length = 0;
          },
          [FastController, Piped],
        );
      }
      const warnings = warn.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('pipeline'));
      expect(warnings).toEqual([expect.stringContaining("@UsePipes() on a class is not read back from '__pipes__' (Nest recorded under")]);
      expect(warnings[0]).toContain("Every @EventPattern handler runs through Nest's full RPC pipeline (correct, only slower;");
      // the warning once per process, the reason at debug at every start
      const reasons = debug.mock.calls.map(([message]) => String(message)).filter((message) => message.includes('full RPC pipeline'));
      expect(reasons).toEqual([
        expect.stringMatching(/^Every handler runs through Nest's full RPC pipeline: Nest's handler metadata is not understood: /),
        expect.stringMatching(/^Every handler runs through Nest's full RPC pipeline: Nest's handler metadata is not understood: /),
      ]);
    } finally {
      renamed.mockRestore();
      warn.mockRestore();
      debug.mockRestore();
    }

    // the check runs at every start: with the metadata as expected again, the fast path is back
    await onMicroservice(
      async (messaging) => {
        expect(await deliver(messaging, 'fast-both')).toEqual({ kind: 'ack' });
        expect(lastCall().via).toBe('direct');
      },
      [FastController, Piped],
    );
  });
});
