import { jest } from '@jest/globals';
import { PublishError } from '../../../lib/errors.js';
import type { AwsClients } from '../../../lib/sns-sqs/clients.js';
import { SnsPublisher } from '../../../lib/sns-sqs/publisher.js';

type Entry = { Id: string; Message: string; MessageGroupId?: string; MessageDeduplicationId?: string };
type Reply = { Successful?: Array<{ Id: string }>; Failed?: Array<{ Id: string; SenderFault: boolean; Code: string; Message?: string }> };

function fakePublisher(reply: (entries: Entry[], call: number) => Reply) {
  const calls: Entry[][] = [];
  const send = jest.fn(async (command: { input: { PublishBatchRequestEntries: Entry[] } }) => {
    const entries = command.input.PublishBatchRequestEntries;
    calls.push(entries);
    return reply(entries, calls.length);
  });
  const clients = { sns: { send }, sqs: {} } as unknown as AwsClients;
  const logger = { log() {}, warn() {}, error() {} };
  return {
    publisher: new SnsPublisher(
      { clients, logger, retryRounds: [10, 20] },
      async (topic, fifo) => `arn:aws:sns:us-east-1:1:${topic}${fifo ? '.fifo' : ''}`,
    ),
    calls,
  };
}

const message = (n: number, extra = {}) => ({ topic: 't', body: `m${n}`, attributes: {}, ...extra });

describe('SNS publisher (fake SNS client)', () => {
  it('splits concurrent publishes into batches of 10 and resolves each', async () => {
    const { publisher, calls } = fakePublisher((entries) => ({ Successful: entries.map((e) => ({ Id: e.Id })) }));
    await Promise.all(Array.from({ length: 25 }, (_, n) => publisher.publish(message(n))));
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(calls.flat().map((e) => e.Message)).toEqual(Array.from({ length: 25 }, (_, n) => `m${n}`));
  });

  it('retries an entry that failed without sender fault, rejects one with sender fault with PublishError', async () => {
    const { publisher, calls } = fakePublisher((entries, call) => ({
      Successful: entries.filter((e) => !(e.Message === 'm1' && call === 1) && e.Message !== 'm2').map((e) => ({ Id: e.Id })),
      Failed: entries.flatMap((e): NonNullable<Reply['Failed']> =>
        e.Message === 'm1' && call === 1
          ? [{ Id: e.Id, SenderFault: false, Code: 'InternalError' }]
          : e.Message === 'm2'
            ? [{ Id: e.Id, SenderFault: true, Code: 'InvalidParameter', Message: 'bad attribute' }]
            : [],
      ),
    }));
    const results = await Promise.allSettled([0, 1, 2].map((n) => publisher.publish(message(n))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const reason = (results[2] as PromiseRejectedResult).reason;
    expect(reason).toBeInstanceOf(PublishError);
    expect(reason.message).toMatch(/InvalidParameter: bad attribute/);
    expect(calls).toHaveLength(2);
  });

  it('rejects every entry of a batch the SNS call itself failed for (after its rounds, for throttling)', async () => {
    const { publisher, calls } = fakePublisher(() => {
      throw Object.assign(new Error('throttled'), { name: 'Throttling' });
    });
    const results = await Promise.allSettled([1, 2].map((n) => publisher.publish(message(n))));
    for (const result of results)
      expect((result as PromiseRejectedResult).reason.message).toMatch(
        /^SNS did not accept the message for topic "t": Throttling: throttled/,
      );
    expect(
      calls
        .flat()
        .map((e) => e.Message)
        .sort(),
    ).toEqual(['m1', 'm1', 'm1', 'm2', 'm2', 'm2']);
  });

  it('FIFO: group id, and a fresh deduplication id unless one is given', async () => {
    const { publisher, calls } = fakePublisher((entries) => ({ Successful: entries.map((e) => ({ Id: e.Id })) }));
    await Promise.all([
      publisher.publish(message(1, { groupId: 'g' })),
      publisher.publish(message(2, { groupId: 'g', deduplicationId: 'd2' })),
    ]);
    expect(calls[0][0]).toMatchObject({ MessageGroupId: 'g', MessageDeduplicationId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(calls[0][1]).toMatchObject({ MessageGroupId: 'g', MessageDeduplicationId: 'd2' });
  });
});
