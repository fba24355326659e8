import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { MessagingContext } from '../../../lib/index.js';
import { emit, startTestApp } from '../../support/apps.js';
import { tomodachiEnvelope } from '../../support/tomodachi-envelope.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const SERVICE = { name: 'tomodachi-orders', uuid: 'c1a6a1e0-0000-4000-8000-000000000001' };

describe('joining a tomodachi service on AMQP (RabbitMQ)', () => {
  const track = cleanUpBrokerAfterAll();
  let raw: ChannelModel;
  let channel: Channel;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    raw = await rawConnection();
    channel = await raw.createChannel();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => raw.close());

  describe('message ids', () => {
    it("getMessageId() is the envelope's message_uuid for a message published without properties, as tomodachi publishes", async () => {
      const topic = uniqueName('mid');
      const seen: Array<{ id: string; messageId: string }> = [];
      @Controller()
      class IdController {
        @EventPattern(topic)
        on(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
          seen.push({ id: data.id, messageId: ctx.getMessageId() });
        }
      }
      const serviceName = track(uniqueName('mid-svc'));
      apps.push(await startTestApp(rabbitMqOptions({ serviceName }), [IdController]));
      const uuid = 'c1a6a1e0-0000-4000-8000-000000000001.0b7d2a4e-5f1c-4b7a-9d3e-2a1b3c4d5e6f';
      // tomodachi's basic_publish: body only, no properties
      channel.publish('amq.topic', topic, Buffer.from(tomodachiEnvelope({ id: '1' }, topic, SERVICE, uuid)));
      await waitFor(() => seen.length === 1, { what: 'the message' });
      expect(seen).toEqual([{ id: '1', messageId: uuid }]);
    });

    it("the library publishes with the envelope's message uuid as AMQP message_id", async () => {
      const topic = uniqueName('mid-out');
      const serviceName = track(uniqueName('mid-out-svc'));
      const queue = track(uniqueName('mid-out-q'));
      await channel.assertQueue(queue, { durable: false });
      await channel.bindQueue(queue, 'amq.topic', topic);
      const received: ConsumeMessage[] = [];
      await channel.consume(queue, (msg) => msg && received.push(msg), { noAck: true });
      const app = await startTestApp(rabbitMqOptions({ serviceName }), [], { listen: false });
      apps.push(app);
      await emit(app, topic, { id: '1' });
      await waitFor(() => received.length === 1, { what: 'the emitted message' });
      const envelope = JSON.parse(received[0].content.toString('utf8')) as { metadata: { message_uuid: string } };
      expect(envelope.metadata.message_uuid).toMatch(/\..+/);
      expect(received[0].properties.messageId).toBe(envelope.metadata.message_uuid);
    });
  });
});
