import 'reflect-metadata';
import {
  CallHandler,
  Controller,
  ExecutionContext,
  Injectable,
  Module,
  NestInterceptor,
  UseInterceptors,
  type INestApplication,
} from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { IsInt, IsString } from 'class-validator';
import {
  BatchFailure,
  DeadLetterError,
  MessagingBatchContext,
  MessagingEventPattern,
  MessagingModule,
  MessagingOptionsError,
  MessagingServer,
  MessagingValidationPipe,
} from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { amqpTransport } from '../../../lib/amqp/definition.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { MessagingTesting } from '../../../lib/testing/index.js';
import { startOnTestingKit } from '../../support/testing-kit.js';

interface Item {
  n: number;
  fail?: 'error' | 'dead' | 'report' | 'unknown-id';
}

const calls: Array<{ topic: string; items: Item[]; ids: string[]; counts: number[] }> = [];
let interceptions = 0;

function record(topic: string, items: Item[], ctx: MessagingBatchContext): void {
  calls.push({ topic, items, ids: ctx.getMessageIds(), counts: ctx.getMessages().map((m) => m.getReceiveCount()) });
}

function act(items: Item[], ctx: MessagingBatchContext): void {
  const ids = ctx.getMessageIds();
  if (items.some((i) => i.fail === 'error')) throw new Error('bulk insert failed');
  if (items.some((i) => i.fail === 'dead')) throw new DeadLetterError('batch refused');
  const reported = ids.filter((_, index) => items[index].fail === 'report');
  if (reported.length > 0) throw new BatchFailure(reported, 'row rejected by the index');
  if (items.some((i) => i.fail === 'unknown-id')) throw new BatchFailure(['not-a-message-of-this-batch']);
}

@Injectable()
class CountingInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    interceptions += 1;
    return next.handle();
  }
}

class Doc {
  @IsString() title!: string;
  @IsInt() n!: number;
}

@Controller()
class IndexerController {
  @UseInterceptors(CountingInterceptor)
  @MessagingEventPattern('doc-validated', { batch: { maxSize: 3, maxWaitMs: 60_000 } })
  onValidated(@Payload(new MessagingValidationPipe({ items: Doc })) docs: Doc[], @Ctx() ctx: MessagingBatchContext) {
    calls.push({ topic: 'doc-validated', items: docs as unknown as Item[], ids: ctx.getMessageIds(), counts: [] });
    expect(docs.every((doc) => doc instanceof Doc)).toBe(true);
  }

  @MessagingEventPattern('doc-indexed', { batch: { maxSize: 3, maxWaitMs: 60_000 } })
  onDocs(@Payload() items: Item[], @Ctx() ctx: MessagingBatchContext) {
    record('doc-indexed', items, ctx);
    act(items, ctx);
  }

  @UseInterceptors(CountingInterceptor)
  @MessagingEventPattern('doc-audited', { batch: { maxSize: 2, maxWaitMs: 60_000 } })
  async onAudits(@Payload() items: Item[], @Ctx() ctx: MessagingBatchContext) {
    record('doc-audited', items, ctx);
    act(items, ctx);
  }

  @MessagingEventPattern('doc-deleted', { batch: { maxSize: 50, maxWaitMs: 0 } })
  onDeleted(@Payload() items: Item[], @Ctx() ctx: MessagingBatchContext) {
    record('doc-deleted', items, ctx);
  }
}

@Module({ imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'indexer' })], controllers: [IndexerController] })
class AppModule {}

