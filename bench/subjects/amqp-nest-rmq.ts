/**
 * Peer: Nest's built-in RMQ transport (@nestjs/microservices 11 + amqp-connection-manager): ClientRMQ emit
 * (persistent, on amqp-connection-manager's confirm channel) -> @EventPattern with noAck: false, manual ack.
 */
import { AMQP_URL, Countdown, Meter, pump, payload, uniqueName, withTimeout } from '../support/common.js';
import { loadNest11, peerRequire, type Any } from '../support/peers.js';

const { common, core, microservices } = loadNest11();
const { Controller, Module } = common;
const { EventPattern, Payload, Ctx, ClientsModule, Transport } = microservices;
const CLIENT = 'BENCH_RMQ';

const sink: { onMessage: (data: Any) => void } = { onMessage: () => undefined };

@Controller()
class RmqController {
  @EventPattern('bench-event')
  handle(@Payload() data: Any, @Ctx() ctx: Any) {
    sink.onMessage(data);
    ctx.getChannelRef().ack(ctx.getMessage());
  }
}

export async function throughput(p: { n: number; prefetch: number; window: number }) {
  const queue = uniqueName('bench-amqp-nestrmq');
  const rmq = { urls: [AMQP_URL], queue, queueOptions: { durable: true } };
  @Module({
    imports: [ClientsModule.register([{ name: CLIENT, transport: Transport.RMQ, options: { ...rmq, persistent: true } }])],
    controllers: [RmqController],
  })
  class RmqAppModule {}
  const app = await core.NestFactory.createMicroservice(RmqAppModule, {
    transport: Transport.RMQ,
    options: { ...rmq, noAck: false, prefetchCount: p.prefetch },
    logger: ['error'],
  });
  await app.listen();
  const client = app.get(CLIENT);
  await client.connect();
  const { lastValueFrom } = peerRequire('rxjs');
  const done = new Countdown(p.n);
  sink.onMessage = (data) => {
    if (typeof data.i !== 'number') throw new Error('bad message');
    done.hit();
  };
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => lastValueFrom(client.emit('bench-event', payload(i)), { defaultValue: undefined }));
  await withTimeout(done.done, 300_000, `${p.n} messages handled`);
  const m = meter.stop();
  await client.close();
  await app.close();
  await deleteQueue(queue);
  return { n: p.n, ...m };
}

/** Publishing alone: ClientRMQ emit into its durable queue, nobody consuming. */
export async function publishOnly(p: { n: number; window: number }) {
  const queue = uniqueName('bench-amqp-nestrmq-pub');
  @Module({
    imports: [
      ClientsModule.register([
        { name: CLIENT, transport: Transport.RMQ, options: { urls: [AMQP_URL], queue, queueOptions: { durable: true }, persistent: true } },
      ]),
    ],
  })
  class RmqClientModule {}
  const app = await core.NestFactory.createApplicationContext(RmqClientModule, { logger: ['error'] });
  await app.init();
  const client = app.get(CLIENT);
  await client.connect();
  const { lastValueFrom } = peerRequire('rxjs');
  const meter = new Meter();
  meter.start();
  await pump(p.n, p.window, (i) => lastValueFrom(client.emit('bench-event', payload(i)), { defaultValue: undefined }));
  const m = meter.stop();
  await client.close();
  await app.close();
  await deleteQueue(queue);
  return { n: p.n, ...m };
}

async function deleteQueue(queue: string): Promise<void> {
  const amqplib = peerRequire('amqplib');
  const connection = await amqplib.connect(AMQP_URL);
  const channel = await connection.createChannel();
  await channel.deleteQueue(queue).catch(() => undefined);
  await channel.close();
  await connection.close();
}
