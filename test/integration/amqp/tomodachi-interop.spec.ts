import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { MessagingContext, ProvisioningError } from '../../../lib/index.js';
import { emit, startTestApp, tryStartTestApp } from '../../support/apps.js';
import { tomodachiEnvelope } from '../../support/tomodachi-envelope.js';
import { encodeRoutingKey } from '../../../lib/naming.js';
import { tomodachiAmqpQueueName } from '../../../lib/naming/tomodachi-names.js';
import { cleanUpBrokerAfterAll, queueInfo, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/** What tomodachi 0.28's AmqpTransport declares for every queue (options.amqp.queue_ttl 86400 s by default). */
const TOMODACHI_QUEUE = { durable: true, exclusive: false, autoDelete: false, arguments: { 'x-expires': 86_400_000 } };

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

    it("between two services of the library, getMessageId() is the message_id: the own uuid4 of the sender's envelope uuid", async () => {
      const topic = uniqueName('mid-lib');
      const seen: Array<{ messageId: string; envelopeUuid?: string }> = [];
      @Controller()
      class LibraryIdController {
        @EventPattern(topic)
        on(@Ctx() ctx: MessagingContext) {
          seen.push({ messageId: ctx.getMessageId(), envelopeUuid: ctx.getEnvelope().messageUuid });
        }
      }
      const receiver = await startTestApp(rabbitMqOptions({ serviceName: track(uniqueName('mid-lib-in')) }), [LibraryIdController]);
      apps.push(receiver);
      const sender = await startTestApp(rabbitMqOptions({ serviceName: track(uniqueName('mid-lib-out')) }), [], { listen: false });
      apps.push(sender);
      await emit(sender, topic, { id: '1' });
      await waitFor(() => seen.length === 1, { what: 'the message' });
      expect(seen[0].envelopeUuid).toMatch(/^[0-9a-f-]{36}\.[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(seen[0].messageId).toBe(seen[0].envelopeUuid!.split('.')[1]);
    });

    it("the library publishes with the envelope's own uuid4 as AMQP message_id", async () => {
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
      const [serviceUuid, ownUuid] = envelope.metadata.message_uuid.split('.');
      expect(ownUuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(serviceUuid).not.toBe('');
      expect(received[0].properties.messageId).toBe(ownUuid);
    });
  });
  describe('non-ASCII routing keys, encoded as tomodachi encodes them', () => {
    it("a key tomodachi published (encoded) reaches the library's exact and wildcard bindings; getTopic() is decoded", async () => {
      const topicPrefix = `${uniqueName('t1')}.`;
      const seen: Array<{ handler: string; topic: string; id: string }> = [];
      @Controller()
      class MenuController {
        @EventPattern('menu.café')
        exact(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
          seen.push({ handler: 'exact', topic: ctx.getTopic(), id: data.id });
        }

        @EventPattern('prix.€.*')
        wildcard(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
          seen.push({ handler: 'wildcard', topic: ctx.getTopic(), id: data.id });
        }
      }
      const serviceName = track(uniqueName('rk-in'));
      apps.push(await startTestApp(rabbitMqOptions({ serviceName, topicPrefix }), [MenuController]));
      // what tomodachi's publish does: encode_routing_key(prefix + topic), no properties
      const exactKey = encodeRoutingKey(`${topicPrefix}menu.café`);
      const wildKey = encodeRoutingKey(`${topicPrefix}prix.€.日本`);
      expect(exactKey).toBe(`${topicPrefix}menu.caf___c3a9_`);
      expect(wildKey).toBe(`${topicPrefix}prix.___e282ac_.___e697a5____e69cac_`);
      channel.publish('amq.topic', exactKey, Buffer.from(tomodachiEnvelope({ id: 'e' }, `${topicPrefix}menu.café`, SERVICE)));
      channel.publish('amq.topic', wildKey, Buffer.from(tomodachiEnvelope({ id: 'w' }, `${topicPrefix}prix.€.日本`, SERVICE)));
      await waitFor(() => seen.length === 2, { what: 'both messages' });
      expect(seen.sort((a, b) => a.handler.localeCompare(b.handler))).toEqual([
        { handler: 'exact', topic: 'menu.café', id: 'e' },
        { handler: 'wildcard', topic: 'prix.€.日本', id: 'w' },
      ]);
    });

    it("the library's emit of a non-ASCII topic reaches queues bound the tomodachi way (encoded exact key, wildcard)", async () => {
      const topicPrefix = `${uniqueName('t1')}.`;
      const exactQueue = track(uniqueName('rk-out-exact'));
      const wildQueue = track(uniqueName('rk-out-wild'));
      const received: Array<{ queue: string; routingKey: string; id: string }> = [];
      for (const [queue, pattern] of [
        [exactQueue, `${topicPrefix}menu.café`],
        [wildQueue, `${topicPrefix}menu.#`],
      ]) {
        await channel.assertQueue(queue, { durable: false });
        // tomodachi binds encode_routing_key(prefix + pattern)
        await channel.bindQueue(queue, 'amq.topic', encodeRoutingKey(pattern));
        await channel.consume(
          queue,
          (msg) => {
            if (msg) {
              const body = JSON.parse(msg.content.toString('utf8')) as { data: { id: string } };
              received.push({ queue, routingKey: msg.fields.routingKey, id: body.data.id });
            }
          },
          { noAck: true },
        );
      }
      const app = await startTestApp(rabbitMqOptions({ serviceName: track(uniqueName('rk-out')), topicPrefix }), [], { listen: false });
      apps.push(app);
      await emit(app, 'menu.café', { id: '1' });
      await waitFor(() => received.length === 2, { what: 'the message on both queues' });
      const key = `${topicPrefix}menu.caf___c3a9_`;
      expect(received.sort((a, b) => a.queue.localeCompare(b.queue))).toEqual(
        [
          { queue: exactQueue, routingKey: key, id: '1' },
          { queue: wildQueue, routingKey: key, id: '1' },
        ].sort((a, b) => a.queue.localeCompare(b.queue)),
      );
    });
  });
  describe("queue takeover with only queueNaming: 'tomodachi'", () => {
    /** A competing handler on `pattern`, the queue tomodachi would use for it, and what the handler saw. */
    function takeover(pattern: string) {
      const queueNamePrefix = track(`${uniqueName('tq')}-`);
      const queue = tomodachiAmqpQueueName({ topic: pattern, queueNamePrefix, competing: true });
      const seen: Array<{ topic: string; id: string }> = [];
      @Controller()
      class TakeoverController {
        @EventPattern(pattern)
        on(@Payload() data: { id: string }, @Ctx() ctx: MessagingContext) {
          seen.push({ topic: ctx.getTopic(), id: data.id });
        }
      }
      const options = rabbitMqOptions({ serviceName: track(uniqueName('tq-svc')), queueNamePrefix, queueNaming: 'tomodachi' });
      return { queue, seen, options, controller: TakeoverController };
    }

    it('takes over a queue tomodachi declared first (x-expires 86400000) and consumes what tomodachi publishes', async () => {
      const pattern = `${uniqueName('menu')}.café`;
      const { queue, seen, options, controller } = takeover(pattern);
      const declare = await raw.createChannel();
      await declare.assertQueue(queue, TOMODACHI_QUEUE);
      await declare.bindQueue(queue, 'amq.topic', encodeRoutingKey(pattern));
      await declare.close();

      apps.push(await startTestApp(options, [controller]));
      expect(await queueInfo(raw, queue)).toMatchObject({ consumerCount: 1 });
      channel.publish('amq.topic', encodeRoutingKey(pattern), Buffer.from(tomodachiEnvelope({ id: '1' }, pattern, SERVICE)));
      await waitFor(() => seen.length === 1, { what: 'the message on the taken-over queue' });
      expect(seen).toEqual([{ topic: pattern, id: '1' }]);
    });

    it('declares its queue so that tomodachi, started second, declares the same queue without a 406', async () => {
      const pattern = `${uniqueName('menu')}.*`;
      const { queue, options, controller } = takeover(pattern);
      apps.push(await startTestApp(options, [controller]));
      expect(await queueInfo(raw, queue)).toMatchObject({ consumerCount: 1 });
      const declare = await raw.createChannel();
      const closed: unknown[] = [];
      declare.on('error', (error: unknown) => closed.push(error));
      const ok = await declare.assertQueue(queue, TOMODACHI_QUEUE);
      await declare.bindQueue(queue, 'amq.topic', encodeRoutingKey(pattern));
      await declare.close();
      expect(ok).toMatchObject({ queue, consumerCount: 1 });
      expect(closed).toEqual([]);
    });

    it('a queue declared with other x-expires than the options give: a ProvisioningError naming x-expires and amqp.queueExpires', async () => {
      const queueName = track(uniqueName('tq-explicit'));
      const declare = await raw.createChannel();
      await declare.assertQueue(queueName, TOMODACHI_QUEUE);
      await declare.close();
      @Controller()
      class ExplicitController {
        @EventPattern(uniqueName('t'), { queueName })
        on() {}
      }
      const { app, error } = await tryStartTestApp(rabbitMqOptions({ serviceName: track(uniqueName('tq-explicit-svc')) }), [
        ExplicitController,
      ]);
      apps.push(app);
      expect(error).toBeInstanceOf(ProvisioningError);
      const message = (error as ProvisioningError).message;
      expect(message).toContain(`inequivalent arg 'x-expires' for queue '${queueName}'`);
      expect(message).toContain(
        `Queue "${queueName}" exists with x-expires 86400000, but is declared with none: amqp.queueExpires sets it`,
      );
      expect(message).toContain('set it to 86400000 to use the queue as it is');
    });
  });
});
