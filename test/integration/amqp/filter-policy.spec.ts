import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord } from '../../../lib/index.js';
import { rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

shareBroker();

describe('AMQP filter policies (same handler extras as SNS)', () => {
  const handled: string[] = [];
  const queuePrefix = `${uniqueName('q')}-`;
  let app: INestApplication;

  @Controller()
  class BillingController {
    @EventPattern('order-paid', { queueName: 'paid', filterPolicy: { currency: ['EUR', 'USD'], amount: [{ numeric: ['>', 0] }] } })
    paid(@Payload() order: { id: string }) {
      handled.push(order.id);
    }
  }

  beforeAll(async () => {
    app = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('billing'), topicPrefix: `${uniqueName('p')}.`, queueNamePrefix: queuePrefix }),
      [BillingController],
    );
  });

  afterAll(async () => {
    await app?.close();
    const raw = await rawConnection();
    const channel = await raw.createChannel();
    for (const q of ['paid', 'paid-retry', 'paid-dlq']) await channel.deleteQueue(`${queuePrefix}${q}`);
    await channel.close();
    await raw.close();
  });

  it('hands the handler only the messages whose headers match, and drops the rest from the queue', async () => {
    const client = app.get(MessagingClient);
    const send = (id: string, attributes: Record<string, string | number>) =>
      lastValueFrom(client.emit('order-paid', new MessagingRecord({ id }, { attributes })));
    await send('sek', { currency: 'SEK', amount: 10 });
    await send('zero', { currency: 'EUR', amount: 0 });
    await send('none', {});
    await send('eur', { currency: 'EUR', amount: 10 });
    await send('usd', { currency: 'USD', amount: 3 });
    await waitFor(() => handled.length >= 2, { what: 'the two matching messages' });
    const raw = await rawConnection();
    try {
      const channel = await raw.createChannel();
      await waitFor(async () => (await channel.checkQueue(`${queuePrefix}paid`)).messageCount === 0, {
        what: 'the filtered messages to leave the queue',
      });
      await channel.close();
    } finally {
      await raw.close();
    }
    expect(handled.sort()).toEqual(['eur', 'usd']);
  });
});
