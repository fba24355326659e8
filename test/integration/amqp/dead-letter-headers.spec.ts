import type { INestApplication } from '@nestjs/common';
import type { ChannelModel, GetMessage } from 'amqplib';
import { DeadLetterError } from '../../../lib/index.js';
import { emit, startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/**
 * What AMQP writes on a dead-lettered message besides the reason (the shared behaviour is in test/contract): the
 * original routing key, the attempts made, and the content type of the envelope.
 */
shareBroker();

describe('AMQP dead-letter headers', () => {
  const exchange = uniqueName('ex-dlh');
  const queuePrefix = `${uniqueName('q')}-`;
  const topic = uniqueName('fails');
  const poison = uniqueName('poison');
  let raw: ChannelModel;
  let app: INestApplication;

  beforeAll(async () => {
    raw = await rawConnection();
    app = await startTestApp(
      rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: queuePrefix, retryBackoff: 0.2, amqp: { exchange } }),
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName: 'dlh', maxReceiveCount: 3 },
            handle: () => {
              throw new Error('database unavailable');
            },
          },
          {
            pattern: poison,
            extras: { queueName: 'dlh', maxReceiveCount: 3 },
            handle: () => {
              throw new DeadLetterError('unknown order');
            },
          },
        ]),
      ],
    );
  });

  afterAll(async () => {
    await app?.close();
    const channel = await raw.createChannel();
    for (const q of ['dlh', 'dlh-retry', 'dlh-dlq']) await channel.deleteQueue(`${queuePrefix}${q}`);
    await channel.deleteExchange(exchange);
    await channel.close();
    await raw.close();
  });

  const takeDeadLetter = async (): Promise<GetMessage> => {
    const channel = await raw.createChannel();
    try {
      return await waitFor(async () => (await channel.get(`${queuePrefix}dlh-dlq`, { noAck: true })) || undefined, {
        what: 'a message in the DLQ',
      });
    } finally {
      await channel.close();
    }
  };

  it('after exhausted retries: x-original-routing-key, x-receive-count = maxReceiveCount, application/json', async () => {
    await emit(app, topic, { id: 'h1' });
    const dead = await takeDeadLetter();
    const headers = dead.properties.headers ?? {};
    expect(headers['x-original-routing-key']).toBe(topic);
    expect(headers['x-receive-count']).toBe(3);
    expect(headers['x-dead-letter-reason']).toMatch(/^failed 3 time\(s\), last: /);
    expect(dead.properties.contentType).toBe('application/json');
  });

  it('dead-lettered at once (DeadLetterError, undecodable body): x-receive-count 1', async () => {
    await emit(app, poison, { id: 'h2' });
    const refused = await takeDeadLetter();
    expect(refused.properties.headers?.['x-receive-count']).toBe(1);
    expect(refused.properties.headers?.['x-original-routing-key']).toBe(poison);

    const channel = await raw.createConfirmChannel();
    channel.publish(exchange, topic, Buffer.from('{not json'), { persistent: true });
    await channel.waitForConfirms();
    await channel.close();
    const garbage = await takeDeadLetter();
    expect(garbage.content.toString()).toBe('{not json');
    expect(garbage.properties.headers?.['x-receive-count']).toBe(1);
    expect(garbage.properties.headers?.['x-original-routing-key']).toBe(topic);
  });
});
