import type { Channel, ConsumeMessage } from 'amqplib';

/** What AckBatcher needs of an amqplib channel. */
export type AckChannel = Pick<Channel, 'ack' | 'nack'>;

/** A delivery of one consumer channel, in delivery-tag order; `ready` once its ack was decided. */
export interface AckSlot {
  msg: ConsumeMessage;
  ready: boolean;
}

/**
 * Coalesces the acks of one consumer channel. Deliveries are registered in the order the broker sent them (delivery
 * tags rise); a delivery is acked only once `ack(slot)` was called for it, i.e. after its handler resolved and its
 * outcome was carried out. On a flush (the next setImmediate, or at once when `batch` acks wait) the longest run of
 * ready deliveries at the front goes out as one `basic.ack` with `multiple` on the last tag of the run; ready
 * deliveries behind one still in progress are acked one by one, so a slow handler never holds the others'
 * prefetch slots. `nack` goes out at once (after pending acks), so retry / dead-letter handling keeps its order.
 */
export class AckBatcher {
  private readonly slots: AckSlot[] = [];
  private head = 0;
  private waiting = 0;
  private scheduled?: NodeJS.Immediate;
  private closed = false;
  /** Flush at once when this many acks wait: half the prefetch window, so the broker keeps sending. */
  private readonly batch: number;

  constructor(
    private readonly channel: AckChannel,
    prefetch: number,
  ) {
    this.batch = Math.max(1, Math.floor(prefetch / 2));
  }

  /** Call for every delivery, in the order the channel delivered them. */
  register(msg: ConsumeMessage): AckSlot {
    const slot: AckSlot = { msg, ready: false };
    this.slots.push(slot);
    return slot;
  }

  ack(slot: AckSlot): void {
    if (this.closed || slot.ready) return;
    slot.ready = true;
    this.waiting += 1;
    if (this.waiting >= this.batch) this.flush();
    else
      this.scheduled ??= setImmediate(() => {
        this.scheduled = undefined;
        this.flush();
      });
  }

  /** Returns the message to the queue (requeue), after the acks decided so far went out. */
  nack(slot: AckSlot): void {
    if (this.closed || slot.ready) return;
    this.flush();
    this.remove(slot);
    safely(() => this.channel.nack(slot.msg, false, true));
  }

  /** Sends every decided ack now (before the channel closes, for instance). */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = undefined;
    }
    if (this.waiting === 0 || this.closed) return;
    let last: AckSlot | undefined;
    let count = 0;
    while (this.head < this.slots.length && this.slots[this.head].ready) {
      last = this.slots[this.head++];
      count += 1;
    }
    if (last) {
      const multiple = count > 1;
      const msg = last.msg;
      safely(() => this.channel.ack(msg, multiple));
      this.waiting -= count;
    }
    if (this.waiting > 0) {
      // behind a delivery still in progress: ack them singly rather than hold their prefetch slots
      let write = this.head;
      for (let read = this.head; read < this.slots.length; read++) {
        const slot = this.slots[read];
        if (slot.ready) safely(() => this.channel.ack(slot.msg, false));
        else this.slots[write++] = slot;
      }
      this.slots.length = write;
      this.waiting = 0;
    }
    this.compact();
  }

  /** The channel is gone: its unacked deliveries return to the queue on the broker's side; nothing more to send. */
  close(): void {
    this.closed = true;
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.slots.length = 0;
    this.head = 0;
    this.waiting = 0;
  }

  /** Deliveries registered and not yet acked or nacked. */
  get outstanding(): number {
    return this.slots.length - this.head;
  }

  private remove(slot: AckSlot): void {
    const index = this.slots.indexOf(slot, this.head);
    if (index < 0) return;
    this.slots.splice(index, 1);
    this.compact();
  }

  private compact(): void {
    if (this.head === 0) return;
    if (this.head === this.slots.length) {
      this.slots.length = 0;
      this.head = 0;
    } else if (this.head > 1024) {
      this.slots.splice(0, this.head);
      this.head = 0;
    }
  }
}

function safely(send: () => void): void {
  try {
    send();
  } catch {
    // the channel closed meanwhile: the broker returns the message to the queue
  }
}
