import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { PublishError } from '../../../lib/errors.js';
import { DeleteBatcher } from '../../../lib/sns-sqs/delete-batcher.js';
import { MessagingClient, MessagingRecord, type MessagingRecordOptions, type SendToQueueOptions } from '../../../lib/index.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { countingBroker } from './counting-broker.js';

type Attributes = NonNullable<MessagingRecordOptions['attributes']>;

/** What AWS refuses in one message, as an emit's attributes, and the words the rejection must carry. */
const EMIT_RULES: Array<[rule: string, attributes: Attributes, message: RegExp]> = [
  [
    'an empty string value',
    { note: '' },
    /attribute "note" is an empty string, and AWS refuses empty attribute values; leave the attribute out/,
  ],
  ['an empty Buffer value', { blob: Buffer.alloc(0) }, /attribute "blob" is an empty Buffer, and AWS refuses empty attribute values/],
  [
    'a name starting with "AWS."',
    { 'AWS.trace': 'x' },
    /attribute "AWS\.trace" has a name AWS refuses: names starting with "AWS\." or "Amazon\."/,
  ],
  ['a name starting with "amazon." (any case)', { 'amazon.id': 'x' }, /reserved for AWS; rename it/],
  [
    'a name with a space',
    { 'order id': 'x' },
    /attribute "order id" has a name AWS refuses: only A-Z, a-z, 0-9, "_", "-" and "\." are allowed/,
  ],
  ['a name of 257 characters', { ['n'.repeat(257)]: 'x' }, /has a 257-character name, over AWS's 256-character limit; use a shorter name/],
  ['a name ending with a period', { 'order.': 'x' }, /must not start or end with a period/],
  ['a name with two periods in a row', { 'order..id': 'x' }, /must not contain two periods in a row/],
  ['a value holding U+0000', { note: 'a\u0000b' }, /attribute "note" contains U\+0000 at index 1, a character AWS refuses/],
  ["a Number out of AWS's range", { amount: 1e200 }, /attribute "amount" is 1e\+200, outside the range of AWS Number attributes/],
];

const ten = Array.from({ length: 10 }, (_, n) => n);
const BAD = 4;
const allBut = (n: number) => ten.filter((i) => i !== n);

/**
 * Issue: an attribute AWS refuses (an empty value, say) rode in a PublishBatch with nine valid emits; moto (like AWS
 * for some rules) refuses the whole call, so all ten rejected. Now such a message fails alone before batching, with a
 * PublishError naming the rule; a *Batch call refused for one entry's sake is sent again entry by entry.
 */
describe.each(SNS_SQS_EMULATORS)(
  'SNS+SQS: a message AWS would refuse fails alone, the other 9 of its batch are delivered (%s)',
  (_emulator, start) => {
    const suite = fauxqsSuite(start);
    const { apps, queues } = suite;

    /** An app consuming `topic` (FIFO when `fifo`), its first emit done (the topic ARN known: the next emits batch at once). */
    async function consumingApp(topic: string, fifo = false) {
      const got: number[] = [];
      const options = { serviceName: uniqueName('svc') };
      const counted = countingBroker(suite.fauxqs, options);
      const app = await startTestApp(
        fauxqsOptions(suite.fauxqs, options),
        [controllerFor([{ pattern: topic, extras: fifo ? { fifo: true } : {}, handle: (d: { n: number }) => void got.push(d.n) }])],
        { broker: counted.broker },
      );
      apps.push(app);
      await emit(app, topic, fifo ? new MessagingRecord({ n: -1 }, { groupId: 'warm-up' }) : { n: -1 });
      await waitFor(() => got.includes(-1), { what: 'the warm-up message' });
      counted.calls.splice(0);
      return { app, got, publishBatches: () => counted.calls.filter((c) => c === 'PublishBatchCommand').length };
    }

    /** Emits ten at once (one PublishBatch), the BAD one with `bad` options: the results, in order. */
    async function emitTen(
      app: Awaited<ReturnType<typeof consumingApp>>['app'],
      topic: string,
      good: MessagingRecordOptions,
      bad: MessagingRecordOptions,
    ) {
      return Promise.allSettled(ten.map((n) => emit(app, topic, new MessagingRecord({ n }, n === BAD ? bad : good))));
    }

    function expectRejectedAlone(results: PromiseSettledResult<unknown>[], topicOrQueue: string, rule: RegExp): void {
      expect(results.map((r) => r.status)).toEqual(ten.map((n) => (n === BAD ? 'rejected' : 'fulfilled')));
      const error = (results[BAD] as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(PublishError);
      expect(error.message).toContain(topicOrQueue);
      expect(error.message).toMatch(rule);
    }

    it.each(EMIT_RULES)('emit with %s', async (_rule, attributes, rule) => {
      const topic = uniqueName('bad-attr');
      const { app, got, publishBatches } = await consumingApp(topic);
      const results = await emitTen(app, topic, { attributes: { currency: 'EUR' } }, { attributes: { currency: 'EUR', ...attributes } });
      expectRejectedAlone(results, `Cannot publish to topic "${topic}"`, rule);
      await waitFor(() => got.length === 10, { what: 'the 9 valid emits delivered' });
      expect(got.filter((n) => n >= 0).sort((a, b) => a - b)).toEqual(allBut(BAD));
      expect(publishBatches()).toBe(1);
    });

    it.each<[string, MessagingRecordOptions, RegExp]>([
      [
        'an empty groupId (a FIFO emit without a message group)',
        { groupId: '' },
        /groupId "" is not one AWS takes: it must be 1 to 128 characters/,
      ],
      ['a groupId of 129 characters', { groupId: 'g'.repeat(129) }, /groupId "g+…" is not one AWS takes/],
      ['a deduplicationId with a space', { groupId: 'g', deduplicationId: 'order 7' }, /deduplicationId "order 7" is not one AWS takes/],
      [
        'a deduplicationId but no groupId',
        { deduplicationId: 'order-7' },
        /deduplicationId is set but groupId is not: FIFO topics need a message group; add groupId/,
      ],
    ])('FIFO emit with %s', async (_rule, bad, rule) => {
      const topic = uniqueName('bad-fifo');
      const { app, got, publishBatches } = await consumingApp(topic, true);
      const results = await emitTen(app, topic, { groupId: 'orders' }, bad);
      expectRejectedAlone(results, `Cannot publish to topic "${topic}"`, rule);
      await waitFor(() => got.length === 10, { what: 'the 9 valid emits delivered' });
      expect(got.filter((n) => n >= 0)).toEqual(allBut(BAD)); // one group: in order
      expect(publishBatches()).toBe(1);
    });

    /** A queue of this test (deleted after it) and a publish-only app; sendToQueue ten at once, then what the queue holds. */
    async function sendTen(
      attributes: Record<string, string>,
      good: SendToQueueOptions,
      bad: SendToQueueOptions,
      body = (n: number) => ({ n }),
    ) {
      const fifo = good.groupId !== undefined;
      const queue = uniqueName('bad-send') + (fifo ? '.fifo' : '');
      const { QueueUrl } = await suite.fauxqs.sqs.send(
        new CreateQueueCommand({ QueueName: queue, Attributes: { ...attributes, ...(fifo ? { FifoQueue: 'true' } : {}) } }),
      );
      queues.push(QueueUrl!);
      const app = await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [], { listen: false });
      apps.push(app);
      const client = app.get(MessagingClient);
      const results = await Promise.allSettled(
        ten.map((n) => lastValueFrom(client.sendToQueue(queue, body(n), n === BAD ? bad : good), { defaultValue: undefined })),
      );
      const received: number[] = [];
      await waitFor(
        async () => {
          const { Messages = [] } = await suite.fauxqs.sqs.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
          );
          for (const m of Messages) {
            received.push(JSON.parse(JSON.parse(m.Body!).Message).data.n);
            // deleted, so that a FIFO group is not held by a message in flight
            await suite.fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
          }
          return received.length >= 9;
        },
        { what: 'the 9 valid sends in the queue' },
      );
      return { queue, results, received: received.sort((a, b) => a - b) };
    }

    it.each<[string, Attributes, RegExp]>([
      [
        '11 attributes',
        Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, 'v'])),
        /11 message attributes \("a0", .*\) are over SQS's limit of 10 per message; send at most 10/,
      ],
      ['an empty attribute value', { note: '' }, /attribute "note" is an empty string, and AWS refuses empty attribute values/],
      ['a reserved attribute name', { 'Amazon.x': 'v' }, /names starting with "AWS\." or "Amazon\." \(any case\) are reserved for AWS/],
    ])('sendToQueue with %s', async (_rule, attributes, rule) => {
      const { queue, results, received } = await sendTen(
        {},
        { attributes: { ok: 'v' } },
        { attributes: attributes as Record<string, string> },
      );
      expectRejectedAlone(results, `Cannot send to queue "${queue}"`, rule);
      expect(received).toEqual(allBut(BAD));
    });

    it('sendToQueue to a FIFO queue with a groupId of 129 characters', async () => {
      const { queue, results, received } = await sendTen({}, { groupId: 'orders' }, { groupId: 'g'.repeat(129) });
      expectRejectedAlone(results, `Cannot send to queue "${queue}"`, /groupId "g+…" is not one AWS takes: it must be 1 to 128 characters/);
      expect(received).toEqual(allBut(BAD));
    });

    it("a send the queue refuses as too large (its MaximumMessageSize, 1,024 bytes): that send alone rejects with SQS's reason", async () => {
      // moto refuses the whole SendMessageBatch for it (fauxqs fails the one entry): the batch is then sent entry by entry
      const { queue, results, received } = await sendTen({ MaximumMessageSize: '1024' }, {}, {}, (n) => ({
        n,
        pad: n === BAD ? 'x'.repeat(2000) : '',
      }));
      expectRejectedAlone(results, `queue "${queue}"`, /Message must be shorter than 1024 bytes/);
      expect(received).toEqual(allBut(BAD));
    });

    it('DeleteMessageBatch refused for one entry (a receipt handle given twice): the other deletes still happen', async () => {
      // moto refuses the whole call (BatchEntryIdsNotDistinct); the DeleteBatcher then deletes entry by entry
      const { QueueUrl } = await suite.fauxqs.sqs.send(new CreateQueueCommand({ QueueName: uniqueName('bad-delete') }));
      queues.push(QueueUrl!);
      await suite.fauxqs.sqs.send(
        new SendMessageBatchCommand({ QueueUrl, Entries: allBut(BAD).map((n) => ({ Id: String(n), MessageBody: `m${n}` })) }),
      );
      const handles: string[] = [];
      await waitFor(
        async () => {
          const { Messages = [] } = await suite.fauxqs.sqs.send(
            new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
          );
          handles.push(...Messages.map((m) => m.ReceiptHandle!));
          return handles.length >= 9;
        },
        { what: 'the 9 messages received' },
      );
      const warnings: string[] = [];
      const deletes = new DeleteBatcher(
        (command) => suite.fauxqs.sqs.send(command),
        QueueUrl!,
        { log() {}, error() {}, warn: (line: string) => warnings.push(line) },
        new AbortController().signal,
      );
      for (const handle of [...handles.slice(0, BAD), handles[0], ...handles.slice(BAD)]) deletes.delete(handle);
      await deletes.flush();
      const { Attributes = {} } = await suite.fauxqs.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      expect(Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
      // at most the repeated handle is reported (moto: gone already), never the nine
      expect(warnings.length).toBeLessThanOrEqual(1);
      for (const line of warnings) expect(line).toMatch(/^Could not delete a handled message from /);
    });
  },
);
