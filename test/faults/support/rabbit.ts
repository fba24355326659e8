import * as amqp from 'amqplib';
import { AMQP_URL } from '../../support/rabbitmq.js';

export interface DrainedMessage {
  content: Buffer;
  headers: Record<string, unknown>;
}

/** Takes every message out of a queue (basic.get, no-ack) on the broker at `url` (the shared one by default). */
export async function drainQueue(queue: string, url = AMQP_URL): Promise<DrainedMessage[]> {
  const model = await amqp.connect(url);
  try {
    const channel = await model.createChannel();
    const out: DrainedMessage[] = [];
    for (;;) {
      const msg = await channel.get(queue, { noAck: true });
      if (!msg) break;
      out.push({ content: msg.content, headers: msg.properties.headers ?? {} });
    }
    await channel.close();
    return out;
  } finally {
    await model.close().catch(() => undefined);
  }
}

/** Deletes queues and an exchange on the broker at `url` (throwaway channels, errors ignored). */
export async function deleteAmqpObjects(queues: string[], exchange?: string, url = AMQP_URL): Promise<void> {
  const model = await amqp.connect(url);
  try {
    for (const q of queues) {
      const ch = await model.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    if (exchange) {
      const ch = await model.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(exchange).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await model.close().catch(() => undefined);
  }
}
