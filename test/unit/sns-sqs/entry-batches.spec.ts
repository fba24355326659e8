import { jest } from '@jest/globals';
import type { DeleteMessageBatchCommand, ChangeMessageVisibilityBatchCommand } from '@aws-sdk/client-sqs';
import { PublishError, PublishOutcomeUnknownError } from '../../../lib/errors.js';
import type { AwsClients } from '../../../lib/sns-sqs/clients.js';
import { DeleteBatcher } from '../../../lib/sns-sqs/delete-batcher.js';
import { settleBatch, type BatchReply } from '../../../lib/sns-sqs/entry-batches.js';
import { SnsPublisher } from '../../../lib/sns-sqs/publisher.js';
import { SqsQueueSender } from '../../../lib/sns-sqs/queue-sender.js';
import { changeVisibility } from '../../../lib/sns-sqs/visibility-heartbeat.js';
import { waitFor } from '../../support/wait-for.js';

const awsError = (name: string, status: number, message = `${name} (test)`) =>
  Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, attempts: 3 },
  });
const invalid = () => awsError('InvalidParameterValue', 400, 'The message attribute must contain non-empty message attribute value.');
const throttled = () => awsError('ThrottlingException', 400, 'Rate exceeded');
const internal = () => awsError('InternalFailure', 500, 'We encountered an internal error');

/** A *Batch call over strings: refuses the whole call when `refuseCall` says so, else answers each entry. */
function fakeCall(refuseCall: (items: readonly string[]) => Error | undefined) {
  const calls: string[][] = [];
  const call = async (items: readonly string[]): Promise<BatchReply> => {
    calls.push([...items]);
    const error = refuseCall(items);
    if (error) throw error;
    return { Successful: items.map((_, i) => ({ Id: String(i) })), Failed: [] };
  };
  return { call, calls };
}

const ten = Array.from({ length: 10 }, (_, i) => `m${i}`);

describe('settleBatch: every entry of a *Batch call gets its own outcome', () => {
  it("a Failed entry is that entry's failure alone; SenderFault false makes it transient", async () => {
    const failures = await settleBatch(ten, async () => ({
      Successful: ten.filter((_, i) => i !== 3 && i !== 7).map((_, i) => ({ Id: String(i < 3 ? i : i < 6 ? i + 1 : i + 2) })),
      Failed: [
        { Id: '3', Code: 'InvalidParameter', Message: 'bad', SenderFault: true },
        { Id: '7', Code: 'InternalError', SenderFault: false },
      ],
    }));
    expect(failures.map((f) => f?.reason)).toEqual([
      undefined,
      undefined,
      undefined,
      'InvalidParameter: bad',
      undefined,
      undefined,
      undefined,
      'InternalError',
      undefined,
      undefined,
    ]);
    expect(failures[3]).toMatchObject({ transient: false, outcomeUnknown: false });
    expect(failures[7]).toMatchObject({ transient: true, outcomeUnknown: false });
  });

  it('a whole call refused for one entry (a client fault) is sent again entry by entry: the other 9 go through', async () => {
    const { call, calls } = fakeCall((items) => (items.includes('m4') ? invalid() : undefined));
    const failures = await settleBatch(ten, call);
    expect(failures.filter((f) => f !== undefined)).toHaveLength(1);
    expect(failures[4]).toMatchObject({
      reason: 'InvalidParameterValue: The message attribute must contain non-empty message attribute value.',
      transient: false,
      outcomeUnknown: false,
    });
    expect(calls).toEqual([ten, ...ten.map((m) => [m])]);
  });

  it.each([
    ['throttling', throttled, { transient: true, throttled: true }],
    ['a 5xx', internal, { transient: true, throttled: false }],
    ['AccessDenied', () => awsError('AccessDenied', 403), { transient: false }],
    ['a missing topic', () => awsError('NotFoundException', 404), { transient: false }],
    ['a KMS key', () => awsError('KMSDisabledException', 400), { transient: false }],
    ['a timeout', () => Object.assign(new Error('timed out'), { name: 'TimeoutError' }), { transient: false, outcomeUnknown: true }],
  ])("a whole call failed by %s is every entry's failure, in one call (no split)", async (_, error, expected) => {
    const { call, calls } = fakeCall(() => error());
    const failures = await settleBatch(ten, call);
    expect(calls).toHaveLength(1);
    expect(new Set(failures).size).toBe(1);
    expect(failures[0]).toMatchObject(expected);
  });

  it('bounded: an entry sent alone is never split again, whatever the error', async () => {
    const { call, calls } = fakeCall(() => invalid());
    const failures = await settleBatch(ten, call);
    expect(calls).toHaveLength(11);
    expect(failures.every((f) => f?.reason.startsWith('InvalidParameterValue'))).toBe(true);
  });

  it('an entry the response lists neither as successful nor as failed has an unknown outcome', async () => {
    const failures = await settleBatch(['a', 'b'], async () => ({ Successful: [{ Id: '0' }], Failed: [] }));
    expect(failures[0]).toBeUndefined();
    expect(failures[1]).toMatchObject({
      outcomeUnknown: true,
      reason: 'the response listed the entry neither as successful nor as failed',
    });
  });
});

