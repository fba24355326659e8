import { DeleteMessageBatchCommand, type DeleteMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from './aws-errors.js';

const MAX_BATCH = 10;

/** Deletes handled messages with DeleteMessageBatch: flushed at 10 entries or on the next tick. */
export class DeleteBatcher {
  private pending: Array<{ receiptHandle: string; resolve: () => void }> = [];
  private scheduled = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly send: (command: DeleteMessageBatchCommand) => Promise<DeleteMessageBatchCommandOutput>,
    private readonly queueUrl: string,
    private readonly logger: LoggerService,
  ) {}

  /** Resolves once the delete was sent (failures are logged: the message then comes back and is handled again). */
  delete(receiptHandle: string): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ receiptHandle, resolve });
      if (this.pending.length >= MAX_BATCH) this.sendNext();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          if (this.pending.length > 0) this.sendNext();
        });
      }
    });
  }

  async flush(): Promise<void> {
    while (this.pending.length > 0) this.sendNext();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private sendNext(): void {
    const batch = this.pending.splice(0, MAX_BATCH);
    const done = this.sendBatch(batch);
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }

  private async sendBatch(batch: Array<{ receiptHandle: string; resolve: () => void }>): Promise<void> {
    try {
      const result = await this.send(new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: batch.map((b, i) => ({ Id: String(i), ReceiptHandle: b.receiptHandle })),
      }));
      for (const failure of result.Failed ?? []) {
        this.logger.warn?.(`Could not delete a handled message from ${this.queueUrl} (${failure.Code}: ${failure.Message}); it will be delivered again`);
      }
    } catch (error) {
      this.logger.warn?.(`Could not delete ${batch.length} handled message(s) from ${this.queueUrl}: ${describeError(error)}; they will be delivered again`);
    } finally {
      for (const b of batch) b.resolve();
    }
  }
}
