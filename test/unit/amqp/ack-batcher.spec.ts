import type { ConsumeMessage } from 'amqplib';
import { AckBatcher, type AckChannel } from '../../../lib/amqp/ack-batcher.js';

type Frame = ['ack', number, boolean] | ['nack', number];

function fakeChannel(): AckChannel & { frames: Frame[] } {
  const frames: Frame[] = [];
  return {
    frames,
    ack: (msg, multiple) => {
      frames.push(['ack', msg.fields.deliveryTag, multiple ?? false]);
    },
    nack: (msg) => {
      frames.push(['nack', msg.fields.deliveryTag]);
    },
  } as AckChannel & { frames: Frame[] };
}

const delivery = (tag: number) => ({ fields: { deliveryTag: tag }, properties: {}, content: Buffer.alloc(0) }) as unknown as ConsumeMessage;
const nextImmediate = () => new Promise((resolve) => setImmediate(resolve));

/** Which tags a frame sequence settles on the broker, as RabbitMQ applies ack-multiple (every outstanding tag up to it). */
function settled(frames: Frame[], delivered: number[]): number[] {
  const outstanding = new Set(delivered);
  const done: number[] = [];
  for (const frame of frames) {
    const tag = frame[1];
    if (!outstanding.has(tag)) throw new Error(`unknown delivery tag ${tag}`);
    const covered = frame[0] === 'ack' && frame[2] ? [...outstanding].filter((t) => t <= tag) : [tag];
    for (const t of covered) {
      outstanding.delete(t);
      done.push(t);
    }
  }
  return done.sort((a, b) => a - b);
}

describe('AckBatcher', () => {
  it('sends one ack with multiple for consecutive finished deliveries, on the next tick', async () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 100);
    const slots = [1, 2, 3, 4].map((t) => acks.register(delivery(t)));
    for (const slot of slots) acks.ack(slot);
    expect(channel.frames).toEqual([]);
    await nextImmediate();
    expect(channel.frames).toEqual([['ack', 4, true]]);
    expect(acks.outstanding).toBe(0);
  });

  it('never acks a delivery whose handler has not finished', async () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 100);
    const slots = [1, 2, 3, 4, 5].map((t) => acks.register(delivery(t)));
    acks.ack(slots[0]);
    acks.ack(slots[1]);
    acks.ack(slots[3]);
    await nextImmediate();
    // 1-2 as one frame; 4 singly (3 still running), so 4 does not hold a prefetch slot
    expect(channel.frames).toEqual([
      ['ack', 2, true],
      ['ack', 4, false],
    ]);
    expect(settled(channel.frames, [1, 2, 3, 4, 5])).toEqual([1, 2, 4]);
    acks.ack(slots[2]);
    acks.ack(slots[4]);
    await nextImmediate();
    expect(settled(channel.frames, [1, 2, 3, 4, 5])).toEqual([1, 2, 3, 4, 5]);
  });

  it('flushes at once when half the prefetch window waits', () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 10);
    const slots = [1, 2, 3, 4, 5, 6].map((t) => acks.register(delivery(t)));
    for (const slot of slots.slice(0, 5)) acks.ack(slot);
    expect(channel.frames).toEqual([['ack', 5, true]]);
  });

  it('sends the acks decided before a nack first, and the nack for its own tag only', async () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 100);
    const slots = [1, 2, 3].map((t) => acks.register(delivery(t)));
    acks.ack(slots[0]);
    acks.nack(slots[1]);
    acks.ack(slots[2]);
    await nextImmediate();
    expect(channel.frames).toEqual([
      ['ack', 1, false],
      ['nack', 2],
      ['ack', 3, false],
    ]);
    expect(settled(channel.frames, [1, 2, 3])).toEqual([1, 2, 3]);
  });

  it('flush() sends what was decided at once (before a channel close); close() drops the rest', () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 100);
    const slots = [1, 2].map((t) => acks.register(delivery(t)));
    acks.ack(slots[0]);
    acks.flush();
    expect(channel.frames).toEqual([['ack', 1, false]]);
    acks.close();
    acks.ack(slots[1]);
    acks.flush();
    expect(channel.frames).toEqual([['ack', 1, false]]);
  });

  it('keeps every ack valid under random completion order', async () => {
    const channel = fakeChannel();
    const acks = new AckBatcher(channel, 20);
    const tags = Array.from({ length: 500 }, (_, i) => i + 1);
    const slots = tags.map((t) => acks.register(delivery(t)));
    const order = [...slots].sort(() => Math.random() - 0.5);
    for (let i = 0; i < order.length; i++) {
      acks.ack(order[i]);
      if (i % 7 === 0) await nextImmediate();
    }
    await nextImmediate();
    expect(settled(channel.frames, tags)).toEqual(tags);
  });

  it('a channel error while sending is swallowed (the broker requeues what was not acked)', async () => {
    const acks = new AckBatcher(
      {
        ack: () => {
          throw new Error('Channel closed');
        },
        nack: () => undefined,
      },
      100,
    );
    acks.ack(acks.register(delivery(1)));
    await nextImmediate();
    expect(acks.outstanding).toBe(0);
  });
});
