import type { ChannelModel } from 'amqplib';
import { queueDepths, queueInfo, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { uniqueName } from '../../support/wait-for.js';
import type { ContractTarget, DeadLetter } from './contract-target.js';

/** AMQP on the shared RabbitMQ: an exchange and a queue-name prefix of its own, both removed in tearDown. */
export function rabbitMqTarget(): ContractTarget {
  let raw: ChannelModel;
  const queueNamePrefix = `${uniqueName('ct')}-`;
  const exchange = uniqueName('ct-ex');
  const listQueues = async (prefix: string) => [...(await queueDepths()).keys()].filter((name) => name.startsWith(prefix));

  const publishRaw = async (topic: string, body: Buffer) => {
    const channel = await raw.createConfirmChannel();
    try {
      channel.publish(exchange, topic, body, { persistent: true });
      await channel.waitForConfirms();
    } finally {
      await channel.close();
    }
  };

  return {
    name: 'amqp (RabbitMQ)',
    queueNamePrefix,
    async setUp() {
      raw = await rawConnection();
    },
    async tearDown() {
      if (!raw) return;
      for (const queue of await listQueues(queueNamePrefix)) {
        const channel = await raw.createChannel();
        channel.on('error', () => undefined);
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
      const channel = await raw.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteExchange(exchange).catch(() => undefined);
      await channel.close().catch(() => undefined);
      await raw.close();
    },
    moduleOptions: (options) => rabbitMqOptions({ ...options, queueNamePrefix, amqp: { exchange, ...options.amqp } }),
    queue: (queueName) => `${queueNamePrefix}${queueName}`,

    async pendingMessages(queue) {
      const depths = await queueDepths();
      return (depths.get(queue) ?? 0) + (depths.get(`${queue}-retry`) ?? 0);
    },

    async takeDeadLetters(queue) {
      const channel = await raw.createChannel();
      const out: DeadLetter[] = [];
      try {
        for (;;) {
          const message = await channel.get(queue, { noAck: true });
          if (!message) break;
          const headers = message.properties.headers ?? {};
          const body = message.content.toString('utf8');
          let data: unknown;
          try {
            data = (JSON.parse(body) as { data?: unknown }).data;
          } catch {
            data = undefined;
          }
          const topic = headers['x-original-routing-key'];
          out.push({
            body,
            reason: String(headers['x-dead-letter-reason'] ?? ''),
            data,
            topic: typeof topic === 'string' ? topic : undefined,
          });
        }
      } finally {
        await channel.close();
      }
      return out;
    },

    async queueExists(queue) {
      return (await queueInfo(raw, queue)) !== undefined;
    },

    listQueues,

    undecodableBodies: [
      {
        what: 'a body that is not JSON',
        reason: /cannot decode message/,
        async send({ topic }) {
          const marker = `{not json ${uniqueName('raw')}`;
          await publishRaw(topic, Buffer.from(marker));
          return marker;
        },
      },
    ],
  };
}
