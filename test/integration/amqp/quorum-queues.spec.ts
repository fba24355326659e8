import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MessagingOptionsError, ProvisioningError, type MessagingContext } from '../../../lib/index.js';
import { supportsQuorumRetries } from '../../../lib/amqp/queue-type-support.js';
import { emit, startTestApp, tryStartTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { queueInfo, rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { rabbitMqSuite } from '../../support/rabbitmq-suite.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const run = promisify(execFile);

shareBroker();

/** The type RabbitMQ reports for each named queue (classic, quorum); absent ones are left out. */
async function queueTypes(names: string[]): Promise<Record<string, string>> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name', 'type'], { timeout: 20_000 });
  const types: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const [name, type] = line.trim().split(/\s+/);
    if (name && names.includes(name)) types[name] = type;
  }
  return types;
}

describe("AMQP amqp.queueType 'quorum' (RabbitMQ)", () => {
  const suite = rabbitMqSuite();
  const { apps, queues } = suite;

  /** A queue name whose queue, -retry and -dlq are deleted after the test. */
  function queueName(base: string): string {
    const name = uniqueName(base);
    queues.push(name, `${name}-retry`, `${name}-dlq`);
    return name;
  }

  it('declares the queue, its -retry and -dlq as quorum queues; a failing handler reaches the DLQ with its reason, a retry succeeds', async () => {
    const flaky = queueName('qq-flaky');
    const failing = queueName('qq-failing');
    const handled: Array<{ data: unknown; receiveCount: number; attributes: Record<string, unknown> }> = [];
    let failures = 0;
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), retryBackoff: 0.05, amqp: { queueType: 'quorum' } }), [
      controllerFor([
        {
          pattern: `${flaky}.topic`,
          extras: { queueName: flaky },
          handle: (data: unknown, ctx: MessagingContext) => {
            if (failures++ === 0) throw new Error('transient');
            handled.push({ data, receiveCount: ctx.getReceiveCount(), attributes: ctx.getAttributes() });
          },
        },
        {
          pattern: `${failing}.topic`,
          extras: { queueName: failing, maxReceiveCount: 3 },
          handle: () => {
            throw new Error('database unavailable');
          },
        },
      ]),
    ]);
    apps.push(app);
    const all = [flaky, `${flaky}-retry`, `${flaky}-dlq`, failing, `${failing}-retry`, `${failing}-dlq`];
    expect(await queueTypes(all)).toEqual(Object.fromEntries(all.map((q) => [q, 'quorum'])));

    await emit(app, `${flaky}.topic`, { id: 'retried' });
    await waitFor(() => handled.length === 1, { what: 'the retried message to be handled' });
    // the quorum queue's own x-delivery-count stays internal, like x-death
    expect(handled).toEqual([{ data: { id: 'retried' }, receiveCount: 2, attributes: {} }]);

    await emit(app, `${failing}.topic`, { id: 'doomed' });
    const channel = await suite.raw.createChannel();
    const dead = await waitFor(async () => (await channel.get(`${failing}-dlq`, { noAck: true })) || undefined, {
      what: 'the message in the quorum DLQ',
    });
    await channel.close();
    expect(JSON.parse(dead.content.toString()).data).toEqual({ id: 'doomed' });
    expect(dead.properties.headers?.['x-dead-letter-reason']).toBe(
      `failed 3 time(s), last: handler for "${failing}.topic" failed: database unavailable`,
    );
    expect(dead.properties.headers?.['x-receive-count']).toBe(3);
    expect(await queueInfo(suite.raw, failing)).toMatchObject({ messageCount: 0 });
    expect(await queueInfo(suite.raw, `${failing}-retry`)).toMatchObject({ messageCount: 0 });

    // a restart with the same options re-declares the quorum queues without a difference
    await apps.pop()!.close();
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), amqp: { queueType: 'quorum' } }), [
        controllerFor([{ pattern: `${flaky}.topic`, extras: { queueName: flaky }, handle: () => undefined }]),
      ]),
    );
    expect(await queueInfo(suite.raw, flaky)).toMatchObject({ consumerCount: 1 });
  });

  it('keeps a competing: false queue (and its -retry and -dlq) classic, since a quorum queue cannot be auto-delete', async () => {
    const serviceName = uniqueName('svc');
    const received: unknown[] = [];
    const app = await startTestApp(rabbitMqOptions({ serviceName, amqp: { queueType: 'quorum' } }), [
      controllerFor([{ pattern: `${serviceName}.broadcast`, extras: { competing: false }, handle: (data) => void received.push(data) }]),
    ]);
    apps.push(app);
    const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', '--no-table-headers', 'name', 'type', 'auto_delete'], {
      timeout: 20_000,
    });
    const own = stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([name]) => name?.startsWith(serviceName));
    expect(own.length).toBe(3);
    for (const [name, type, autoDelete] of own) {
      expect([name, type]).toEqual([name, 'classic']);
      if (!name.endsWith('-retry') && !name.endsWith('-dlq')) expect(autoDelete).toBe('true');
    }
    await emit(app, `${serviceName}.broadcast`, { n: 1 });
    await waitFor(() => received.length === 1, { what: 'the broadcast on the per-process queue' });
  });

  it('refuses to declare an existing classic queue as quorum (and the reverse), naming the queue and x-queue-type', async () => {
    const classic = queueName('qq-was-classic');
    const quorum = queueName('qq-was-quorum');
    const setup = await suite.raw.createChannel();
    await setup.assertQueue(classic, { durable: true });
    await setup.assertQueue(quorum, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await setup.close();

    const toQuorum = await tryStartTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), amqp: { queueType: 'quorum' } }), [
      controllerFor([{ pattern: 'order-paid', extras: { queueName: classic }, handle: () => undefined }]),
    ]);
    apps.push(toQuorum.app);
    expect(toQuorum.error).toBeInstanceOf(ProvisioningError);
    const first = toQuorum.error as ProvisioningError;
    expect(first.operation).toBe(`assertQueue ${classic}`);
    expect(first.message).toContain(`inequivalent arg 'x-queue-type' for queue '${classic}'`);
    expect(first.message).toContain(
      `Queue "${classic}" exists as a classic (no x-queue-type) queue, but is declared as a quorum one, and RabbitMQ cannot change a queue's type: set amqp.queueType`,
    );

    const toClassic = await tryStartTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [
      controllerFor([{ pattern: 'order-paid', extras: { queueName: quorum }, handle: () => undefined }]),
    ]);
    apps.push(toClassic.app);
    expect(toClassic.error).toBeInstanceOf(ProvisioningError);
    expect((toClassic.error as ProvisioningError).operation).toBe(`assertQueue ${quorum}`);
    expect((toClassic.error as Error).message).toContain(
      `Queue "${quorum}" exists as a quorum queue, but is declared as a classic (no x-queue-type) one`,
    );
    // neither queue was changed
    expect(await queueTypes([classic, quorum])).toEqual({ [classic]: 'classic', [quorum]: 'quorum' });
  });

  it('rejects an unknown amqp.queueType at startup, naming the option and the allowed values', async () => {
    await expect(
      startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), amqp: { queueType: 'stream' as 'quorum' } }), []),
    ).rejects.toThrow(MessagingOptionsError);
    await expect(
      startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), amqp: { queueType: 'stream' as 'quorum' } }), []),
    ).rejects.toThrow(/amqp\.queueType.*'classic', 'quorum'/);
  });

  it('knows which RabbitMQ versions retry through a quorum -retry queue (per-message TTL: 3.10+)', () => {
    expect(['3.8.9', '3.9.29'].map(supportsQuorumRetries)).toEqual([false, false]);
    expect(['3.10.8', '3.13.0', '4.0.5', undefined, 'unknown'].map(supportsQuorumRetries)).toEqual([true, true, true, true, true]);
  });
});
