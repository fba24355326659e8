import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { MessagingOptionsError } from '../../../lib/index.js';
import { exchangeExists, queueInfo, rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName } from '../../support/wait-for.js';

function makeController(refundExchange: string) {
  @Controller()
  class TopologyController {
    @EventPattern('order-paid')
    paid() {}

    @EventPattern('order-refunded', { queueName: 'refunds', exchange: refundExchange })
    refunded() {}
  }
  return TopologyController;
}

shareBroker();

describe('AMQP topology', () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await raw.close();
  });

  it('declares a custom exchange as a durable topic exchange, durable queues with retry and dead-letter queues, and bindings; a restart is idempotent', async () => {
    const exchange = uniqueName('ex-topo');
    const serviceName = uniqueName('svc');
    const queuePrefix = `${uniqueName('q')}-`;
    const refundExchange = uniqueName('ex-refunds');
    const TopologyController = makeController(refundExchange);
    const options = { serviceName, queueNamePrefix: queuePrefix, topicPrefix: 'pre.', amqp: { exchange } };
    const first = await startTestApp(rabbitMqOptions(options), [TopologyController]);
    apps.push(first);
    // a durable topic exchange: re-asserting it with the same type/durability succeeds, a different one fails
    expect(await exchangeExists(raw, exchange)).toBe(true);
    expect(await exchangeExists(raw, refundExchange)).toBe(true);
    expect(await queueInfo(raw, `${queuePrefix}refunds`)).toBeDefined();
    const ch = await raw.createChannel();
    await expect(ch.assertExchange(exchange, 'topic', { durable: true })).resolves.toBeDefined();
    await ch.close();
    const ch2 = await raw.createChannel();
    ch2.on('error', () => undefined);
    await expect(ch2.assertExchange(exchange, 'fanout', { durable: true })).rejects.toThrow(/PRECONDITION_FAILED/);

    const generated = `${queuePrefix}${serviceName}--order-paid`;
    for (const q of [generated, `${generated}-retry`, `${generated}-dlq`]) expect(await queueInfo(raw, q)).toBeDefined();
    const ch3 = await raw.createChannel();
    // durable: a passive re-declaration with durable: true and the same arguments succeeds
    await ch3.assertQueue(generated, { durable: true });
    await ch3.assertQueue(`${generated}-dlq`, { durable: true });
    await ch3.assertQueue(`${generated}-retry`, {
      durable: true,
      arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': generated },
    });
    await ch3.close();

    // restart with the same configuration: no error, same queues
    await first.close();
    apps.pop();
    const second = await startTestApp(rabbitMqOptions(options), [TopologyController]);
    apps.push(second);
    expect(await queueInfo(raw, generated)).toMatchObject({ consumerCount: 1 });
    await second.close();
    apps.pop();

    // the binding routes pre.order-paid into the (now idle) queue
    const pub = await raw.createConfirmChannel();
    pub.publish(exchange, 'pre.order-paid', Buffer.from('{}'), {});
    pub.publish(exchange, 'pre.other', Buffer.from('{}'), {});
    pub.publish(refundExchange, 'pre.order-refunded', Buffer.from('{}'), {});
    pub.publish(exchange, 'pre.order-refunded', Buffer.from('{}'), {});
    await pub.waitForConfirms();
    await pub.close();
    expect(await queueInfo(raw, generated)).toMatchObject({ messageCount: 1 });
    expect(await queueInfo(raw, `${queuePrefix}refunds`)).toMatchObject({ messageCount: 1 });

    const cleanup = await raw.createChannel();
    for (const q of [
      generated,
      `${generated}-retry`,
      `${generated}-dlq`,
      `${queuePrefix}refunds`,
      `${queuePrefix}refunds-retry`,
      `${queuePrefix}refunds-dlq`,
    ])
      await cleanup.deleteQueue(q);
    await cleanup.deleteExchange(exchange);
    await cleanup.deleteExchange(refundExchange);
    await cleanup.close();
  });

  it('rejects names RabbitMQ would refuse, before any I/O', async () => {
    const TopologyController = makeController('amq.topic');
    await expect(
      startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: 'amq.' }), [TopologyController]),
    ).rejects.toThrow(MessagingOptionsError);
    await expect(
      startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: 'x'.repeat(250) }), [TopologyController]),
    ).rejects.toThrow(/at most 255 bytes/);
  });
});
