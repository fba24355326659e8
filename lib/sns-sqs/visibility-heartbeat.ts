import { ChangeMessageVisibilityBatchCommand, type ChangeMessageVisibilityBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { batchesOf } from './batching.js';
import { countFailures, settleBatch, type EntryFailure } from './entry-batches.js';

type ChangeVisibilityBatch = (command: ChangeMessageVisibilityBatchCommand) => Promise<ChangeMessageVisibilityBatchCommandOutput>;

/**
 * ChangeMessageVisibilityBatch for up to 10 receipt handles, answered per handle (settleBatch: a Failed entry is its
 * handle's alone, and a call refused for one entry's sake is sent again handle by handle). The heartbeat's extensions
 * go through it; so can the consumer's release of unfinished messages (VisibilityTimeout 0).
 */
export function changeVisibility(
  send: ChangeVisibilityBatch,
  queueUrl: string,
  receiptHandles: readonly string[],
  visibilityTimeout: number,
): Promise<Array<EntryFailure | undefined>> {
  return settleBatch(receiptHandles, (part) =>
    send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle, VisibilityTimeout: visibilityTimeout })),
      }),
    ),
  );
}

/**
 * Keeps messages invisible while their handlers run: a message still running half a visibility timeout after it
 * was received (or last extended) gets its timeout extended again, in ChangeMessageVisibilityBatch calls. One timer
 * per queue, running only while messages are tracked, so a fast handler costs a Map entry and nothing else.
 * A message untracked (settled or released) is never extended again, and after stop() nothing is.
 */
export class VisibilityHeartbeat {
  private readonly due = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private readonly extendEveryMs: number;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: ChangeVisibilityBatch,
    private readonly queueUrl: string,
    private readonly visibilityTimeout: number,
    private readonly logger: LoggerService,
  ) {
    this.extendEveryMs = Math.max(500, (visibilityTimeout * 1000) / 2);
  }

  /** Extends the message from now on, every half visibility timeout; a message tracked already keeps its schedule. */
  track(receiptHandle: string): void {
    if (this.visibilityTimeout <= 0 || this.stopped || this.due.has(receiptHandle)) return;
    this.due.set(receiptHandle, Date.now() + this.extendEveryMs);
    if (!this.timer) {
      this.timer = setInterval(() => this.extendDue(), Math.max(250, this.extendEveryMs / 4));
      this.timer.unref?.();
    }
  }

  untrack(receiptHandle: string): void {
    this.due.delete(receiptHandle);
    if (this.due.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /** No extension from now on; resolves once the extensions already sent have settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.due.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  private extendDue(): void {
    const now = Date.now();
    const handles: string[] = [];
    for (const [handle, at] of this.due) {
      if (at > now) continue;
      handles.push(handle);
      this.due.set(handle, now + this.extendEveryMs);
    }
    for (const batch of batchesOf(handles)) {
      const done = this.extend(batch);
      this.inFlight.add(done);
      void done.finally(() => this.inFlight.delete(done));
    }
  }

  private async extend(handles: string[]): Promise<void> {
    const failures = await changeVisibility(this.send, this.queueUrl, handles, this.visibilityTimeout);
    if (!failures.some((failure) => failure !== undefined)) return;
    // a message settled meanwhile needs no extension: its failure says nothing
    for (const [failure, count] of countFailures(failures, (i) => this.due.has(handles[i])))
      this.logger.warn?.(
        `Could not extend the visibility of ${count === 1 ? 'a message' : `${count} messages`} on ${this.queueUrl}: ${failure.reason}`,
      );
  }
}
