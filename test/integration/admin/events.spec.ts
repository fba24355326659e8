import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import type { ChannelModel } from 'amqplib';
import {
  DeadLetterError,
  MESSAGING_BROKER,
  MessagingAdminService,
  MessagingServer,
  MessagingClient,
  type AdminEvent,
  type BrokerOverview,
  type MessageRates,
  type QueueOverview,
} from '../../../lib/index.js';
import type { Broker } from '../../../lib/transport/broker.js';
import { emit } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode } from '../../support/rabbitmq-node.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

/** The AMQP test has the broker drop the app's connection: on the run's test node, not the shared broker. */
const rabbit = useRabbitNode();

let fauxqs: Fauxqs;
const apps: AdminHttpApp[] = [];
beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  for (const app of apps) await app.close();
  await fauxqs?.stop();
});

const deadLetterAll = (topic: string, queueName: string) =>
  controllerFor([
    {
      pattern: topic,
      extras: { queueName },
      handle: () => {
        throw new DeadLetterError('not wanted here');
      },
    },
  ]);

describe('admin events$: queue.depth, consumer and dead-letter events, and the @nestjs/event-emitter bridge', () => {
  it('on SNS+SQS (fauxqs), re-emitted on EventEmitter2 as messaging.<type>', async () => {
    const queue = uniqueName('events-q');
    const topic = uniqueName('events-topic');
    const http = await startAdminApp(
      fauxqsOptions(fauxqs, { serviceName: 'events' }),
      { guard: TokenGuard, monitor: { intervalMs: 200 } },
      { controllers: [deadLetterAll(topic, queue)], imports: [EventEmitterModule.forRoot({ wildcard: true })] },
    );
    apps.push(http);
    const bridged: Array<{ name: string; event: AdminEvent }> = [];
    http.app.get(EventEmitter2).onAny((name: string | string[], event: AdminEvent) => {
      bridged.push({ name: String(name), event });
    });
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      const depth = await waitFor(() => bridged.find((b) => b.name === 'messaging.queue.depth' && b.event.resource === queue), {
        what: 'messaging.queue.depth on EventEmitter2',
      });
      expect(depth.event).toMatchObject({ type: 'queue.depth', kind: 'queue', transport: 'sns-sqs' });
      expect(depth.event.detail).toMatchObject({ name: queue, consumed: true, attached: true, messages: 0, inFlight: 0 });

      await emit(http.app, topic, { orderId: 7 });
      const deadLettered = await waitFor(() => events.find((e) => e.type === 'message.dead-lettered'), { what: 'message.dead-lettered' });
      expect(deadLettered).toMatchObject({ kind: 'message', resource: queue, detail: { topic, attempt: 1, reason: expect.any(String) } });
      await waitFor(() => bridged.some((b) => b.name === 'messaging.message.dead-lettered'), { what: 'the bridged dead-letter event' });
      await waitFor(
        () =>
          events.some(
            (e) =>
              e.type === 'queue.depth' && e.resource === queue && (e.detail as unknown as QueueOverview).deadLetterQueue?.messages === 1,
          ),
        { what: 'queue.depth reporting the dead-lettered message' },
      );

      await http.app.get(MessagingServer).close(); // stops consuming
      const disconnected = await waitFor(() => events.find((e) => e.type === 'consumer.disconnected'), { what: 'consumer.disconnected' });
      expect(disconnected).toMatchObject({ kind: 'queue', resource: queue });
      expect(bridged.some((b) => b.name === 'messaging.consumer.disconnected')).toBe(true);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('on AMQP (RabbitMQ): consumer.disconnected when the broker drops the connection, consumer.connected once it is back', async () => {
    const queue = uniqueName('events-amqp-q');
    const topic = uniqueName('events.amqp');
    const http = await startAdminApp(
      rabbitMqOptions({ serviceName: 'events-amqp', amqp: { url: rabbit.node.url, reconnectDelay: { initial: 100, max: 500 } } }),
      { guard: TokenGuard, monitor: { intervalMs: 200 } },
      { controllers: [deadLetterAll(topic, queue)] },
    );
    apps.push(http);
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      const broker = http.app.get<Broker>(MESSAGING_BROKER);
      await rabbit.node.closeConnection(broker.unwrap() as ChannelModel);
      await waitFor(() => events.find((e) => e.type === 'consumer.disconnected' && e.resource === queue), {
        what: 'consumer.disconnected',
      });
      await waitFor(() => events.find((e) => e.type === 'consumer.connected' && e.resource === queue), { what: 'consumer.connected' });
      const states = events.filter((e) => e.type === 'broker.state').map((e) => (e.detail as unknown as BrokerOverview).state);
      expect(states[0]).toMatch(/^(reconnecting|unreachable)$/);
      await waitFor(() => events.filter((e) => e.type === 'broker.state').at(-1)?.detail?.state === 'connected', {
        what: 'broker.state connected after the reconnect',
      });
      expect((await http.call('GET', '/overview')).json.broker).toEqual({ state: 'connected' });
      const depth = await waitFor(
        () => events.find((e) => e.type === 'queue.depth' && e.resource === queue && (e.detail as unknown as QueueOverview).attached),
        { what: 'queue.depth after the reconnect' },
      );
      expect(depth.detail).toMatchObject({ consumed: true, consumers: 1, deadLetterQueue: { name: `${queue}-dlq`, messages: 0 } });
    } finally {
      subscription.unsubscribe();
      const raw = await rabbit.node.connect();
      const channel = await raw.createChannel();
      await http.close();
      apps.splice(apps.indexOf(http), 1);
      for (const name of [queue, `${queue}-retry`, `${queue}-dlq`]) await channel.deleteQueue(name);
      await raw.close();
    }
  });

  it('on SNS+SQS, message.rates counts what the app published, handled and dead-lettered, with listeners only while observed', async () => {
    const queue = uniqueName('rates-q');
    const topic = uniqueName('rates-topic');
    const http = await startAdminApp(
      fauxqsOptions(fauxqs, { serviceName: 'rates' }),
      { guard: TokenGuard, monitor: { intervalMs: 200 } },
      { controllers: [deadLetterAll(topic, queue)] },
    );
    apps.push(http);
    // the hooks the metrics use; nobody watching (no metrics here): none, so no work per message
    const deliveryListeners = () =>
      (http.app.get(MessagingServer) as unknown as { observers: { items: unknown[] } }).observers.items.length;
    const publishListeners = () =>
      (http.app.get(MessagingClient) as unknown as { publishListeners: { items: unknown[] } }).publishListeners.items.length;
    expect([deliveryListeners(), publishListeners()]).toEqual([0, 0]);
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      expect([deliveryListeners(), publishListeners()]).toEqual([1, 1]);
      await emit(http.app, topic, { orderId: 8 });
      await waitFor(() => events.some((e) => e.type === 'message.dead-lettered'), { what: 'the dead-lettered message' });
      const counted = () => {
        const rates = events.filter((e) => e.type === 'message.rates').map((e) => e.detail as unknown as MessageRates);
        return rates.reduce((sum, r) => ({ published: sum.published + r.published, deadLettered: sum.deadLettered + r.deadLettered }), {
          published: 0,
          deadLettered: 0,
        });
      };
      await waitFor(() => counted().deadLettered === 1, { what: 'message.rates counting the dead letter' });
      expect(counted()).toEqual({ published: 1, deadLettered: 1 });
      const rate = events.find((e) => e.type === 'message.rates')!;
      expect(rate).toMatchObject({ kind: 'message', resource: 'app', detail: { seconds: expect.any(Number), handled: 0, failed: 0 } });
    } finally {
      subscription.unsubscribe();
    }
    expect([deliveryListeners(), publishListeners()]).toEqual([0, 0]);
  });

  it('on SNS+SQS, broker.state unreachable (with the error) once the endpoint is gone, and the overview says so', async () => {
    const own = await startFauxqs();
    let stopped = false;
    const queue = uniqueName('gone-q');
    const topic = uniqueName('gone-topic');
    const http = await startAdminApp(
      fauxqsOptions(own, { serviceName: 'gone' }),
      { guard: TokenGuard, monitor: { intervalMs: 200 } },
      { controllers: [deadLetterAll(topic, queue)] },
    );
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      expect((await http.call('GET', '/overview')).json.broker).toEqual({ state: 'connected' });
      stopped = true;
      await own.stop();
      const gone = await waitFor(() => events.find((e) => e.type === 'broker.state'), { what: 'broker.state' });
      expect(gone.detail).toMatchObject({ state: 'unreachable', problem: expect.any(String) });
      expect((await http.call('GET', '/overview')).json.broker).toMatchObject({ state: 'unreachable' });
    } finally {
      subscription.unsubscribe();
      await http.close();
      if (!stopped) await own.stop();
    }
  }, 60_000);
});
