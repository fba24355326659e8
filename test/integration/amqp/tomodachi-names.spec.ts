import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { tomodachiAmqpQueueName } from '../../../lib/naming/tomodachi-names.js';
import { ServiceIdentity } from '../../../lib/service-identity.js';
import { emit, startTestApp } from '../../support/apps.js';
import { cleanUpBrokerAfterAll, queueInfo, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe("queueNaming 'tomodachi' on AMQP (RabbitMQ)", () => {
  const track = cleanUpBrokerAfterAll();
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => raw.close());

  it('declares and consumes the queues tomodachi would: sha256 of the routing key (wildcards kept), prefixed; competing: false with method name and instance uuid', async () => {
    const received: string[] = [];
    const topic = uniqueName('order');
    @Controller()
    class TakeoverController {
      @EventPattern(`${topic}.*`)
      onAny(@Payload() data: { id: string }) {
        received.push(`any:${data.id}`);
      }

      @EventPattern(`${topic}.refunded`, { competing: false })
      onRefunded(@Payload() data: { id: string }) {
        received.push(`refunded:${data.id}`);
      }
    }
    const queueNamePrefix = track(`${uniqueName('qp')}-`);
    const app = await startTestApp(rabbitMqOptions({ serviceName: 'billing', queueNamePrefix, queueNaming: 'tomodachi' }), [
      TakeoverController,
    ]);
    apps.push(app);
    const uuid = app.get(ServiceIdentity).uuid;
    const any = tomodachiAmqpQueueName({ topic: `${topic}.*`, queueNamePrefix, competing: true });
    const refunded = tomodachiAmqpQueueName({
      topic: `${topic}.refunded`,
      queueNamePrefix,
      competing: false,
      funcName: 'onRefunded',
      serviceUuid: uuid,
    });
    expect(any).toMatch(new RegExp(`^${queueNamePrefix}[0-9a-f]{64}$`));
    expect(await queueInfo(raw, any)).toMatchObject({ consumerCount: 1 });
    expect(await queueInfo(raw, refunded)).toMatchObject({ consumerCount: 1 });

    await emit(app, `${topic}.refunded`, { id: '1' });
    await waitFor(() => received.length === 2, { what: 'the message on both queues' });
    expect(received.sort()).toEqual(['any:1', 'refunded:1']);
  });
});
