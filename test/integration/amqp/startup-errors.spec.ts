import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { BrokerConnectionError, MessagingOptionsError, ProvisioningError } from '../../../lib/index.js';
import { closedPort } from '../../support/ports.js';
import { createRabbitMqUser } from '../../support/rabbitmq-users.js';
import { rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { tryStartTestApp } from '../../support/apps.js';
import { uniqueName } from '../../support/wait-for.js';

@Controller()
class OrdersController {
  @EventPattern('order-paid', { queueName: 'billing-order-paid' })
  onPaid() {}
}

shareBroker();

describe('AMQP startup errors name the URL, the operation and what to check (issue 9, findings 3 and 4)', () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  const queues: string[] = [];

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    const ch = await raw.createChannel();
    for (const q of queues) await ch.deleteQueue(q);
    await ch.close();
    await raw.close();
  });

  it('a queue that exists with other arguments: ProvisioningError with assertQueue <name>, PRECONDITION_FAILED and the hint', async () => {
    const prefix = `${uniqueName('pre')}-`;
    const queue = `${prefix}billing-order-paid`;
    queues.push(queue, `${queue}-retry`, `${queue}-dlq`);
    const ch = await raw.createChannel();
    await ch.assertQueue(queue, { durable: false }); // the library declares it durable
    await ch.close();

    const { app, error } = await tryStartTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: prefix }), [
      OrdersController,
    ]);
    apps.push(app);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect(error).not.toBeInstanceOf(MessagingOptionsError);
    const e = error as ProvisioningError;
    expect(e.transport).toBe('amqp');
    expect(e.operation).toBe(`assertQueue ${queue}`);
    expect(e.endpoint).toBe('amqp://guest:***@127.0.0.1:5672');
    expect(e.message).toMatch(/PRECONDITION_FAILED - inequivalent arg 'durable'/);
    expect(e.message).toMatch(/exists with other arguments/);
    expect(e.message).not.toContain('guest:guest');
  });

  it('a user without configure permission: ProvisioningError naming the operation and the permissions to check, password redacted', async () => {
    const user = await createRabbitMqUser('restricted', { configure: '^$', write: '.*', read: '.*' });
    try {
      const prefix = `${uniqueName('acl')}-`;
      const { app, error } = await tryStartTestApp(
        rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: prefix, amqp: { url: user.url } }),
        [OrdersController],
      );
      apps.push(app);
      expect(error).toBeInstanceOf(ProvisioningError);
      const e = error as ProvisioningError;
      expect(e.operation).toBe(`assertQueue ${prefix}billing-order-paid`);
      expect(e.message).toMatch(/ACCESS_REFUSED/);
      expect(e.message).toMatch(/permission.*vhost/);
      expect(e.message).not.toContain(user.password);
      expect(e.endpoint).toBe(`amqp://${user.user}:***@127.0.0.1:5672`);
    } finally {
      await user.remove();
    }
  });

  it('nothing listening: BrokerConnectionError after amqp.connectTimeout, not after publishTimeout', async () => {
    const port = await closedPort();
    const started = Date.now();
    const { app, error } = await tryStartTestApp(
      rabbitMqOptions({
        serviceName: uniqueName('svc'),
        amqp: {
          url: `amqp://guest:secretpw@127.0.0.1:${port}`,
          connectTimeout: 1500,
          publishTimeout: 20_000,
          reconnectDelay: { initial: 100, max: 200 },
        },
      }),
      [OrdersController],
    );
    const tookMs = Date.now() - started;
    apps.push(app);
    expect(error).toBeInstanceOf(BrokerConnectionError);
    const e = error as BrokerConnectionError;
    expect(e.endpoint).toBe(`amqp://guest:***@127.0.0.1:${port}`);
    expect(e.message).toMatch(/no connection within 1500 ms/);
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.message).not.toContain('secretpw');
    expect(tookMs).toBeGreaterThanOrEqual(1400);
    expect(tookMs).toBeLessThan(6000);
  });
});
