import { DeleteMessageBatchCommand, type DeleteMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { NextTickBatcher } from './batching.js';
import { countFailures, RETRY_ROUNDS_MS, roundDelay, settleBatch } from './entry-batches.js';
import { sleep } from '../sleep.js';

/** One round after the SDK's own retries gave up: a delete that fails means the message is handled twice. */
const DELETE_ROUNDS = 1;

/**
 * Deletes handled messages with DeleteMessageBatch: flushed at 10 entries or on the next tick. Each message gets its
 * own outcome (settleBatch): one entry AWS refuses, or a call refused for one entry's sake, fails no other delete.
 */
export class DeleteBatcher {
  private readonly batcher = new NextTickBatcher<string>((receiptHandles) => this.sendBatch(receiptHandles, 0));
  private unsettled = 0;

  constructor(
    private readonly send: (command: DeleteMessageBatchCommand) => Promise<DeleteMessageBatchCommandOutput>,
    private readonly queueUrl: string,
    private readonly logger: LoggerService,
    /**
     * Aborted when the consumer's stop is out of time: the calls in flight end with it, the extra round no longer
     * waits, and the deletes it cut off are the consumer's to report (one line), not a failure per batch.
     */
    private readonly cutoff: AbortSignal,
    /** The wait before the extra round (tests shorten it). */
    private readonly roundMs = RETRY_ROUNDS_MS[0],
  ) {}

  /** Deletes soon; a failure is logged (the message then comes back and is handled again). flush() waits for it. */
  delete(receiptHandle: string): void {
    this.unsettled += 1;
    this.batcher.add(receiptHandle);
  }

  /** Deletes handed over whose outcome is not known yet (in a call, or waiting for one, or for the extra round). */
  get inFlight(): number {
    return this.unsettled;
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  private async sendBatch(receiptHandles: readonly string[], round: number): Promise<void> {
    const failures = await settleBatch(receiptHandles, (part) =>
      this.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: part.map((receiptHandle, i) => ({ Id: String(i), ReceiptHandle: receiptHandle })),
        }),
      ),
    );
    if (this.cutoff.aborted || !failures.some((failure) => failure !== undefined)) {
      this.unsettled -= receiptHandles.length;
      return;
    }
    const again = receiptHandles.filter((_, i) => failures[i]?.transient === true && round < DELETE_ROUNDS);
    this.unsettled -= receiptHandles.length - again.length;
    const given = countFailures(failures, (i) => !(failures[i]!.transient && round < DELETE_ROUNDS));
    for (const [failure, count] of given)
      this.logger.warn?.(
        `Could not delete ${count === 1 ? 'a handled message' : `${count} handled messages`} from ${this.queueUrl} (${failure.reason}); ${count === 1 ? 'it' : 'they'} will be delivered again`,
      );
    if (again.length > 0) {
      await sleep(roundDelay(this.roundMs), this.cutoff);
      await this.sendBatch(again, round + 1);
    }
  }
}
