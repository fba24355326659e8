import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord, PublishError } from '../../../lib/index.js';
import { startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { exchangeExists, queueInfo, rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { rabbitMqSuite } from '../../support/rabbitmq-suite.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

shareBroker();

/** `new MessagingRecord(data, { exchange })` publishes to a named exchange instead of amqp.exchange. */
describe('AMQP: emit to a named exchange (MessagingRecord exchange)', () => {
  const suite = rabbitMqSuite();
  const { apps, queues, exchanges } = suite;

  it('reaches the handler bound on that exchange and not the one bound on the default exchange, and back', async () => {
    const exchange = uniqueName('ex-orders');
    exchanges.push(exchange);
    const topic = uniqueName('order-paid');
    const [onNamed, onDefault] = [uniqueName('q-named'), uniqueName('q-default')];
    for (const q of [onNamed, onDefault]) queues.push(q, `${q}-retry`, `${q}-dlq`);
    const named: unknown[] = [];
    const byDefault: unknown[] = [];
    // one pattern, two queues: one bound on the named exchange, one on amq.topic (the module default)
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), topicPrefix: 'pre.' }), [
        controllerFor([{ pattern: topic, extras: { queueName: onNamed, exchange }, handle: (data) => void named.push(data) }]),
      ]),
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), topicPrefix: 'pre.' }), [
        controllerFor([{ pattern: topic, extras: { queueName: onDefault }, handle: (data) => void byDefault.push(data) }]),
      ]),
    );
    expect(await exchangeExists(suite.raw, exchange)).toBe(true);
    const publisher = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), topicPrefix: 'pre.' }), [], { listen: false });
    apps.push(publisher);
    const client = publisher.get(MessagingClient);
    // in this order on one confirm channel: a stray copy would reach a queue before the message meant for it
    await lastValueFrom(client.emit(topic, { to: 'default', n: 1 }));
    await lastValueFrom(client.emit(topic, new MessagingRecord({ to: 'named', n: 2 }, { exchange, attributes: { currency: 'EUR' } })));
    await lastValueFrom(client.emit(topic, { to: 'default', n: 3 }));
    await lastValueFrom(client.emit(topic, new MessagingRecord({ to: 'named', n: 4 }, { exchange })));
    await waitFor(() => named.length >= 2 && byDefault.length >= 2, { what: 'two messages on each queue' });
    expect(named).toEqual([
      { to: 'named', n: 2 },
      { to: 'named', n: 4 },
    ]);
    expect(byDefault).toEqual([
      { to: 'default', n: 1 },
      { to: 'default', n: 3 },
    ]);
    for (const q of [onNamed, onDefault]) expect(await queueInfo(suite.raw, q)).toMatchObject({ messageCount: 0 });
  });

  it("rejects an emit to a missing exchange or to '' with a PublishError naming it, and keeps publishing", async () => {
    const app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [], { listen: false });
    apps.push(app);
    const client = app.get(MessagingClient);
    const missing = uniqueName('ex-missing');
    const error = await lastValueFrom(client.emit('x', new MessagingRecord({}, { exchange: missing }))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`exchange "${missing}" does not exist`);
    await expect(lastValueFrom(client.emit('x', new MessagingRecord({}, { exchange: '' })))).rejects.toThrow(
      /MessagingRecord exchange must be the name of an exchange/,
    );
    await expect(lastValueFrom(client.emit('x', new MessagingRecord({}, { exchange: 'amq.topic' })))).resolves.toBeUndefined();
  });
});
