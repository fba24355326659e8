import { DeleteMessageBatchCommand, type DeleteMessageBatchCommandOutput } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from '../error-text.js';
import { NextTickBatcher } from './batching.js';

interface PendingDelete {
  receiptHandle: string;
  resolve: () => void;
}

/** Deletes handled messages with DeleteMessageBatch: flushed at 10 entries or on the next tick. */
export class DeleteBatcher {
  private readonly batcher = new NextTickBatcher<PendingDelete>((batch) => this.sendBatch(batch));

  constructor(
    private readonly send: (command: DeleteMessageBatchCommand) => Promise<DeleteMessageBatchCommandOutput>,
    private readonly queueUrl: string,
    private readonly logger: LoggerService,
  ) {}

  /** Resolves once the delete was sent (failures are logged: the message then comes back and is handled again). */
  delete(receiptHandle: string): Promise<void> {
    return new Promise((resolve) => this.batcher.add({ receiptHandle, resolve }));
  }

  flush(): Promise<void> {
    return this.batcher.flush();
  }

  private async sendBatch(batch: PendingDelete[]): Promise<void> {
    try {
      const result = await this.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: batch.map((b, i) => ({ Id: String(i), ReceiptHandle: b.receiptHandle })),
        }),
      );
      for (const failure of result.Failed ?? []) {
        this.logger.warn?.(
          `Could not delete a handled message from ${this.queueUrl} (${failure.Code}: ${failure.Message}); it will be delivered again`,
        );
      }
    } catch (error) {
      this.logger.warn?.(
        `Could not delete ${batch.length} handled message(s) from ${this.queueUrl}: ${describeError(error)}; they will be delivered again`,
      );
    } finally {
      for (const b of batch) b.resolve();
    }
  }
}
