/**
 * Peer: @golevelup/nestjs-rabbitmq 9 (Nest 11): AmqpConnection.publish (persistent, confirm channel of
 * amqp-connection-manager) -> @RabbitSubscribe handler, acked by the library after the handler resolved.
 */
import { AMQP_URL, Countdown, Meter, pump, payload, uniqueName, withTimeout } from '../support/common.js';
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
    imports: [RabbitMQModule.forRoot({ uri: AMQP_URL, prefetchCount: p.prefetch, connectionInitOptions: { wait: true }, logger: { log() {}, warn() {}, error: console.error, debug() {}, verbose() {} } })],
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
