import type { AmqpModel } from './connection.js';

interface Writable {
  cork(): void;
  uncork(): void;
}

interface Muxer {
  _readIncoming(): void;
}

const applied = new WeakSet<object>();

/**
 * amqplib queues the frames of every channel and writes them out on the next setImmediate, one `socket.write` per
 * frame: each publish and each ack is a system call of its own, which on a busy 2-core machine cost more client CPU
 * than everything else per message. Corking the socket for that round turns the round into one writev. Frames,
 * their order and flow control (the muxer still stops when write() returns false) are unchanged.
 * Returns false when this amqplib has no such muxer (then nothing is changed).
 */
export function coalesceWrites(model: AmqpModel): boolean {
  const connection = (model as unknown as { connection?: { stream?: Partial<Writable>; muxer?: Partial<Muxer> } }).connection;
  const stream = connection?.stream;
  const muxer = connection?.muxer;
  if (
    !stream ||
    !muxer ||
    typeof stream.cork !== 'function' ||
    typeof stream.uncork !== 'function' ||
    typeof muxer._readIncoming !== 'function'
  )
    return false;
  if (applied.has(muxer)) return true;
  const readIncoming = muxer._readIncoming;
  const socket = stream as Writable;
  muxer._readIncoming = function coalescedReadIncoming(this: Muxer): void {
    socket.cork();
    try {
      readIncoming.call(this);
    } finally {
      socket.uncork();
    }
  };
  applied.add(muxer);
  return true;
}
