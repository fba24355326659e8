import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { MessagingServer } from '../../../lib/index.js';
import { startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode } from '../../support/rabbitmq-node.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/** The broker closes the app's connection: on the run's own test node, never the shared broker. */
const rabbit = useRabbitNode();

/** Issue 21: after an AMQP outage one line says the connection is back and how many consumers are re-attached. */
describe('AMQP reconnect in the log', () => {
  let raw: ChannelModel;
  let app: INestApplication | undefined;
  const exchange = uniqueName('ex-logs');
  const prefix = `${uniqueName('q')}-`;

  beforeAll(async () => {
    raw = await rabbit.node.connect();
  });
  afterAll(async () => {
    await app?.close();
    const channel = await raw.createChannel();
    for (const queue of ['a', 'b']) for (const suffix of ['', '-retry', '-dlq']) await channel.deleteQueue(`${prefix}${queue}${suffix}`);
    await channel.deleteExchange(exchange);
    await channel.close();
    await raw.close();
  });

  it('a WARN when the connection is lost, then one LOG "is back" naming the consumers re-attached', async () => {
    const logger = new CaptureLogger();
    app = await startTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('svc'),
        queueNamePrefix: prefix,
        amqp: { url: rabbit.node.url, exchange, reconnectDelay: { initial: 100, max: 1000 } },
      }),
      [
        controllerFor([
          { pattern: uniqueName('a'), extras: { queueName: 'a' }, handle: () => undefined },
          { pattern: uniqueName('b'), extras: { queueName: 'b' }, handle: () => undefined },
        ]),
      ],
      { logger },
    );
    const model = app.get(MessagingServer).unwrap<ChannelModel>();
    await rabbit.node.closeConnection(model);
    const backLines = () => logger.lines.filter((l) => l.startsWith('LOG') && l.includes('is back after'));
    await waitFor(() => backLines().length > 0, { what: 'the "connection is back" line', timeoutMs: 20_000 });
    const back = backLines();
    expect(logger.lines.filter((l) => l.startsWith('WARN') && l.includes('lost'))).toHaveLength(1);
    expect(back).toHaveLength(1);
    expect(back[0]).toMatch(
      /AMQP connection to amqp:\/\/.* is back after \d+\.\d s: 2 queue\(s\) re-declared, 2 consumer\(s\) re-attached \(/,
    );
    expect(back[0]).toContain(`${prefix}a`);
    expect(back[0]).toContain(`${prefix}b`);
  }, 40_000);
});
