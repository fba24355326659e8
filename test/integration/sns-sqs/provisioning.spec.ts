import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
} from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { SubscriptionExtras } from '../../../lib/messaging.options.js';
import { type FauxqsAppOptions, fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { countingBroker } from './counting-broker.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe.each(SNS_SQS_EMULATORS)('SNS+SQS provisioning (%s)', (_emulator, start) => {
  const suite = fauxqsSuite(start);
  const { apps } = suite;

  const queueAttributes = async (name: string) => {
    const { QueueUrl } = await suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return ((await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))).Attributes ?? {}) as Record<
      string,
      string
    >;
  };
  const topicArn = async (name: string) => {
    const topics = await suite.fauxqs.sns.send(new ListTopicsCommand({}));
    return topics.Topics?.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${name}`));
  };
  const subscriptionOf = async (topic: string, queueArn: string) => {
    const subs = await suite.fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic }));
    const sub = subs.Subscriptions?.find((s) => s.Endpoint === queueArn);
    if (!sub) return undefined;
    return ((await suite.fauxqs.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: sub.SubscriptionArn }))).Attributes ??
      {}) as Record<string, string>;
  };
  const noop = () => undefined;

  it('creates prefixed, encoded topics, the queue, its DLQ, redrive, visibility and a policy for exactly its topics', async () => {
    const topicPrefix = `${uniqueName('tp')}-`;
    const queueNamePrefix = `${uniqueName('qp')}-`;
    const extras: SubscriptionExtras = { queueName: 'billing', visibilityTimeout: 17, maxReceiveCount: 3 };
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: 'billing', topicPrefix, queueNamePrefix }), [
        controllerFor([
          { pattern: 'order.paid', extras, handle: noop },
          { pattern: 'order.refunded', extras, handle: noop },
        ]),
      ]),
    );
    const paidArn = await topicArn(`${topicPrefix}order___2e_paid`);
    const refundedArn = await topicArn(`${topicPrefix}order___2e_refunded`);
    expect(paidArn).toBeDefined();
    expect(refundedArn).toBeDefined();
    const attrs = await queueAttributes(`${queueNamePrefix}billing`);
    const dlq = await queueAttributes(`${queueNamePrefix}billing-dlq`);
    expect(attrs.VisibilityTimeout).toBe('17');
    expect(JSON.parse(attrs.RedrivePolicy)).toEqual({ deadLetterTargetArn: dlq.QueueArn, maxReceiveCount: 3 });
    const policy = JSON.parse(attrs.Policy);
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: attrs.QueueArn });
    expect([...policy.Statement[0].Condition.ArnEquals['aws:SourceArn']].sort()).toEqual([paidArn, refundedArn].sort());
    expect(await subscriptionOf(paidArn!, attrs.QueueArn)).toMatchObject({ Protocol: 'sqs' });
    expect(await subscriptionOf(refundedArn!, attrs.QueueArn)).toBeDefined();
  });

  it('a restart with unchanged configuration makes no mutating call; a changed filter policy is updated, a dropped one removed', async () => {
    const options: FauxqsAppOptions = { serviceName: uniqueName('svc'), topicPrefix: `${uniqueName('tp')}-` };
    const controller = (filterPolicy?: Record<string, unknown>) =>
      controllerFor([
        { pattern: 'order-paid', extras: { filterPolicy, visibilityTimeout: 20 }, handle: noop },
        { pattern: 'order-refunded', extras: { queueName: `${options.serviceName}-refunds` }, handle: noop },
      ]);
    const first = countingBroker(suite.fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, options), [controller({ currency: ['EUR'] })], { broker: first.broker }));
    expect(first.mutating()).toEqual(expect.arrayContaining(['CreateTopic', 'CreateQueue', 'Subscribe', 'SetQueueAttributes']));
    await apps.pop()!.close();

    const second = countingBroker(suite.fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, options), [controller({ currency: ['EUR'] })], { broker: second.broker }));
    expect(second.calls.length).toBeGreaterThan(0);
    expect(second.mutating()).toEqual([]);
    await apps.pop()!.close();

    const third = countingBroker(suite.fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, options), [controller({ currency: ['USD'] })], { broker: third.broker }));
    expect(third.mutating()).toEqual(['SetSubscriptionAttributes']);
    const arn = (await topicArn(`${options.topicPrefix}order-paid`))!;
    const queueArn = (await queueAttributes(`${options.serviceName}--order-paid`)).QueueArn;
    expect(JSON.parse((await subscriptionOf(arn, queueArn))!.FilterPolicy)).toEqual({ currency: ['USD'] });
    await apps.pop()!.close();

    const fourth = countingBroker(suite.fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, options), [controller(undefined)], { broker: fourth.broker }));
    expect(fourth.mutating()).toEqual(['SetSubscriptionAttributes']);
    const policy = (await subscriptionOf(arn, queueArn))!.FilterPolicy;
    expect(policy === undefined || policy === '' || policy === '{}').toBe(true);
  });

  it("KMS: sets the keys, disables them with '' or false, leaves them untouched when unset", async () => {
    const base: FauxqsAppOptions = { serviceName: uniqueName('svc'), topicPrefix: `${uniqueName('tp')}-` };
    const controller = controllerFor([{ pattern: 'secret', handle: noop }]);
    const read = async () => {
      const topic =
        (await suite.fauxqs.sns.send(new GetTopicAttributesCommand({ TopicArn: (await topicArn(`${base.topicPrefix}secret`))! })))
          .Attributes ?? {};
      const queue = await queueAttributes(`${base.serviceName}--secret`);
      return {
        topic: topic.KmsMasterKeyId ?? '',
        queue: queue.KmsMasterKeyId ?? '',
        reuse: queue.KmsDataKeyReusePeriodSeconds,
        dlq: (await queueAttributes(`${base.serviceName}--secret-dlq`)).KmsMasterKeyId ?? '',
      };
    };
    const run = async (snsSqs: FauxqsAppOptions['snsSqs']) => {
      const counted = countingBroker(suite.fauxqs, { ...base, snsSqs });
      const app = await startTestApp(fauxqsOptions(suite.fauxqs, { ...base, snsSqs }), [controller], { broker: counted.broker });
      await app.close();
      return counted.mutating();
    };

    await run({ snsKmsMasterKeyId: 'alias/topic-key', sqsKmsMasterKeyId: 'alias/queue-key', sqsKmsDataKeyReusePeriod: 600 });
    expect(await read()).toEqual({ topic: 'alias/topic-key', queue: 'alias/queue-key', reuse: '600', dlq: 'alias/queue-key' });

    expect(await run({})).toEqual([]);
    expect(await read()).toMatchObject({ topic: 'alias/topic-key', queue: 'alias/queue-key' });
    expect(await run({ snsKmsMasterKeyId: null, sqsKmsMasterKeyId: null })).toEqual([]);

    await run({ snsKmsMasterKeyId: '', sqsKmsMasterKeyId: false });
    expect(await read()).toMatchObject({ topic: '', queue: '', dlq: '' });

    await run({ snsKmsMasterKeyId: 'alias/again', sqsKmsMasterKeyId: 'alias/again' });
    await run({ snsKmsMasterKeyId: false, sqsKmsMasterKeyId: '' });
    expect(await read()).toMatchObject({ topic: '', queue: '', dlq: '' });
  });

  it('competing: false gives each process its own queue, both get every message, and the queues go away on close', async () => {
    const queueNamePrefix = `${uniqueName('np')}-`;
    const topic = uniqueName('broadcast');
    const got: Array<[number, unknown]> = [];
    const make = (n: number) =>
      controllerFor([
        {
          pattern: topic,
          extras: { competing: false },
          handle: (d) => {
            got.push([n, d]);
          },
        },
      ]);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: 'cache', queueNamePrefix }), [make(1)]));
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: 'cache', queueNamePrefix }), [make(2)]));
    const list = async () =>
      ((await suite.fauxqs.sqs.send(new ListQueuesCommand({ QueueNamePrefix: queueNamePrefix }))).QueueUrls ?? [])
        .map((url) => url.slice(url.lastIndexOf('/') + 1))
        .filter((n) => !n.endsWith('-dlq'));
    const names = await list();
    expect(names).toHaveLength(2);
    expect(names[0]).not.toEqual(names[1]);
    for (const name of names) expect(name.startsWith(`${queueNamePrefix}cache--`)).toBe(true);
    await emit(apps[0], topic, { hello: 1 });
    await waitFor(() => got.length === 2, { what: 'fan-out to both processes' });
    expect(got.map(([n]) => n).sort()).toEqual([1, 2]);
    await Promise.all(apps.splice(0).map((a) => a.close()));
    const all = (await suite.fauxqs.sqs.send(new ListQueuesCommand({ QueueNamePrefix: queueNamePrefix }))).QueueUrls ?? [];
    expect(all).toEqual([]);
  });
});