type SnsEntry = { Id: string; Message: string };

function fakeSns(reply: (entries: SnsEntry[], call: number) => BatchReply) {
  const calls: string[][] = [];
  const warnings: string[] = [];
  const send = jest.fn(async (command: { input: { PublishBatchRequestEntries: SnsEntry[] } }) => {
    const entries = command.input.PublishBatchRequestEntries;
    calls.push(entries.map((e) => e.Message));
    return reply(entries, calls.length);
  });
  const clients = { sns: { send }, sqs: {} } as unknown as AwsClients;
  const logger = { log() {}, warn: (line: string) => warnings.push(line), error() {} };
  const publisher = new SnsPublisher({ clients, logger, retryRounds: [10, 20] }, async (topic) => `arn:aws:sns:us-east-1:1:${topic}`);
  return { publisher, calls, warnings };
}

const ok = (entries: SnsEntry[]): BatchReply => ({ Successful: entries.map((e) => ({ Id: e.Id })) });
const emitTen = (publisher: SnsPublisher) =>
  Promise.allSettled(ten.map((body) => publisher.publish({ topic: 'orders', body, attributes: {} })));

describe('SnsPublisher: one emit never fails another', () => {
  it("a PublishBatch refused as a whole for one entry (as moto does): that emit alone rejects, with AWS's reason", async () => {
    const { publisher, calls } = fakeSns((entries) => {
      if (entries.some((e) => e.Message === 'm6')) throw invalid();
      return ok(entries);
    });
    const results = await emitTen(publisher);
    expect(results.map((r) => r.status)).toEqual(ten.map((m) => (m === 'm6' ? 'rejected' : 'fulfilled')));
    const reason = (results[6] as PromiseRejectedResult).reason as Error;
    expect(reason).toBeInstanceOf(PublishError);
    expect(reason.message).toBe(
      'SNS did not accept the message for topic "orders": InvalidParameterValue: The message attribute must contain non-empty message attribute value.',
    );
    expect(calls).toHaveLength(11);
  });

  it('throttling the SDK gave up on: the batch is retried after a wait, and delivered', async () => {
    const { publisher, calls, warnings } = fakeSns((entries, call) => {
      if (call === 1) throw throttled();
      return ok(entries);
    });
    const results = await emitTen(publisher);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(calls.flat().sort()).toEqual([...ten, ...ten].sort());
    // one line for the call, not one per message
    expect(warnings).toEqual([
      'SNS did not take 10 messages for topic "orders" (ThrottlingException: Rate exceeded); retrying them in 5-10 ms (round 1 of 2)',
    ]);
  });

  it('still throttled after every round: a PublishError that says so and what to change', async () => {
    const { publisher, calls } = fakeSns(() => {
      throw throttled();
    });
    const error = await publisher.publish({ topic: 'orders', body: 'm', attributes: {} }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect(error).not.toBeInstanceOf(PublishOutcomeUnknownError);
    expect((error as Error).message).toBe(
      'SNS did not accept the message for topic "orders": ThrottlingException: Rate exceeded (still failing after 2 more rounds of snsSqs.maxAttempts attempts each); SNS is throttling these calls: publish at a lower rate, raise snsSqs.maxAttempts, or ask AWS for a higher quota',
    );
    expect(calls).toHaveLength(3);
  });

  it('5xx after every round: a PublishError saying SNS kept failing on its side', async () => {
    const { publisher } = fakeSns(() => {
      throw internal();
    });
    await expect(publisher.publish({ topic: 'orders', body: 'm', attributes: {} })).rejects.toThrow(
      /InternalFailure: We encountered an internal error \(still failing after 2 more rounds .*\); SNS kept failing on its side \(a server error\): try again later$/,
    );
  });

  it('a timeout is not retried by the publisher: the outcome is unknown', async () => {
    const { publisher, calls } = fakeSns(() => {
      throw Object.assign(new Error('no answer'), { name: 'TimeoutError' });
    });
    await expect(publisher.publish({ topic: 'orders', body: 'm', attributes: {} })).rejects.toBeInstanceOf(PublishOutcomeUnknownError);
    expect(calls).toHaveLength(1);
  });

  it('abort() during the wait before a round ends it: the emit rejects at once, flush() returns', async () => {
    const calls: number[] = [];
    const clients = {
      sns: {
        send: async () => {
          calls.push(1);
          throw throttled();
        },
      },
      sqs: {},
    } as unknown as AwsClients;
    const publisher = new SnsPublisher(
      { clients, logger: { log() {}, warn() {}, error() {} }, retryRounds: [60_000] },
      async (t) => `arn:${t}`,
    );
    const emitted = publisher.publish({ topic: 'orders', body: 'm', attributes: {} }).catch((e: Error) => e);
    const flushed = publisher.flush();
    await waitFor(() => calls.length === 1, { what: 'the first PublishBatch' });
    await new Promise((resolve) => setImmediate(resolve)); // its failure handled: the round is waiting
    publisher.abort();
    const error = await emitted;
    expect((error as Error).message).toBe(
      'SNS did not accept the message for topic "orders" (ThrottlingException: Rate exceeded), and the client closed before the next retry',
    );
    await flushed;
    expect(calls).toHaveLength(1);
  });

  it('an invalid emit among valid ones rejects before batching; the others go in one call', async () => {
    const { publisher, calls } = fakeSns((entries) => ok(entries));
    const results = await Promise.allSettled(
      ten.map((body, i) => publisher.publish({ topic: 'orders', body, attributes: i === 2 ? { 'amazon.id': 'x' } : { ok: 'y' } })),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(((results[2] as PromiseRejectedResult).reason as Error).message).toMatch(
      /^Cannot publish to topic "orders": attribute "amazon\.id" has a name AWS refuses: names starting with "AWS\." or "Amazon\." \(any case\) are reserved/,
    );
    expect(calls).toEqual([ten.filter((m) => m !== 'm2')]);
  });
});

describe('SqsQueueSender: one send never fails another', () => {
  it('a SendMessageBatch refused as a whole for one entry: that send alone rejects', async () => {
    const bodies: string[][] = [];
    const send = async (command: { input: { Entries: Array<{ Id: string; MessageBody: string }> } }) => {
      const entries = command.input.Entries;
      bodies.push(entries.map((e) => e.MessageBody));
      if (entries.some((e) => e.MessageBody.includes('m5'))) throw awsError('BatchRequestTooLong', 400, 'Batch requests cannot be longer');
      return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
    };
    const clients = { sns: {}, sqs: { send } } as unknown as AwsClients;
    const sender = new SqsQueueSender({ clients, logger: { log() {}, warn() {}, error() {} }, retryRounds: [10, 20] });
    const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/billing';
    const results = await Promise.allSettled(ten.map((m) => sender.send({ queue: url, body: m, attributes: {} })));
    expect(results.map((r) => r.status)).toEqual(ten.map((m) => (m === 'm5' ? 'rejected' : 'fulfilled')));
    expect(((results[5] as PromiseRejectedResult).reason as Error).message).toBe(
      'SQS did not accept the message for queue "billing": BatchRequestTooLong: Batch requests cannot be longer',
    );
    expect(bodies).toHaveLength(11);
  });
});

describe('DeleteMessageBatch and ChangeMessageVisibilityBatch: one entry never fails another', () => {
  const logger = (lines: string[]) => ({ log() {}, warn: (line: string) => lines.push(line), error() {} });

  it('DeleteBatcher: a call refused for one entry is sent entry by entry; only that delete is reported', async () => {
    const lines: string[] = [];
    const deleted: string[] = [];
    const send = async (command: DeleteMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      if (entries.length > 1 && entries.some((e) => e.ReceiptHandle === 'h3')) throw awsError('InvalidBatchEntryId', 400);
      if (entries.some((e) => e.ReceiptHandle === 'h3'))
        return {
          Failed: [{ Id: '0', Code: 'ReceiptHandleIsInvalid', Message: 'not valid', SenderFault: true }],
          Successful: [],
          $metadata: {},
        };
      deleted.push(...entries.map((e) => e.ReceiptHandle!));
      return { Successful: entries.map((e) => ({ Id: e.Id! })), Failed: [], $metadata: {} };
    };
    const batcher = new DeleteBatcher(send, 'q', logger(lines), new AbortController().signal, 10);
    for (let i = 0; i < 10; i++) batcher.delete(`h${i}`);
    await batcher.flush();
    expect(deleted.sort()).toEqual(ten.map((_, i) => `h${i}`).filter((h) => h !== 'h3'));
    expect(lines).toEqual(['Could not delete a handled message from q (ReceiptHandleIsInvalid: not valid); it will be delivered again']);
  });

  it('DeleteBatcher: a transient failure gets one more round, then one line for the whole call', async () => {
    const lines: string[] = [];
    let calls = 0;
    const send = async () => {
      calls += 1;
      throw internal();
    };
    const batcher = new DeleteBatcher(send as never, 'q', logger(lines), new AbortController().signal, 10);
    for (let i = 0; i < 4; i++) batcher.delete(`h${i}`);
    await batcher.flush();
    expect(calls).toBe(2);
    expect(lines).toEqual([
      'Could not delete 4 handled messages from q (InternalFailure: We encountered an internal error); they will be delivered again',
    ]);
  });

  it('changeVisibility: a call refused for one entry is sent entry by entry', async () => {
    const sent: string[][] = [];
    const send = async (command: ChangeMessageVisibilityBatchCommand) => {
      const entries = command.input.Entries ?? [];
      sent.push(entries.map((e) => `${e.ReceiptHandle}:${e.VisibilityTimeout}`));
      if (entries.some((e) => e.ReceiptHandle === 'h1')) throw awsError('InvalidParameterValue', 400, 'beyond the limit [43200 seconds]');
      return { Successful: entries.map((e) => ({ Id: e.Id! })), Failed: [], $metadata: {} };
    };
    const failures = await changeVisibility(send, 'q', ['h0', 'h1', 'h2'], 0);
    expect(failures.map((f) => f?.reason)).toEqual([undefined, 'InvalidParameterValue: beyond the limit [43200 seconds]', undefined]);
    expect(sent).toEqual([['h0:0', 'h1:0', 'h2:0'], ['h0:0'], ['h1:0'], ['h2:0']]);
  });
});
