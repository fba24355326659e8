import { Subject } from 'rxjs';
import { ListenerList } from './listener-list.js';
import type { MessagingEvent } from './messaging-event.js';

/** What settle() decided for one delivery: acked, retried later, or moved to the dead-letter queue. */
export type SettledAction = 'ack' | 'retry' | 'dead-letter';

/**
 * Told of every delivery with plain arguments, so that a listener on the hot path (MessagingMetrics) costs no event
 * object per message. `pattern` is the matching @EventPattern, undefined when none matched.
 */
export interface DeliveryListener {
  received(queue: string, pattern: string | undefined): void;
  settled(queue: string, pattern: string | undefined, action: SettledAction, durationMs: number): void;
  /** A batch handler (`batch` extra) was called with `size` messages. */
  batch?(queue: string, pattern: string, size: number): void;
}

/** Who watches the server's deliveries: subscribers of events$ (event objects) and delivery listeners (arguments). */
export class DeliveryObservers extends ListenerList<DeliveryListener> {
  readonly events = new Subject<MessagingEvent>();

  /** Anyone watching: when false, deliveries are not timed or matched at all. */
  get active(): boolean {
    return this.items.length > 0 || this.events.observed;
  }

  /** Tells the listeners that a batch handler of `queue` was called with `size` messages. */
  batched(queue: string, pattern: string, size: number): void {
    for (const listener of this.items) listener.batch?.(queue, pattern, size);
  }
}
