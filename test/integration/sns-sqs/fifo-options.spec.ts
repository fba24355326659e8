import { GetTopicAttributesCommand, ListTopicsCommand, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import {
  MessagingClient,
  MessagingOptionsError,
  MessagingRecord,
  RawEnvelope,
  TopologyVerificationError,
  type SubscriptionExtras,
} from '../../../lib/index.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { startTestApp, tryStartTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { countingBroker } from './counting-broker.js';

const HIGH_THROUGHPUT: SubscriptionExtras = {
  fifo: true,
  contentBasedDeduplication: true,
  deduplicationScope: 'messageGroup',
  fifoThroughputLimit: 'perMessageGroupId',
};

describe.each(SNS_SQS_EMULATORS)(
  'SNS+SQS FIFO options: content-based deduplication and high-throughput FIFO queues (%s)',
  (emulator, startEmulator) => {
    const suite = fauxqsSuite(startEmulator);
    const { apps, queues } = suite;

    async function fifoSettings(queue: string): Promise<Record<string, string | undefined>> {
      const { QueueUrl } = await suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
      const { Attributes = {} } = await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
      const { ContentBasedDeduplication, DeduplicationScope, FifoThroughputLimit } = Attributes;
      return { ContentBasedDeduplication, DeduplicationScope, FifoThroughputLimit };
    }
    async function topicAttribute(name: string, attribute: string): Promise<string | undefined> {
      const { Topics = [] } = await suite.fauxqs.sns.send(new ListTopicsCommand({}));
      const TopicArn = Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${name}`))!;
      const { Attributes = {} } = await suite.fauxqs.sns.send(new GetTopicAttributesCommand({ TopicArn }));
      return Attributes[attribute];
    }

    it('creates a high-throughput FIFO queue and a content-deduplicated FIFO topic; an emit without deduplicationId is deduplicated by its body', async () => {
      const topic = uniqueName('ledger');
      const queueName = uniqueName('ledger-q');
      const seen: string[] = [];
      const options = { serviceName: uniqueName('svc'), envelope: RawEnvelope, snsSqs: { contentBasedDeduplication: true } };
      const counted = countingBroker(suite.fauxqs, options);
      apps.push(
        await startTestApp(
          fauxqsOptions(suite.fauxqs, options),
          [controllerFor([{ pattern: topic, extras: { ...HIGH_THROUGHPUT, queueName }, handle: (data) => void seen.push(String(data)) }])],
          { broker: counted.broker },
        ),
      );
      expect(await fifoSettings(`${queueName}.fifo`)).toEqual({
        ContentBasedDeduplication: 'true',
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
      expect(await topicAttribute(`${topic}.fifo`, 'ContentBasedDeduplication')).toBe('true');

      const client = apps[0].get(MessagingClient);
      const send = (body: string) =>
        lastValueFrom(client.emit(topic, new MessagingRecord(body, { groupId: 'account-1' })), { defaultValue: undefined });
      await send('credit 10');
      await send('credit 10'); // same body, no deduplicationId: SNS drops it
      await send('debit 5');
      await waitFor(() => seen.length >= 2, { what: 'two distinct messages' });
      // the duplicate would have come right behind the first in its group
      await send('end');
      await waitFor(() => seen.includes('end'), { what: 'the last message' });
      // the library's half: no MessageDeduplicationId, the id is left to SNS
      const entries = counted.sent
        .filter((call) => call.name === 'PublishBatch')
        .flatMap((call) => call.input.PublishBatchRequestEntries as PublishBatchRequestEntry[]);
      expect(entries.map((entry) => entry.MessageDeduplicationId)).toEqual([undefined, undefined, undefined, undefined]);
      // moto's SNS does not deduplicate a FIFO topic by content (a gap: AWS and fauxqs drop the copy): it hands each
      // message to SQS without an id, and the queue's content hash covers the notification, whose MessageId differs
      expect(seen).toEqual(emulator === 'moto' ? ['credit 10', 'credit 10', 'debit 5', 'end'] : ['credit 10', 'debit 5', 'end']);
    });

    it('a restart with changed FIFO settings sets only what differs, an unchanged one makes no mutating call', async () => {
      const topic = uniqueName('orders');
      const queueName = uniqueName('orders-q');
      const serviceName = uniqueName('svc');
      const start = async (extras: SubscriptionExtras) => {
        const counted = countingBroker(suite.fauxqs, { serviceName });
        const app = await startTestApp(
          fauxqsOptions(suite.fauxqs, { serviceName }),
          [controllerFor([{ pattern: topic, extras, handle: () => {} }])],
          {
            broker: counted.broker,
          },
        );
        await app.close();
        return counted
          .mutatingCalls()
          .filter((call) => !/^(DeleteMessage|ChangeMessageVisibility)/.test(call.name))
          .map((call) =>
            call.name === 'SetQueueAttributes' ? `${call.name}(${Object.keys(call.input.Attributes as object).join(',')})` : call.name,
          );
      };
      await start({ fifo: true, queueName });
      expect(await fifoSettings(`${queueName}.fifo`)).toEqual({
        ContentBasedDeduplication: 'false',
        DeduplicationScope: 'queue',
        FifoThroughputLimit: 'perQueue',
      });
      // fauxqs's SetQueueAttributes knows ContentBasedDeduplication but not DeduplicationScope / FifoThroughputLimit (AWS
      // sets all three): the update path is shown with the first, the other two are set at creation (first test)
      expect(await start({ fifo: true, contentBasedDeduplication: true, queueName })).toEqual([
        'SetQueueAttributes(ContentBasedDeduplication)',
      ]);
      expect((await fifoSettings(`${queueName}.fifo`)).ContentBasedDeduplication).toBe('true');
      // moto drops a queue's Policy when SetQueueAttributes sets another attribute without it (a gap: AWS keeps the
      // attributes a call does not name), so there the next start puts the policy back, and nothing else
      if (emulator === 'moto')
        expect(await start({ fifo: true, contentBasedDeduplication: true, queueName })).toEqual(['SetQueueAttributes(Policy)']);
      expect(await start({ fifo: true, contentBasedDeduplication: true, queueName })).toEqual([]);
      // a setting not given is left as it is
      expect(await start({ fifo: true, queueName })).toEqual([]);
      expect((await fifoSettings(`${queueName}.fifo`)).ContentBasedDeduplication).toBe('true');
    });

    it("provisioning 'verify' lists each FIFO setting that differs, with what it expected and found", async () => {
      const topic = uniqueName('verified');
      const queueName = uniqueName('verified-q');
      const serviceName = uniqueName('svc');
      const controller = (extras: SubscriptionExtras) =>
        controllerFor([{ pattern: topic, extras: { ...extras, queueName }, handle: () => {} }]);
      apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName }), [controller({ fifo: true })]));
      await apps.splice(0)[0].close();

      const { app, error } = await tryStartTestApp(
        fauxqsOptions(suite.fauxqs, { serviceName, provisioning: 'verify', snsSqs: { contentBasedDeduplication: true } }),
        [controller({ fifo: true, deduplicationScope: 'messageGroup', fifoThroughputLimit: 'perMessageGroupId' })],
      );
      apps.push(app);
      expect(error).toBeInstanceOf(TopologyVerificationError);
      const fifoMismatches = (error as TopologyVerificationError).mismatches.filter((m) =>
        ['ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit'].includes(m.attribute ?? ''),
      );
      expect(fifoMismatches).toEqual(
        expect.arrayContaining([
          { kind: 'topic', resource: `${topic}.fifo`, attribute: 'ContentBasedDeduplication', expected: 'true', found: 'false' },
          { kind: 'queue', resource: `${queueName}.fifo`, attribute: 'ContentBasedDeduplication', expected: 'true', found: 'false' },
          { kind: 'queue', resource: `${queueName}.fifo`, attribute: 'DeduplicationScope', expected: 'messageGroup', found: 'queue' },
          {
            kind: 'queue',
            resource: `${queueName}.fifo`,
            attribute: 'FifoThroughputLimit',
            expected: 'perMessageGroupId',
            found: 'perQueue',
          },
        ]),
      );
      expect(fifoMismatches).toHaveLength(4);
    });

    it('invalid FIFO settings fail at startup naming the option and the rule', async () => {
      const cases: Array<[SubscriptionExtras, string, RegExp]> = [
        [{ contentBasedDeduplication: true }, 'contentBasedDeduplication', /set fifo: true as well/],
        [{ deduplicationScope: 'messageGroup' }, 'deduplicationScope', /set fifo: true as well/],
        [{ fifo: true, fifoThroughputLimit: 'perMessageGroupId' }, 'fifoThroughputLimit', /needs deduplicationScope: 'messageGroup'/],
        [{ fifo: true, deduplicationScope: 'group' as never }, 'deduplicationScope', /must be one of 'queue', 'messageGroup'/],
        [{ fifo: true, fifoThroughputLimit: 'fast' as never }, 'fifoThroughputLimit', /must be one of 'perQueue', 'perMessageGroupId'/],
        [{ queue: 'existing', fifo: true, contentBasedDeduplication: true } as never, 'fifo', /cannot be combined with queue/],
      ];
      for (const [extras, key, rule] of cases) {
        const topic = uniqueName('bad-fifo');
        const { app, error } = await tryStartTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
          controllerFor([{ pattern: topic, extras, handle: () => {} }]),
        ]);
        apps.push(app);
        expect(error).toBeInstanceOf(MessagingOptionsError);
        expect((error as MessagingOptionsError).option).toBe(`@EventPattern('${topic}').${key}`);
        expect((error as Error).message).toMatch(rule);
      }
      const moduleError = await startTestApp(
        fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc'), snsSqs: { contentBasedDeduplication: 'yes' as never } }),
      ).then(
        (app) => apps.push(app),
        (e: unknown) => e,
      );
      expect((moduleError as MessagingOptionsError).option).toBe('snsSqs.contentBasedDeduplication');
    });

    it('sendToQueue without deduplicationId sends a SHA-256 of the envelope as the id (its body carries a timestamp)', async () => {
      const name = `${uniqueName('inbox')}.fifo`;
      const { QueueUrl } = await suite.fauxqs.sqs.send(
        new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true' } }),
      );
      queues.push(QueueUrl!);
      const seen: string[] = [];
      const options = fauxqsOptions(suite.fauxqs, {
        serviceName: uniqueName('svc'),
        envelope: RawEnvelope,
        snsSqs: { contentBasedDeduplication: true },
      });
      const publisher = await startTestApp(options, [], { listen: false });
      apps.push(publisher);
      const send = (body: string) =>
        lastValueFrom(publisher.get(MessagingClient).sendToQueue(name, body, { groupId: 'g' }), { defaultValue: undefined });
      // all sent before the consumer starts: moto deduplicates only against the messages still in the queue (a gap: AWS
      // remembers a deduplication id for 5 minutes, whether its message was deleted or not)
      for (const body of ['a', 'a', 'b']) await send(body);
      apps.push(
        await startTestApp(options, [
          controllerFor([{ pattern: uniqueName('inbox-topic'), extras: { queue: name }, handle: (data) => void seen.push(String(data)) }]),
        ]),
      );
      await waitFor(() => seen.length >= 2, { what: 'two distinct messages' });
      await send('end');
      await waitFor(() => seen.includes('end'), { what: 'the last message' });
      expect(seen).toEqual(['a', 'b', 'end']);
    });
  },
);
