import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { encodeName } from '../../../lib/naming.js';
import { tomodachiSqsQueueName } from '../../../lib/naming/tomodachi-names.js';
import { ServiceIdentity } from '../../../lib/service-identity.js';
import { emit, startTestApp } from '../../support/apps.js';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe("queueNaming 'tomodachi' on SNS+SQS (fauxqs)", () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  const queueExists = (name: string) =>
    fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then(
      (r) => Boolean(r.QueueUrl),
      () => false,
    );

  it("consumes from the queues tomodachi would use: sha256 of the topic with prefixes, '.fifo', and for competing: false the handler method and instance uuid", async () => {
    const received: string[] = [];
    @Controller()
    class TakeoverController {
      @EventPattern('order.paid')
      onPaid(@Payload() data: { id: string }) {
        received.push(`paid:${data.id}`);
      }

      @EventPattern('order.shipped', { fifo: true })
      onShipped(@Payload() data: { id: string }) {
        received.push(`shipped:${data.id}`);
      }

      @EventPattern('order.refunded', { competing: false })
      onRefunded(@Payload() data: { id: string }) {
        received.push(`refunded:${data.id}`);
      }
    }
    const topicPrefix = `${uniqueName('tp')}-`;
    // short: tomodachi's names are 64 hex characters, and '-dlq.fifo' must still fit in 80
    const queueNamePrefix = `q${Math.random().toString(36).slice(2, 6)}-`;
    const app = await startTestApp(
      fauxqsOptions(fauxqs, { serviceName: 'billing', topicPrefix, queueNamePrefix, queueNaming: 'tomodachi' }),
      [TakeoverController],
    );
    apps.push(app);
    const uuid = app.get(ServiceIdentity).uuid;

    const paid = tomodachiSqsQueueName({ topic: 'order.paid', queueNamePrefix, fifo: false, competing: true });
    const shipped = tomodachiSqsQueueName({ topic: 'order.shipped', queueNamePrefix, fifo: true, competing: true });
    const refunded = tomodachiSqsQueueName({
      topic: 'order.refunded',
      queueNamePrefix,
      fifo: false,
      competing: false,
      funcName: 'onRefunded',
      serviceUuid: uuid,
    });
    expect(paid).toMatch(new RegExp(`^${queueNamePrefix}[0-9a-f]{64}$`));
    expect(shipped).toMatch(/^.+[0-9a-f]{64}\.fifo$/);
    for (const name of [paid, shipped, refunded, `${paid}-dlq`]) expect(await queueExists(name)).toBe(true);
    const topics = (await fauxqs.sns.send(new ListTopicsCommand({}))).Topics?.map((t) => t.TopicArn!.split(':').pop()) ?? [];
    expect(topics).toEqual(
      // tomodachi's encode_topic: the dot of "order.paid" hex-escaped, the dot of a trailing ".fifo" kept
      expect.arrayContaining([`${encodeName(topicPrefix)}order___2e_paid`, `${encodeName(topicPrefix)}order___2e_shipped.fifo`]),
    );

    await emit(app, 'order.paid', { id: '1' });
    await emit(app, 'order.refunded', { id: '2' });
    await waitFor(() => received.length === 2, { what: 'both messages handled' });
    expect(received.sort()).toEqual(['paid:1', 'refunded:2']);
  });
});