describe('batch handlers (testing kit, in-memory broker)', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;
  let server: MessagingServer;

  beforeAll(async () => {
    ({ app, messaging } = await startOnTestingKit(AppModule));
    server = app.get(MessagingServer);
  });

  afterAll(() => app.close());

  beforeEach(() => {
    calls.splice(0);
    interceptions = 0;
  });

  const publishAll = (topic: string, items: Item[], receiveCount = 1) =>
    Promise.all(items.map((item) => messaging.publish(topic, item, { messageId: `m${item.n}`, receiveCount })));

  it('runs a batch queue with at least maxSize deliveries at once', () => {
    const byTopic = Object.fromEntries(messaging.queues().map((q) => [q.subscriptions[0].pattern, q.concurrency]));
    expect(byTopic).toEqual({ 'doc-validated': 10, 'doc-indexed': 10, 'doc-audited': 10, 'doc-deleted': 50 });
  });

  it('tells delivery listeners the size of each batch', async () => {
    const sizes: Array<[string, string, number]> = [];
    const remove = server.addDeliveryListener({
      received: () => undefined,
      settled: () => undefined,
      batch: (queue, pattern, size) => sizes.push([queue, pattern, size]),
    });
    await publishAll('doc-indexed', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await publishAll('doc-deleted', [{ n: 4 }]);
    remove();
    expect(sizes).toEqual([
      ['indexer--doc-indexed', 'doc-indexed', 3],
      ['indexer--doc-deleted', 'doc-deleted', 1],
    ]);
  });

  it('calls the handler once with maxSize payloads and their contexts, and settles each message as handled', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(results.map((r) => r.outcome)).toEqual(['success', 'success', 'success']);
    expect(calls).toEqual([{ topic: 'doc-indexed', items: [{ n: 1 }, { n: 2 }, { n: 3 }], ids: ['m1', 'm2', 'm3'], counts: [1, 1, 1] }]);
  });

  it('runs a retried message (second attempt or later) in a batch of its own', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2 }], 2);
    expect(results.map((r) => r.outcome)).toEqual(['success', 'success']);
    expect(calls.map((call) => [call.items, call.counts])).toEqual([
      [[{ n: 1 }], [2]],
      [[{ n: 2 }], [2]],
    ]);
  });

  it('hands a batch smaller than maxSize to the handler maxWaitMs after its first message', async () => {
    const [result] = await publishAll('doc-deleted', [{ n: 7 }]);
    expect(result.outcome).toBe('success');
    expect(calls).toEqual([{ topic: 'doc-deleted', items: [{ n: 7 }], ids: ['m7'], counts: [1] }]);
  });

  it('retries every message of a batch whose handler threw, each with the reason', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2, fail: 'error' }, { n: 3 }]);
    expect(calls).toHaveLength(1);
    for (const result of results)
      expect(result).toMatchObject({ outcome: 'retry', reason: 'handler for "doc-indexed" failed: bulk insert failed' });
  });

  it('on their last attempt each message runs alone: the failing one is dead-lettered as settle() decides, the others handled', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2, fail: 'error' }, { n: 3 }], 5);
    expect(results.map((r) => r.outcome)).toEqual(['success', 'dead-letter', 'success']);
    expect(results[1].reason).toBe('failed 5 time(s), last: handler for "doc-indexed" failed: bulk insert failed');
  });

  it('retries only the messages a BatchFailure names and settles the others as handled', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2, fail: 'report' }, { n: 3 }]);
    expect(results.map((r) => r.outcome)).toEqual(['success', 'retry', 'success']);
    expect(results[1].reason).toBe(
      'batch handler for "doc-indexed" failed this message: row rejected by the index (1 message(s) of the batch)',
    );
  });

  it('retries the whole batch when a BatchFailure names a message that is not in it, saying so', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2, fail: 'unknown-id' }, { n: 3 }]);
    expect(results.map((r) => r.outcome)).toEqual(['retry', 'retry', 'retry']);
    expect(results[0].reason).toMatch(/naming message id\(s\) not in its batch \(not-a-message-of-this-batch\)/);
  });

  it('dead-letters every message of a batch at once when the handler throws DeadLetterError', async () => {
    const results = await publishAll('doc-indexed', [{ n: 1 }, { n: 2, fail: 'dead' }, { n: 3 }]);
    expect(results.map((r) => r.outcome)).toEqual(['dead-letter', 'dead-letter', 'dead-letter']);
    expect(results[0].reason).toBe('handler rejected the message: batch refused');
  });

  it("runs Nest's pipeline once per batch and still reads a BatchFailure thrown through it", async () => {
    const handled = await publishAll('doc-audited', [{ n: 1 }, { n: 2 }]);
    expect(handled.map((r) => r.outcome)).toEqual(['success', 'success']);
    expect(interceptions).toBe(1);
    const reported = await publishAll('doc-audited', [{ n: 3, fail: 'report' }, { n: 4 }]);
    expect(reported.map((r) => r.outcome)).toEqual(['retry', 'success']);
    expect(interceptions).toBe(2);
    expect(calls.map((c) => c.ids)).toEqual([
      ['m1', 'm2'],
      ['m3', 'm4'],
    ]);
  });
});

