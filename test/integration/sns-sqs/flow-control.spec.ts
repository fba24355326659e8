import type { INestApplication } from '@nestjs/common';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { BatchFailure, MessagingRecord, type MessagingBatchContext } from '../../../lib/index.js';
import { type Fauxqs, fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { controllerFor } from '../../support/controllers.js';
import { deferred } from '../../support/deferred.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe.each(SNS_SQS_EMULATORS)('SNS+SQS flow control (%s)', (_emulator, start) => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs?.stop());

  const counts = async (name: string) => {
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes = {} } = await fauxqs.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return { visible: Number(Attributes.ApproximateNumberOfMessages), invisible: Number(Attributes.ApproximateNumberOfMessagesNotVisible) };
  };

  it('bounded concurrency: never more than `concurrency` handlers at once, and slots refill without a batch barrier', async () => {
    const queueName = uniqueName('bounded');
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName, concurrency: 3 },
            handle: async (d: { n: number }) => {
              running += 1;
              peak = Math.max(peak, running);
              await new Promise((r) => setTimeout(r, d.n === 0 ? 1500 : 50));
              running -= 1;
              done.push(d.n);
            },
          },
        ]),
      ]),
    );
    await Promise.all(Array.from({ length: 12 }, (_, n) => emit(apps[0], queueName, { n })));
    await waitFor(() => done.length === 12, { what: '12 handled' });
    expect(peak).toBe(3);
    // The slow first message did not hold back the others: they all finished before it.
    expect(done.at(-1)).toBe(0);
  });

  it('concurrency above 10: several receives in flight fill all slots', async () => {
    const queueName = uniqueName('wide');
    let running = 0;
    let peak = 0;
    const release = deferred();
    let handled = 0;
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName, concurrency: 25 },
            handle: async () => {
              running += 1;
              peak = Math.max(peak, running);
              if (peak >= 25) release.resolve();
              await release.promise;
              running -= 1;
              handled += 1;
            },
          },
        ]),
      ]),
    );
    await Promise.all(Array.from({ length: 30 }, (_, n) => emit(apps[0], queueName, { n })));
    await waitFor(() => handled === 30, { what: '30 handled' });
    expect(peak).toBe(25);
  });

  it('visibility heartbeat: a handler longer than the visibility timeout keeps its message, handled once', async () => {
    const queueName = uniqueName('slow');
    const calls: number[] = [];
    let finished = false;
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName, visibilityTimeout: 2 },
            handle: async (_d, ctx) => {
              calls.push(ctx.getReceiveCount());
              await new Promise((r) => setTimeout(r, 5000));
              finished = true;
            },
          },
        ]),
      ]),
    );
    await emit(apps[0], queueName, { slow: true });
    await waitFor(() => finished, { what: 'slow handler' });
    await waitFor(
      async () => {
        const c = await counts(queueName);
        return c.visible === 0 && c.invisible === 0;
      },
      { what: 'message deleted' },
    );
    expect(calls).toEqual([1]);
  });

  it('FIFO: one group strictly in order, groups in parallel, a failure holds its group back', async () => {
    const queueName = uniqueName('ordered');
    const topic = uniqueName('ordered-topic');
    const handled: Array<[string, number]> = [];
    const bStarted = deferred();
    let a2Failed = false;
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 0 }), [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName, fifo: true, concurrency: 10 },
            handle: async (d: { g: string; n: number }) => {
              if (d.g === 'B') bStarted.resolve();
              if (d.g === 'A' && d.n === 0) {
                // Only finishes once group B runs: proves the groups are handled in parallel.
                let timer: NodeJS.Timeout | undefined;
                await Promise.race([
                  bStarted.promise,
                  new Promise((_, reject) => {
                    timer = setTimeout(() => reject(new Error('group B never started')), 10_000);
                  }),
                ]);
                clearTimeout(timer);
              }
              if (d.g === 'A' && d.n === 2 && !a2Failed) {
                a2Failed = true;
                throw new Error('transient');
              }
              handled.push([d.g, d.n]);
            },
          },
        ]),
      ]),
    );
    for (let n = 0; n < 5; n++) {
      await Promise.all(['A', 'B'].map((g) => emit(apps[0], topic, new MessagingRecord({ g, n }, { groupId: g }))));
    }
    // moto hands out several messages of a group per receive (as AWS does): A3 and A4 come in the receive that brings
    // A2 and are released when A2 fails. The case takes about 2 s longer on moto than on fauxqs, a gap of moto's: a FIFO
    // long poll ignores a group unlocked while it is open (A after A0's delete, again after A2's release) until the next
    // poll, where AWS answers the open poll as soon as the group is free. The deadline covers both.
    await waitFor(() => handled.length === 10, { what: '10 FIFO messages', timeoutMs: 30_000 });
    expect(handled.filter(([g]) => g === 'A').map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(handled.filter(([g]) => g === 'B').map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(a2Failed).toBe(true);
    expect(handled.findIndex(([g]) => g === 'B')).toBeLessThan(handled.findIndex(([g]) => g === 'A'));
  });

  it('FIFO batch: at most one message per group in a batch, each group in order, a reported failure holds its group back', async () => {
    const queueName = uniqueName('ordered-batch');
    const topic = uniqueName('ordered-batch-topic');
    const calls: Array<Array<[string, number]>> = [];
    let a1Failed = false;
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 0 }), [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName, fifo: true, batch: { maxSize: 10, maxWaitMs: 300 } },
            handle: (items: Array<{ g: string; n: number }>, ctx) => {
              calls.push(items.map(({ g, n }) => [g, n]));
              const batch = ctx as unknown as MessagingBatchContext;
              const a1 = items.findIndex(({ g, n }) => g === 'A' && n === 1);
              if (a1 >= 0 && !a1Failed) {
                a1Failed = true;
                throw new BatchFailure([batch.getMessageIds()[a1]], 'transient');
              }
            },
          },
        ]),
      ]),
    );
    for (let n = 0; n < 4; n++) {
      await Promise.all(['A', 'B'].map((g) => emit(apps[0], topic, new MessagingRecord({ g, n }, { groupId: g }))));
    }
    // A1 fails once: A2 and A3 must wait for its second, handled attempt
    await waitFor(() => calls.flat().length === 9, { what: '9 FIFO deliveries', timeoutMs: 30_000 });
    for (const call of calls) expect(new Set(call.map(([g]) => g)).size).toBe(call.length);
    const attempts = (group: string) =>
      calls
        .flat()
        .filter(([g]) => g === group)
        .map(([, n]) => n);
    expect(attempts('A')).toEqual([0, 1, 1, 2, 3]);
    expect(attempts('B')).toEqual([0, 1, 2, 3]);
  });

  it('graceful shutdown: in-flight handlers finish and are deleted, unfinished ones are visible again at once', async () => {
    const service = uniqueName('svc');
    const topic = uniqueName('work');
    const queueName = uniqueName('work-q');
    const extras = { queueName, visibilityTimeout: 60, concurrency: 3 };
    const first: string[] = [];
    const finished: string[] = [];
    const gate = deferred();
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: service, drainTimeout: 1000 }), [
        controllerFor([
          {
            pattern: topic,
            extras,
            handle: async (d: { id: string }) => {
              first.push(d.id);
              if (d.id.startsWith('quick')) await new Promise((r) => setTimeout(r, 300));
              else await gate.promise; // never finishes within the drain timeout
              finished.push(d.id);
            },
          },
        ]),
      ]),
    );
    await Promise.all(['quick-1', 'stuck-1', 'stuck-2'].map((id) => emit(apps[0], topic, { id })));
    await waitFor(() => first.length === 3, { what: 'three in flight' });
    const closing = apps[0].close();
    apps.splice(0, 1);
    await closing;
    expect(finished).toEqual(['quick-1']);

    const second: string[] = [];
    const started = Date.now();
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: service }), [
        controllerFor([
          {
            pattern: topic,
            extras,
            handle: (d: { id: string }) => {
              second.push(d.id);
            },
          },
        ]),
      ]),
    );
    await waitFor(() => second.length >= 2, { what: 'released messages redelivered', timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(second.sort()).toEqual(['stuck-1', 'stuck-2']);
    gate.resolve();
    await waitFor(
      async () => {
        const c = await counts(queueName);
        return c.visible === 0 && c.invisible === 0;
      },
      { what: 'queue empty' },
    );
    expect(second.sort()).toEqual(['stuck-1', 'stuck-2']);
  });
});
