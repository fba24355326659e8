import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingServer, type BrokerStatus } from '../../../lib/index.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode } from '../../support/rabbitmq-node.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

function makeController(handled: number[]) {
  @Controller()
  class LossController {
    @EventPattern('tick', { queueName: 'ticks' })
    tick(@Payload() data: { i: number }) {
      handled.push(data.i);
    }
  }
  return LossController;
}

/** The broker closes the app's connection: on the run's test node, not the shared broker. */
const rabbit = useRabbitNode();

describe('AMQP connection loss', () => {
  let raw: ChannelModel;
  let app: INestApplication;
  const exchange = uniqueName('ex-loss');
  const queuePrefix = `${uniqueName('q')}-`;

  beforeAll(async () => {
    raw = await rabbit.node.connect();
  });
  afterAll(async () => {
    await app?.close();
    const ch = await raw.createChannel();
    for (const q of ['ticks', 'ticks-retry', 'ticks-dlq']) await ch.deleteQueue(`${queuePrefix}${q}`);
    await ch.deleteExchange(exchange);
    await ch.close();
    await raw.close();
  });

  it('reports disconnected/reconnecting/connected, re-attaches the consumer, and handles messages published before, during and after', async () => {
    const handled: number[] = [];
    app = await startTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('svc'),
        queueNamePrefix: queuePrefix,
        amqp: { url: rabbit.node.url, exchange, reconnectDelay: { initial: 100, max: 1000 } },
      }),
      [makeController(handled)],
    );
    const statuses: BrokerStatus[] = [];
    const server = app.get(MessagingServer);
    const subscription = server.status.subscribe((s) => statuses.push(s as BrokerStatus));
    const client = app.get(MessagingClient);

    const before = Array.from({ length: 50 }, (_, i) => i);
    await Promise.all(before.map((i) => lastValueFrom(client.emit('tick', { i }))));
    const model = app.get(MessagingServer).unwrap<ChannelModel>();
    await rabbit.node.closeConnection(model);
    // published while the connection is down / coming back: emit waits for the reconnect
    const during = Array.from({ length: 50 }, (_, i) => 50 + i);
    await Promise.all(during.map((i) => lastValueFrom(client.emit('tick', { i }))));
    await waitFor(() => statuses.includes('reconnecting') && statuses.at(-1) === 'connected', { what: 'reconnected status' });
    expect(app.get(MessagingServer).unwrap<ChannelModel>()).not.toBe(model);
    const after = Array.from({ length: 50 }, (_, i) => 100 + i);
    await Promise.all(after.map((i) => lastValueFrom(client.emit('tick', { i }))));

    await waitFor(() => new Set(handled).size === 150, { what: 'all 150 messages handled', timeoutMs: 20_000 });
    const dupes = handled.length - new Set(handled).size;
    console.log(`connection loss: statuses ${statuses.join(' → ')}; 150 published, ${new Set(handled).size} handled, ${dupes} duplicates`);
    expect(statuses.slice(statuses.indexOf('disconnected'))).toEqual(['disconnected', 'reconnecting', 'connected']);
    subscription.unsubscribe();
  });
});