describe('batch handlers: MessagingValidationPipe({ items }) validates each element', () => {
  let app: INestApplication;
  let messaging: MessagingTesting;

  beforeAll(async () => {
    ({ app, messaging } = await startOnTestingKit(AppModule));
  });

  afterAll(() => app.close());

  beforeEach(() => {
    calls.splice(0);
    interceptions = 0;
  });

  it('dead-letters only the messages whose element fails validation and calls the handler with the others', async () => {
    const docs = [
      { messageId: 'v1', data: { title: 'a', n: 1 } },
      { messageId: 'v2', data: { title: 7, n: 'x' } },
      { messageId: 'v3', data: { title: 'c', n: 3 } },
    ];
    const results = await Promise.all(docs.map(({ messageId, data }) => messaging.publish('doc-validated', data, { messageId })));
    expect(results.map((r) => r.outcome)).toEqual(['success', 'dead-letter', 'success']);
    expect(results[1].reason).toBe(
      'handler rejected the message: payload failed validation: title must be a string; n must be an integer number',
    );
    expect(calls).toEqual([{ topic: 'doc-validated', items: [docs[0].data, docs[2].data], ids: ['v1', 'v3'], counts: [] }]);
    // the pipeline ran for the batch, then again for the valid remainder
    expect(interceptions).toBe(2);
  });

  it('dead-letters a batch whose every element fails validation without calling the handler', async () => {
    const results = await Promise.all(
      ['w1', 'w2', 'w3'].map((messageId) => messaging.publish('doc-validated', { title: 1, n: 1 }, { messageId })),
    );
    expect(results.map((r) => r.outcome)).toEqual(['dead-letter', 'dead-letter', 'dead-letter']);
    expect(calls).toEqual([]);
  });
});

describe('batch handlers at shutdown', () => {
  const handled: Item[][] = [];

  @Controller()
  class SlowBatchController {
    @MessagingEventPattern('doc-archived', { batch: { maxSize: 100, maxWaitMs: 60_000 } })
    onArchived(@Payload() items: Item[]) {
      handled.push(items);
    }
  }

  @Module({
    imports: [MessagingModule.forRoot({ transport: 'sns-sqs', serviceName: 'archiver', drainTimeout: 50_000 })],
    controllers: [SlowBatchController],
  })
  class ArchiverModule {}

  it('hands a partial batch to its handler when the app closes instead of waiting out maxWaitMs', async () => {
    const { app, messaging } = await startOnTestingKit(ArchiverModule);
    const server = app.get(MessagingServer);
    let received = 0;
    const subscription = server.events$.subscribe((event) => {
      if (event.type === 'received') received += 1;
    });
    const publishing = Promise.all([1, 2].map((n) => messaging.publish('doc-archived', { n })));
    await messaging.waitFor(() => received === 2, { description: 'both messages waiting in the batch' });
    subscription.unsubscribe();
    expect(handled).toEqual([]);
    await app.close();
    expect((await publishing).map((r) => r.outcome)).toEqual(['success', 'success']);
    expect(handled).toEqual([[{ n: 1 }, { n: 2 }]]);
  });
});

