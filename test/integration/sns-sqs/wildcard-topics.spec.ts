import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  PublishCommand,
  type ListTopicsCommandOutput,
} from '@aws-sdk/client-sns';
import { JsonEnvelope, MessagingOptionsError, TopologyVerificationError, type MessagingContext } from '../../../lib/index.js';
import { topicName } from '../../../lib/sns-sqs/naming.js';
import type { SnsSqsBroker } from '../../../lib/sns-sqs/sns-sqs.broker.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { startTestApp, tryStartTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { countingBroker } from './counting-broker.js';

const producer = { name: 'producer', uuid: 'd0d1e2f3-0000-4000-8000-000000000004' };

/** fauxqs answers ListTopics in one page; this serves the broker's ListTopics `pageSize` topics at a time, as AWS pages them. */
function pageListTopics(broker: SnsSqsBroker, pageSize: number): void {
  (broker.unwrap().sns as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
    (next: (args: unknown) => Promise<{ output: ListTopicsCommandOutput }>, context: { commandName?: string }) =>
      async (args: { input: { NextToken?: string } }) => {
        const result = await next(args);
        if (context.commandName !== 'ListTopicsCommand') return result;
        const start = Number(args.input.NextToken ?? 0);
        const all = result.output.Topics ?? [];
        const more = start + pageSize < all.length;
        return {
          ...result,
          output: { ...result.output, Topics: all.slice(start, start + pageSize), NextToken: more ? String(start + pageSize) : undefined },
        };
      },
    { step: 'initialize', name: 'pageListTopics' },
  );
}

