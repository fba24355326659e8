import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../../lib/index.js';
import { queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

interface Gate {
  started: number[];
  finished: number[];
  slow: Set<number>;
  release?: () => void;
  released: Promise<void>;
}

function makeController(app: string, gate: Gate, handled: Array<{ app: string; i: number }>) {
  @Controller()
  class SlowController {
    @EventPattern('work', { queueName: 'work' })
    async work(@Payload() data: { i: number }) {
      gate.started.push(data.i);
      if (gate.slow.has(data.i)) await gate.released;
      else await new Promise((r) => setTimeout(r, 200));
      gate.finished.push(data.i);
      handled.push({ app, i: data.i });
    }
  }
  return SlowController;
}

function newGate(slow: number[] = []): Gate {
  const gate: Gate = { started: [], finished: [], slow: new Set(slow), released: Promise.resolve() };
  gate.released = new Promise<void>((resolve) => {
    gate.release = resolve;
  });
  return gate;
}

shareBroker();

describe('AMQP graceful shutdown', () => {
  let raw: ChannelModel;
  const exchange = uniqueName('ex-drain');
  const queuePrefix = `${uniqueName('q')}-`;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    const ch = await raw.createChannel();
    for (const q of ['work', 'work-retry', 'work-dlq']) await ch.deleteQueue(`${queuePrefix}${q}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  it('drains in-flight handlers (acked), returns unfinished ones to the queue for a second app, loses nothing', async () => {
    const handled: Array<{ app: string; i: number }> = [];
    const n = 20;
    const stuck = [3, 7];
    const gate = newGate(stuck);
    const options = { serviceName: uniqueName('svc'), queueNamePrefix: queuePrefix, drainTimeout: 1500, amqp: { exchange, prefetch: 50 } };
    const first = await startTestApp(rabbitMqOptions(options), [makeController('first', gate, handled)]);
    apps.push(first);
    await Promise.all(Array.from({ length: n }, (_, i) => lastValueFrom(first.get(MessagingClient).emit('work', { i }))));
    await waitFor(() => gate.started.length === n, { what: 'all handlers started' });

    const closedAt = Date.now();
    await first.close();
    apps.pop();
    const closeMs = Date.now() - closedAt;
    // the 18 quick handlers finished during the drain; the 2 stuck ones hit the drain timeout
    expect(handled.filter((h) => h.app === 'first')).toHaveLength(n - stuck.length);
    expect(closeMs).toBeGreaterThanOrEqual(1400);
    expect(await queueInfo(raw, `${queuePrefix}work`)).toMatchObject({ messageCount: stuck.length, consumerCount: 0 });

    const second = await startTestApp(rabbitMqOptions(options), [makeController('second', newGate(), handled)]);
    apps.push(second);
    await waitFor(() => handled.filter((h) => h.app === 'second').length === stuck.length, {
      what: 'unfinished messages redelivered to the second app',
    });
    expect(
      handled
        .filter((h) => h.app === 'second')
        .map((h) => h.i)
        .sort((a, b) => a - b),
    ).toEqual(stuck);
    expect(new Set(handled.map((h) => h.i)).size).toBe(n);
    gate.release?.();
    console.log(
      `graceful shutdown: ${n} published, ${n - stuck.length} drained by the first app in ${closeMs} ms, ${stuck.length} redelivered to the second`,
    );
  });
});