describe('batch extra: planning and option checks', () => {
  const handler = (extras: Record<string, unknown>): MessageHandler =>
    Object.assign(async () => undefined, { isEventHandler: true, extras }) as unknown as MessageHandler;
  const plan = (handlers: Record<string, Record<string, unknown>>, transport: 'sns-sqs' | 'amqp' = 'sns-sqs') =>
    planQueues(
      new Map(Object.entries(handlers).map(([pattern, extras]) => [pattern, handler(extras)])),
      resolveModuleOptions({ transport, serviceName: 'indexer' }),
      transport === 'amqp' ? amqpTransport : snsSqsTransport,
      '3f2b9c1e-7a4d-4e2b-9c1e-7a4d3f2b9c1e',
    );

  it('fills in maxWaitMs and raises the concurrency (AMQP: the prefetch) of the queue to maxSize', () => {
    const [sqs] = plan({ 'doc-indexed': { batch: { maxSize: 40 } } });
    expect(sqs.plan.concurrency).toBe(40);
    expect(sqs.routes[0].batch).toEqual({ maxSize: 40, maxWaitMs: 200 });
    // an explicit undefined is unset, as for every other extra
    expect(plan({ 'doc-indexed': { batch: { maxSize: 40, maxWaitMs: undefined } } })[0].routes[0].batch).toEqual({
      maxSize: 40,
      maxWaitMs: 200,
    });
    const [amqp] = plan({ 'doc-indexed': { batch: { maxSize: 300, maxWaitMs: 0 } } }, 'amqp');
    expect(amqp.plan.concurrency).toBe(300);
    expect(plan({ 'doc-indexed': { batch: { maxSize: 5 }, concurrency: 20 } })[0].plan.concurrency).toBe(20);
  });

  it('raises a shared queue for its batch handler, the other handlers of the queue included', () => {
    const [queue] = plan({ a: { queueName: 'shared', batch: { maxSize: 30 } }, b: { queueName: 'shared' } });
    expect(queue.plan.concurrency).toBe(30);
    expect(queue.routes.map((r) => r.batch)).toEqual([{ maxSize: 30, maxWaitMs: 200 }, undefined]);
  });

  it('refuses a concurrency set below maxSize, naming both', () => {
    expect(() => plan({ 'doc-indexed': { batch: { maxSize: 50 }, concurrency: 10 } })).toThrow(
      new MessagingOptionsError(
        "@EventPattern('doc-indexed').batch.maxSize",
        'is over the concurrency of queue "indexer--doc-indexed" (10), so a batch could never fill: set concurrency to at least 50, or leave it unset (a batch handler\'s queue then runs maxSize deliveries at once)',
        50,
      ),
    );
  });

  it.each([
    [{ batch: true }, "@EventPattern('t').batch", 'must be { maxSize, maxWaitMs? } such as { maxSize: 50, maxWaitMs: 200 }'],
    [{ batch: {} }, "@EventPattern('t').batch.maxSize", 'must be an integer from 1 to 1000'],
    [{ batch: { maxSize: 1001 } }, "@EventPattern('t').batch.maxSize", 'must be an integer from 1 to 1000'],
    [{ batch: { maxSize: 5, maxWaitMs: -1 } }, "@EventPattern('t').batch.maxWaitMs", 'must be an integer from 0 to 60000'],
    [{ batch: { maxSize: 5, size: 3 } }, "@EventPattern('t').batch.size", 'is not a known option; use one of maxSize, maxWaitMs'],
  ])('refuses %j, naming the option', (extras, option, rule) => {
    expect(() => plan({ t: extras })).toThrow(MessagingOptionsError);
    expect(() => plan({ t: extras })).toThrow(`"${option}": ${rule}`);
  });

  it('accepts batch on a queue-only handler (it shapes no queue)', () => {
    const [queue] = plan({ t: { queue: 'existing-orders', batch: { maxSize: 20 } } });
    expect(queue.plan).toMatchObject({ existingQueue: 'existing-orders', concurrency: 20 });
  });
});
