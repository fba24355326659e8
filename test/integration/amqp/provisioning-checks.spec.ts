import { TopologyVerificationError, type MessagingModuleOptions } from '../../../lib/index.js';
import { startTestApp, tryStartTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { queueInfo, rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { rabbitMqSuite } from '../../support/rabbitmq-suite.js';
import { uniqueName } from '../../support/wait-for.js';

shareBroker();

/**
 * provisioning 'off' and 'verify' check passively that every queue a handler consumes or the consumer publishes to
 * (its -retry and -dlq) exists: without them the default exchange would drop retried and dead-lettered messages.
 */
describe("AMQP provisioning 'off' / 'verify': passive queue checks (RabbitMQ)", () => {
  const suite = rabbitMqSuite();
  const { apps, queues } = suite;

  async function createQueues(...names: string[]): Promise<void> {
    queues.push(...names);
    const channel = await suite.raw.createChannel();
    for (const name of names) await channel.assertQueue(name, { durable: true });
    await channel.close();
  }

  async function startFailure(options: Omit<MessagingModuleOptions, 'transport'>, extras: Record<string, unknown>) {
    const { app, error } = await tryStartTestApp(rabbitMqOptions(options), [
      controllerFor([{ pattern: 'order-paid', extras, handle: () => undefined }]),
    ]);
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    return error as TopologyVerificationError;
  }

  it("'off': a queue without its -retry and -dlq fails the start listing both, and creates neither", async () => {
    const queue = uniqueName('q-off');
    await createQueues(queue);
    const error = await startFailure({ serviceName: uniqueName('svc'), provisioning: 'off' }, { queueName: queue });
    expect(error.mismatches).toEqual([
      {
        kind: 'retry queue',
        resource: `${queue}-retry`,
        expected: `a durable queue dead-lettering to "${queue}" through the default exchange`,
        found: 'no such queue',
      },
      { kind: 'dead-letter queue', resource: `${queue}-dlq`, expected: 'a durable queue', found: 'no such queue' },
    ]);
    expect(error.message).toContain("provisioning 'off'");
    expect(error.message).toContain(`retry queue ${queue}-retry: missing`);
    expect(await queueInfo(suite.raw, `${queue}-retry`)).toBeUndefined();
    expect(await queueInfo(suite.raw, `${queue}-dlq`)).toBeUndefined();
  });

  it("'off': a missing queue is listed with its -retry; deadLetterQueueName: false needs no -dlq; all present starts", async () => {
    const queue = uniqueName('q-off-missing');
    const error = await startFailure(
      { serviceName: uniqueName('svc'), provisioning: 'off' },
      { queueName: queue, deadLetterQueueName: false },
    );
    expect(error.mismatches.map((m) => [m.kind, m.resource])).toEqual([
      ['queue', queue],
      ['retry queue', `${queue}-retry`],
    ]);

    await createQueues(queue, `${queue}-retry`);
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), provisioning: 'off' }), [
      controllerFor([{ pattern: 'order-paid', extras: { queueName: queue, deadLetterQueueName: false }, handle: () => undefined }]),
    ]);
    apps.push(app);
    expect(await queueInfo(suite.raw, queue)).toMatchObject({ consumerCount: 1 });
  });

  it("'verify': a missing -dlq is listed; with amqp.queueType 'quorum' the expectations say quorum", async () => {
    const queue = uniqueName('q-verify');
    await createQueues(queue, `${queue}-retry`);
    const error = await startFailure(
      { serviceName: uniqueName('svc'), provisioning: 'verify', amqp: { queueType: 'quorum' } },
      { queueName: queue },
    );
    expect(error.mismatches).toEqual([
      { kind: 'dead-letter queue', resource: `${queue}-dlq`, expected: 'a durable quorum queue', found: 'no such queue' },
    ]);
    expect(error.message).toContain("provisioning 'verify'");
  });

  it("'off' and 'verify' for a queue-only handler: the existing queue and the library's -retry beside it must exist", async () => {
    const queue = uniqueName('q-existing');
    const missing = await startFailure({ serviceName: uniqueName('svc'), provisioning: 'off' }, { queue });
    expect(missing.mismatches).toEqual([
      { kind: 'queue', resource: queue, expected: 'an existing queue (a queue-only handler consumes it as it is)', found: 'no such queue' },
      {
        kind: 'retry queue',
        resource: `${queue}-retry`,
        expected: `a durable queue dead-lettering to "${queue}" through the default exchange`,
        found: 'no such queue',
      },
    ]);
    await createQueues(queue);
    const noRetry = await startFailure({ serviceName: uniqueName('svc'), provisioning: 'verify' }, { queue });
    // no exchange is checked: a queue-only handler binds nothing
    expect(noRetry.mismatches.map((m) => [m.kind, m.resource])).toEqual([['retry queue', `${queue}-retry`]]);
  });
});
