import { DeleteMessageBatchCommand, type DeleteMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from '../error-text.js';
import { NextTickBatcher } from './batching.js';
import { sleep } from '../sleep.js';

/** Pause before the last round of a delete the SDK gave up on. */
const LAST_ROUND_DELAY_MS = 250;

/** Deletes handled messages with DeleteMessageBatch: flushed at 10 entries or on the next tick. */
export class DeleteBatcher {
  private readonly batcher = new NextTickBatcher<string>((receiptHandles) => this.sendBatch(receiptHandles));

  constructor(
    private readonly send: (command: DeleteMessageBatchCommand) => Promise<DeleteMessageBatchCommandOutput>,
    private readonly queueUrl: string,
    private readonly logger: LoggerService,
  ) {}

  /** Deletes soon; a failure is logged (the message then comes back and is handled again). flush() waits for it. */
  delete(receiptHandle: string): void {
    this.batcher.add(receiptHandle);
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  private async sendBatch(receiptHandles: string[]): Promise<void> {
    const command = () =>
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: receiptHandles.map((receiptHandle, i) => ({ Id: String(i), ReceiptHandle: receiptHandle })),
      });
    try {
      // one more round after the SDK's own retries gave up (say its retry quota ran dry under throttling): a delete that
      // fails means the message is handled twice
      const result = await this.send(command()).catch(async (error: unknown) => {
        if (!isRetryable(error)) throw error;
        await sleep(LAST_ROUND_DELAY_MS);
        return this.send(command());
      });
      for (const failure of result.Failed ?? []) {
        this.logger.warn?.(
          `Could not delete a handled message from ${this.queueUrl} (${failure.Code}: ${failure.Message}); it will be delivered again`,
        );
      }
    } catch (error) {
      this.logger.warn?.(
        `Could not delete ${receiptHandles.length} handled message(s) from ${this.queueUrl}: ${describeError(error)}; they will be delivered again`,
      );
    }
  }
}

/** Throttling and server faults are worth a last round; a stopped consumer or a client fault is not. */
function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $fault?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return e?.$fault === 'server' || /Throttl|RequestLimitExceeded|TooManyRequests/i.test(e?.name ?? '');
}