describe('SNS+SQS wildcard topics: order.* and order.# resolved against the existing topics (fauxqs)', () => {
  const suite = fauxqsSuite();
  const { apps } = suite;

  const createTopic = async (prefix: string, topic: string) =>
    (await suite.fauxqs.sns.send(new CreateTopicCommand({ Name: topicName(prefix, topic, false) }))).TopicArn!;
  const publish = (arn: string, topic: string, data: unknown, region: string) =>
    suite.fauxqs.sns.send(
      new PublishCommand({
        TopicArn: arn,
        Message: new JsonEnvelope().encode(data, { topic, service: producer }),
        MessageAttributes: { region: { DataType: 'String', StringValue: region } },
      }),
    );
  /** The filter policies of the SQS subscriptions of a topic, by queue name. */
  async function subscriptions(topicArn: string): Promise<Record<string, unknown>> {
    const { Subscriptions = [] } = await suite.fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
    const out: Record<string, unknown> = {};
    for (const s of Subscriptions) {
      const { Attributes = {} } = await suite.fauxqs.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }));
      out[s.Endpoint!.slice(s.Endpoint!.lastIndexOf(':') + 1)] = Attributes.FilterPolicy ? JSON.parse(Attributes.FilterPolicy) : null;
    }
    return out;
  }

  it('subscribes each queue to every matching topic on all ListTopics pages, with the filter policy; handlers see the concrete topic', async () => {
    const topicPrefix = `${uniqueName('w')}-`;
    const arns = {
      created: await createTopic(topicPrefix, 'order.created'),
      paid: await createTopic(topicPrefix, 'order.paid'),
      euPaid: await createTopic(topicPrefix, 'order.eu.paid'),
      order: await createTopic(topicPrefix, 'order'),
      invoice: await createTopic(topicPrefix, 'invoice.created'),
      unprefixed: await createTopic(uniqueName('other'), 'order.created'),
    };
    const [oneWord, anyWords] = [uniqueName('one-word'), uniqueName('any-words')];
    const seen: Array<{ queue: string; topic: string; data: unknown }> = [];
    const handler = (queue: string) => (data: unknown, ctx: MessagingContext) => void seen.push({ queue, topic: ctx.getTopic(), data });
    const options = { serviceName: uniqueName('svc'), topicPrefix };
    const counted = countingBroker(suite.fauxqs, options);
    pageListTopics(counted.broker, 2);
    apps.push(
      await startTestApp(
        fauxqsOptions(suite.fauxqs, options),
        [
          controllerFor([
            { pattern: 'order.*', extras: { queueName: oneWord, filterPolicy: { region: ['eu'] } }, handle: handler(oneWord) },
            { pattern: 'order.#', extras: { queueName: anyWords }, handle: handler(anyWords) },
          ]),
        ],
        { broker: counted.broker },
      ),
    );
    expect(counted.calls.filter((c) => c === 'ListTopicsCommand').length).toBeGreaterThanOrEqual(3);

    expect(await subscriptions(arns.created)).toEqual({ [oneWord]: { region: ['eu'] }, [anyWords]: null });
    expect(await subscriptions(arns.paid)).toEqual({ [oneWord]: { region: ['eu'] }, [anyWords]: null });
    expect(await subscriptions(arns.euPaid)).toEqual({ [anyWords]: null });
    expect(await subscriptions(arns.order)).toEqual({ [anyWords]: null });
    expect(await subscriptions(arns.invoice)).toEqual({});
    expect(await subscriptions(arns.unprefixed)).toEqual({});
    // no literal topic named after the pattern
    expect(counted.calls).not.toContain('CreateTopicCommand');

    await publish(arns.created, 'order.created', { n: 1 }, 'eu');
    await publish(arns.paid, 'order.paid', { n: 2 }, 'us'); // filtered out of the order.* queue
    await publish(arns.euPaid, 'order.eu.paid', { n: 3 }, 'eu');
    await waitFor(() => seen.length === 4, { what: 'four deliveries' });
    expect(seen).toEqual(
      expect.arrayContaining([
        { queue: oneWord, topic: 'order.created', data: { n: 1 } },
        { queue: anyWords, topic: 'order.created', data: { n: 1 } },
        { queue: anyWords, topic: 'order.paid', data: { n: 2 } },
        { queue: anyWords, topic: 'order.eu.paid', data: { n: 3 } },
      ]),
    );
  });

  it('wildcardRescanMs subscribes topics created after startup, and stops on shutdown', async () => {
    const topicPrefix = `${uniqueName('r')}-`;
    const queueName = uniqueName('late');
    const seen: Array<{ topic: string; data: unknown }> = [];
    const options = { serviceName: uniqueName('svc'), topicPrefix, snsSqs: { wildcardRescanMs: 1000 } };
    const counted = countingBroker(suite.fauxqs, options);
    const app = await startTestApp(
      fauxqsOptions(suite.fauxqs, options),
      [
        controllerFor([
          { pattern: 'shipment.*', extras: { queueName }, handle: (data, ctx) => void seen.push({ topic: ctx.getTopic(), data }) },
        ]),
      ],
      { broker: counted.broker },
    );
    apps.push(app);
    const late = await createTopic(topicPrefix, 'shipment.sent');
    await waitFor(async () => Object.keys(await subscriptions(late)).includes(queueName), { what: 'the late topic subscribed' });
    await publish(late, 'shipment.sent', { parcel: 7 }, 'eu');
    await waitFor(() => seen.length === 1, { what: 'the delivery' });
    expect(seen).toEqual([{ topic: 'shipment.sent', data: { parcel: 7 } }]);

    await apps.splice(0)[0].close();
    const listingsAtClose = counted.calls.filter((c) => c === 'ListTopicsCommand').length;
    // another app rescanning on the same interval shows the time passing: two of its rounds, none of the closed one
    const witnessOptions = { serviceName: uniqueName('svc'), topicPrefix: `${uniqueName('x')}-`, snsSqs: { wildcardRescanMs: 1000 } };
    const witness = countingBroker(suite.fauxqs, witnessOptions);
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, witnessOptions), [controllerFor([{ pattern: 'any.*', handle: () => {} }])], {
        broker: witness.broker,
      }),
    );
    const witnessStart = witness.calls.filter((c) => c === 'ListTopicsCommand').length;
    await waitFor(() => witness.calls.filter((c) => c === 'ListTopicsCommand').length >= witnessStart + 2, {
      what: 'two rescans of the witness',
    });
    expect(counted.calls.filter((c) => c === 'ListTopicsCommand').length).toBe(listingsAtClose);
  });

  it("provisioning 'verify' expects a subscription to every matching topic; wildcardRescanMs needs 'create'", async () => {
    const topicPrefix = `${uniqueName('v')}-`;
    const serviceName = uniqueName('svc');
    const queueName = uniqueName('verified');
    const controller = controllerFor([{ pattern: 'stock.*', extras: { queueName }, handle: () => {} }]);
    await createTopic(topicPrefix, 'stock.low');
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName, topicPrefix }), [controller]));
    await apps.splice(0)[0].close();
    const added = await createTopic(topicPrefix, 'stock.out');

    const { app, error } = await tryStartTestApp(fauxqsOptions(suite.fauxqs, { serviceName, topicPrefix, provisioning: 'verify' }), [
      controller,
    ]);
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    const resources = (error as TopologyVerificationError).mismatches.map((m) => `${m.kind} ${m.attribute ?? ''} ${m.resource}`);
    expect(resources).toEqual([
      `queue Policy ${queueName}`,
      expect.stringMatching(new RegExp(`^subscription  ${added} → .*:${queueName}$`)),
    ]);

    const refused = await startTestApp(
      fauxqsOptions(suite.fauxqs, { serviceName, topicPrefix, provisioning: 'verify', snsSqs: { wildcardRescanMs: 5000 } }),
    ).then(
      (a) => apps.push(a),
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(MessagingOptionsError);
    expect((refused as MessagingOptionsError).option).toBe('snsSqs.wildcardRescanMs');
  });
});
