import { lastValueFrom } from 'rxjs';
import { MessagingClient, PublishError } from '../../../lib/index.js';
import { emit, startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { queueInfo, rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { rabbitMqSuite } from '../../support/rabbitmq-suite.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

shareBroker();

/**
 * Retries, dead letters and sendToQueue go through the default exchange, which drops a message for a queue that does
 * not exist and still confirms it. They are published mandatory: a queue deleted while the service runs fails the
 * move, and the message goes back to its queue instead of vanishing.
 */
describe('AMQP: moves to a queue that is gone are not lost (mandatory publishes)', () => {
  const suite = rabbitMqSuite();
  const { apps, queues } = suite;

  async function deleteQueue(name: string): Promise<void> {
    const channel = await suite.raw.createChannel();
    await channel.deleteQueue(name);
    await channel.close();
  }

  it.each([
    ['-retry', 5],
    ['-dlq', 1],
  ])('a failed message whose %s queue was deleted returns to its queue and is delivered again', async (suffix, maxReceiveCount) => {
    const queue = uniqueName(`q-gone${suffix}`);
    queues.push(queue, `${queue}-retry`, `${queue}-dlq`);
    let calls = 0;
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), retryBackoff: 0.05, drainTimeout: 3000 }), [
      controllerFor([
        {
          pattern: `${queue}.topic`,
          extras: { queueName: queue, maxReceiveCount },
          handle: () => {
            calls += 1;
            throw new Error('still failing');
          },
        },
      ]),
    ]);
    apps.push(app);
    await deleteQueue(`${queue}${suffix}`);
    await emit(app, `${queue}.topic`, { id: 1 });
    await waitFor(() => calls >= 2, { what: `a second delivery after the move to ${suffix} failed` });
    expect(await queueInfo(suite.raw, `${queue}${suffix}`)).toBeUndefined();
  });

  it('sendToQueue to a queue deleted after its first send rejects with a PublishError', async () => {
    const queue = uniqueName('q-send-gone');
    queues.push(queue);
    const setup = await suite.raw.createChannel();
    await setup.assertQueue(queue, { durable: true });
    await setup.close();
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [], { listen: false });
    apps.push(app);
    const client = app.get(MessagingClient);
    await lastValueFrom(client.sendToQueue(queue, { n: 1 }), { defaultValue: undefined });
    await deleteQueue(queue);
    const error = await lastValueFrom(client.sendToQueue(queue, { n: 2 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`no queue took the message to exchange "" with routing key "${queue}": 312 NO_ROUTE`);
  });
});
