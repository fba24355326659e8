/**
 * Peer: @golevelup/nestjs-rabbitmq 9 (Nest 11): AmqpConnection.publish (persistent, confirm channel of
 * amqp-connection-manager) -> @RabbitSubscribe handler, acked by the library after the handler resolved.
 */
import { AMQP_URL, Countdown, Meter, pump, payload, uniqueName, withTimeout } from '../support/common.js';
import { DrainMemory } from '../support/drain-memory.js';
import { loadNest11, peerRequire, type Any } from '../support/peers.js';

const { common, core } = loadNest11();
const { Injectable, Module } = common;
const { RabbitMQModule, RabbitSubscribe, AmqpConnection } = peerRequire('@golevelup/nestjs-rabbitmq');

const EXCHANGE = 'amq.topic';
const queue = uniqueName('bench-amqp-golevelup');
const routingKey = `${queue}.topic`;
const sink: { onMessage: (data: Any) => void } = { onMessage: () => undefined };

@Injectable()
class Subscriber {
  @RabbitSubscribe({ exchange: EXCHANGE, routingKey, queue, queueOptions: { durable: true } })
  async handle(data: Any) {
    sink.onMessage(data);
  }
}

export async function throughput(p: { n: number; prefetch: number; window: number }) {
  @Module({
    imports: [
      RabbitMQModule.forRoot({
        uri: AMQP_URL,
        prefetchCount: p.prefetch,
        connectionInitOptions: { wait: true },
        logger: { log() {}, warn() {}, error: console.error, debug() {}, verbose() {} },
      }),
    ],
    providers: [Subscriber],
  })
  class GolevelupAppModule {}
  const app = await core.NestFactory.createApplicationContext(GolevelupAppModule, { logger: ['error'] });
  await app.init();
  const connection = app.get(AmqpConnection);
  const done = new Countdown(p.n);
  sink.onMessage = (data) => {
    if (typeof data.i !== 'number') throw new Error('bad message');
    done.hit();
  };
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => connection.publish(EXCHANGE, routingKey, payload(i), { persistent: true }));
  await withTimeout(done.done, 300_000, `${p.n} messages handled`);
  const m = meter.stop();
  await connection.channel.deleteQueue(queue).catch(() => undefined);
  await app.close();
  return { n: p.n, ...m };
}

/** Publishing alone: AmqpConnection.publish into a queue bound to the routing key that nobody consumes. */
export async function publishOnly(p: { n: number; window: number }) {
  @Module({
    imports: [
      RabbitMQModule.forRoot({
        uri: AMQP_URL,
        connectionInitOptions: { wait: true },
        logger: { log() {}, warn() {}, error: console.error, debug() {}, verbose() {} },
      }),
    ],
  })
  class GolevelupPublisherModule {}
  const app = await core.NestFactory.createApplicationContext(GolevelupPublisherModule, { logger: ['error'] });
  await app.init();
  const connection = app.get(AmqpConnection);
  await connection.channel.assertQueue(queue, { durable: true });
  await connection.channel.bindQueue(queue, EXCHANGE, routingKey);
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => connection.publish(EXCHANGE, routingKey, payload(i), { persistent: true }));
  const m = meter.stop();
  await connection.channel.deleteQueue(queue).catch(() => undefined);
  await app.close();
  return { n: p.n, ...m };
}

/**
 * Memory step 2 (own process): drains a backlog the baseline's prefill left in `queue` (durable, bound to amq.topic
 * with `<queue>.topic`, as golevelup declares it), sampling RSS and heapUsed like the other drain subjects.
 */
export async function drain(p: { queue: string; n: number; markAt: number }) {
  const memory = new DrainMemory(p.markAt);
  const done = new Countdown(p.n);
  @Injectable()
  class BacklogSubscriber {
    @RabbitSubscribe({ exchange: EXCHANGE, routingKey: `${p.queue}.topic`, queue: p.queue, queueOptions: { durable: true } })
    async handle() {
      done.hit();
      memory.onHandled(done.count);
    }
  }
  @Module({
    imports: [
      RabbitMQModule.forRoot({
        uri: AMQP_URL,
        prefetchCount: 100,
        connectionInitOptions: { wait: true },
        logger: { log() {}, warn() {}, error: console.error, debug() {}, verbose() {} },
      }),
    ],
    providers: [BacklogSubscriber],
  })
  class GolevelupDrainModule {}
  const meter = new Meter();
  meter.start();
  const app = await core.NestFactory.createApplicationContext(GolevelupDrainModule, { logger: ['error'] });
  await app.init();
  await withTimeout(done.done, 600_000, 'backlog drained');
  const m = meter.stop();
  const report = memory.finish();
  const connection = app.get(AmqpConnection);
  await connection.channel.deleteQueue(p.queue).catch(() => undefined);
  await app.close();
  return { n: p.n, ...m, ...report };
}
