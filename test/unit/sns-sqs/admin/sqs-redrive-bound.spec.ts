import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { redriveQueue } from '../../../../lib/sns-sqs/admin/sqs-messages.js';

/** An SQS that always has 10 more messages to give and accepts every send: a redrive without a bound never ends. */
function bottomlessQueue(): { sqs: SQSClient; received: () => number } {
  let received = 0;
  let id = 0;
  const send = async (command: unknown) => {
    if (command instanceof ReceiveMessageCommand) {
      const count = command.input.MaxNumberOfMessages ?? 1;
      received += count;
      return { Messages: Array.from({ length: count }, () => ({ MessageId: String(++id), ReceiptHandle: `r${id}`, Body: '{}' })) };
    }
    if (command instanceof SendMessageBatchCommand) return { Successful: command.input.Entries!.map((e) => ({ Id: e.Id })), Failed: [] };
    return {};
  };
  return { sqs: { send } as unknown as SQSClient, received: () => received };
}

describe('redriveQueue', () => {
  it('moves at most max messages from a queue that never runs dry', async () => {
    const { sqs, received } = bottomlessQueue();
    expect(await redriveQueue(sqs, 'from', 'to', 25)).toBe(25);
    expect(received()).toBe(25);
  });

  it('stops between two batches once its signal is aborted', async () => {
    const { sqs, received } = bottomlessQueue();
    const abort = new AbortController();
    const moving = redriveQueue(sqs, 'from', 'to', Number.POSITIVE_INFINITY, abort.signal);
    abort.abort();
    expect(await moving).toBeLessThanOrEqual(10);
    expect(received()).toBeLessThanOrEqual(10);
  });
});
