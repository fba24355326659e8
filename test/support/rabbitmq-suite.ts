import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { rawConnection } from './rabbitmq.js';

export interface RabbitMqSuite {
  /** A plain amqplib connection for the test's own declarations and checks (open from beforeAll). */
  raw: ChannelModel;
  /** Apps to close after each test. */
  apps: INestApplication[];
  /** Queues to delete after each test (after the apps closed). */
  queues: string[];
  /** Exchanges to delete after each test (after the queues). */
  exchanges: string[];
}

/**
 * Call in a describe block: a raw connection for the suite, and after each test its apps closed, then its queues and
 * exchanges deleted.
 */
export function rabbitMqSuite(): RabbitMqSuite {
  const suite = { apps: [], queues: [], exchanges: [] } as unknown as RabbitMqSuite;
  beforeAll(async () => {
    suite.raw = await rawConnection();
  });
  afterEach(async () => {
    await Promise.all(suite.apps.splice(0).map((a) => a.close()));
    const channel = await suite.raw.createChannel();
    for (const q of suite.queues.splice(0)) await channel.deleteQueue(q);
    for (const exchange of suite.exchanges.splice(0)) await channel.deleteExchange(exchange);
    await channel.close();
  });
  afterAll(() => suite.raw?.close());
  return suite;
}
