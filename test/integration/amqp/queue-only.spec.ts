import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { ChannelModel } from 'amqplib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, PublishError, type MessagingContext } from '../../../lib/index.js';
import { rabbitMqOptions, rawConnection, shareBroker } from '../../support/rabbitmq.js';
import { controllerFor } from '../../support/controllers.js';
import { startTestApp } from '../../support/apps.js';
import { tomodachiEnvelope } from '../../support/tomodachi-envelope.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const run = promisify(execFile);

shareBroker();

/** The bindings whose destination is `queue` (source '' is the default exchange's implicit one). */
async function bindingsTo(queue: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', [
    'list_bindings',
    '-q',
    '--no-table-headers',
    'source_name',
    'destination_name',
    'routing_key',
  ]);
  return stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .filter((cols) => cols[1] === queue)
    .map((cols) => `${cols[0] || '(default)'} ${cols[2]}`);
}

describe('AMQP queue-only consumers and sendToQueue', () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  const queues: string[] = [];
  const queueArguments = { 'x-max-length': 1000, 'x-message-ttl': 3_600_000 };

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    const ch = await raw.createChannel();
    for (const q of queues.splice(0)) {
      await ch.deleteQueue(q);
      await ch.deleteQueue(`${q}-retry`);
    }
    await ch.close();
  });
  afterAll(() => raw.close());

  async function createQueue(name: string): Promise<void> {
    queues.push(name);
    const ch = await raw.createChannel();
    await ch.assertQueue(name, { durable: true, arguments: queueArguments });
    await ch.close();
  }

  it('consumes an existing queue as it is (passive check, no binding) from sendToQueue and a raw amqplib send of a tomodachi envelope', async () => {
    const name = uniqueName('existing');
    await createQueue(name);
    const pattern = uniqueName('order-paid');
    const seen: Array<{ data: unknown; topic: string; attributes: Record<string, unknown> }> = [];
    let failOnce = true;
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), retryBackoff: 0 }), [
        controllerFor([
          {
            pattern,
            extras: { queue: name },
            handle: (data: { via: string }, ctx: MessagingContext) => {
              if (data.via === 'retried' && failOnce) {
                failOnce = false;
                throw new Error('transient');
              }
              seen.push({ data, topic: ctx.getTopic(), attributes: ctx.getAttributes() });
            },
          },
        ]),
      ]),
    );
    const client = apps[0].get(MessagingClient);
    await lastValueFrom(client.sendToQueue(name, { via: 'sendToQueue' }, { attributes: { currency: 'EUR', amount: 100 } }), {
      defaultValue: undefined,
    });
    const ch = await raw.createConfirmChannel();
    ch.sendToQueue(name, Buffer.from(tomodachiEnvelope({ via: 'tomodachi' })), { persistent: true, headers: { source: 'py' } });
    await ch.waitForConfirms();
    await ch.close();
    await lastValueFrom(client.sendToQueue(name, { via: 'retried' }), { defaultValue: undefined });
    await waitFor(() => seen.length === 3, { what: 'three deliveries' });
    const byVia = Object.fromEntries(seen.map((s) => [(s.data as { via: string }).via, s]));
    expect(byVia.sendToQueue).toEqual({ data: { via: 'sendToQueue' }, topic: pattern, attributes: { currency: 'EUR', amount: 100 } });
    expect(byVia.tomodachi).toEqual({ data: { via: 'tomodachi' }, topic: pattern, attributes: { source: 'py' } });
    expect(byVia.retried.topic).toBe(pattern);
    expect(failOnce).toBe(false);

    expect(await bindingsTo(name)).toEqual([`(default) ${name}`]);
    // redeclaring with the original arguments succeeds only while they are unchanged (a difference is PRECONDITION_FAILED)
    const check = await raw.createChannel();
    await expect(check.assertQueue(name, { durable: true, arguments: queueArguments })).resolves.toMatchObject({ queue: name });
    await check.close();
  });

  it('sendToQueue with delaySeconds goes through <queue>-retry and arrives after the delay', async () => {
    const name = uniqueName('delayed');
    await createQueue(name);
    const seenAt: number[] = [];
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [
        controllerFor([{ pattern: 'delayed', extras: { queue: name }, handle: () => void seenAt.push(Date.now()) }]),
      ]),
    );
    const sentAt = Date.now();
    await lastValueFrom(apps[0].get(MessagingClient).sendToQueue(name, { late: true }, { delaySeconds: 1 }), { defaultValue: undefined });
    await waitFor(() => seenAt.length === 1, { what: 'the delayed delivery' });
    expect(seenAt[0] - sentAt).toBeGreaterThanOrEqual(950);
  });

  it('sendToQueue refuses a missing queue, a delay without <queue>-retry, FIFO settings and an SQS URL, saying what to change', async () => {
    const name = uniqueName('plain');
    await createQueue(name);
    apps.push(await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [], { listen: false }));
    const client = apps[0].get(MessagingClient);
    const missing = uniqueName('nope');
    await expect(lastValueFrom(client.sendToQueue(missing, {}))).rejects.toThrow(new RegExp(`queue "${missing}" does not exist`));
    await expect(lastValueFrom(client.sendToQueue(name, {}, { delaySeconds: 5 }))).rejects.toThrow(/AMQP has no per-message delay/);
    await expect(lastValueFrom(client.sendToQueue(name, {}, { groupId: 'g' }))).rejects.toBeInstanceOf(PublishError);
    await expect(lastValueFrom(client.sendToQueue('arn:aws:sqs:us-east-1:000000000000:q', {}))).rejects.toThrow(/addressed by name/);
    await lastValueFrom(client.sendToQueue(name, { ok: true }), { defaultValue: undefined });
    const ch = await raw.createChannel();
    const message = await ch.get(name, { noAck: true });
    await ch.close();
    expect(message && JSON.parse(message.content.toString()).data).toEqual({ ok: true });
    expect(message && message.properties.deliveryMode).toBe(2);
  });
});
