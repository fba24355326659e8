import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { startTestApp, emit } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { cleanUpBrokerAfterAll, queueInfo, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/** A handler's `concurrency` extra on AMQP is the prefetch of its queue's own consumer channel. */
describe('AMQP per-handler concurrency', () => {
  let raw: ChannelModel;
  let app: INestApplication | undefined;
  const waiting: Array<() => void> = [];

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    waiting.splice(0).forEach((release) => release());
    await app?.close();
    await raw.close();
  });
  const track = cleanUpBrokerAfterAll();

  it('two queues with different concurrency run that many handlers at once each; the rest stay ready in the broker', async () => {
    const exchange = track(uniqueName('ex-conc'));
    const queuePrefix = track(uniqueName('conc'));
    const running = { slow: 0, busy: 0, other: 0 };
    const held = (key: keyof typeof running) => async () => {
      running[key] += 1;
      await new Promise<void>((resolve) => waiting.push(resolve));
      running[key] -= 1;
    };
    app = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: `${queuePrefix}-`, amqp: { exchange, prefetch: 3 } }),
      [
        controllerFor([
          { pattern: 'slow', extras: { queueName: 'slow', concurrency: 2 }, handle: held('slow') },
          { pattern: 'busy', extras: { queueName: 'busy', concurrency: 5 }, handle: held('busy') },
          { pattern: 'other', extras: { queueName: 'other' }, handle: held('other') },
        ]),
      ],
    );
    for (let i = 0; i < 8; i++) await Promise.all([emit(app, 'slow', { i }), emit(app, 'busy', { i }), emit(app, 'other', { i })]);

    // each queue's broker-side ready count is what its prefetch did not hand out: 8 - 2, 8 - 5, 8 - amqp.prefetch (3)
    const ready = async (queue: string) => (await queueInfo(raw, `${queuePrefix}-${queue}`))?.messageCount;
    await waitFor(
      async () =>
        running.slow === 2 &&
        running.busy === 5 &&
        running.other === 3 &&
        (await ready('slow')) === 6 &&
        (await ready('busy')) === 3 &&
        (await ready('other')) === 5,
      { timeoutMs: 15_000, what: 'handlers 2 / 5 / 3 running and 6 / 3 / 5 messages ready' },
    );
    expect(running).toEqual({ slow: 2, busy: 5, other: 3 });
  });
});
