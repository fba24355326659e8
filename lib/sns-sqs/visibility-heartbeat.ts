import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from './aws-errors.js';

/**
 * Keeps a message invisible while its handler runs: every half visibility timeout the timeout is extended again,
 * until `stop()`.
 */
export function startHeartbeat(sqs: SQSClient, queueUrl: string, receiptHandle: string, visibilityTimeout: number, logger: LoggerService): () => void {
  if (visibilityTimeout <= 0) return () => {};
  const intervalMs = Math.max(500, (visibilityTimeout * 1000) / 2);
  let stopped = false;
  const timer = setInterval(() => {
    if (stopped) return;
    sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeout }))
      .catch((error) => { if (!stopped) logger.warn?.(`Could not extend the visibility of a message on ${queueUrl}: ${describeError(error)}`); });
  }, intervalMs);
  timer.unref?.();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
