import type { INestApplication } from '@nestjs/common';
import {
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  ListTopicsCommand,
  SetSubscriptionAttributesCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { TopologyVerificationError, type SubscriptionExtras } from '../../../lib/index.js';
import { type Fauxqs, type FauxqsAppOptions, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import type { MessageHandler } from '@nestjs/microservices';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';
import { planQueues } from '../../../lib/server/subscription-planner.js';
import { snsSqsTransport } from '../../../lib/sns-sqs/definition.js';
import { countingBroker } from './counting-broker.js';
import { emit, startTestApp, tryStartTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe("SNS+SQS provisioning 'verify' and 'off', and snsSqs.tags (fauxqs)", () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  const queueUrl = async (name: string) => (await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  const queueArn = async (name: string) =>
    (await fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name), AttributeNames: ['QueueArn'] }))).Attributes!
      .QueueArn!;
  const topicArn = async (name: string) =>
    (await fauxqs.sns.send(new ListTopicsCommand({}))).Topics!.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${name}`))!;
  const subscriptionArn = async (topic: string, queue: string) => {
    const queueArnValue = await queueArn(queue);
    return (await fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: await topicArn(topic) }))).Subscriptions!.find(
      (s) => s.Endpoint === queueArnValue,
    )!.SubscriptionArn!;
  };
  const noop = () => undefined;
  /** Calls that change topics, queues, subscriptions or tags (message calls such as DeleteMessageBatch are not). */
  const provisioningChanges = (calls: { mutating(): string[] }) =>
    calls.mutating().filter((c) => !/^(DeleteMessage|ChangeMessageVisibility)/.test(c));

  /** Four handlers on four queues (explicit names, so the test can change them), the module options for them. */
  function setup(extra: Partial<FauxqsAppOptions> = {}) {
    const serviceName = uniqueName('svc');
    const options: FauxqsAppOptions = { serviceName, topicPrefix: `${uniqueName('tp')}-`, ...extra };
    const q = (name: string) => `${serviceName}-${name}`;
    const handlers: Array<{ pattern: string; extras: SubscriptionExtras; handle: () => undefined }> = [
      { pattern: 'order-paid', extras: { queueName: q('paid'), visibilityTimeout: 20, filterPolicy: { currency: ['EUR'] } }, handle: noop },
      { pattern: 'order-shipped', extras: { queueName: q('shipped'), visibilityTimeout: 20 }, handle: noop },
      { pattern: 'order-refunded', extras: { queueName: q('refunded') }, handle: noop },
      { pattern: 'order-lost', extras: { queueName: q('lost') }, handle: noop },
    ];
    return {
      options,
      q,
      topic: (pattern: string) => `${options.topicPrefix}${pattern}`,
      controller: () => controllerFor(handlers),
      /**
       * A 'create' run that provisions and consumes nothing: a consumer closed just before the next app starts could
       * leave fauxqs holding its aborted long poll, which would swallow the next message for a visibility timeout.
       */
      create: async (overrides: Partial<FauxqsAppOptions> = {}) => {
        const { broker } = countingBroker(fauxqs, { ...options, ...overrides });
        const map = new Map(
          handlers.map((h) => [
            h.pattern,
            Object.assign(async () => undefined, { isEventHandler: true, extras: h.extras }) as unknown as MessageHandler,
          ]),
        );
        await broker.provision(
          planQueues(map, resolveModuleOptions(fauxqsOptions(fauxqs, { ...options, ...overrides })), snsSqsTransport, 'uuid').map(
            (p) => p.plan,
          ),
        );
        await broker.close();
      },
    };
  }

  async function startError(
    options: FauxqsAppOptions,
    controller: ReturnType<ReturnType<typeof setup>['controller']>,
  ): Promise<TopologyVerificationError> {
    const { app, error } = await tryStartTestApp(fauxqsOptions(fauxqs, options), [controller]);
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    return error as TopologyVerificationError;
  }

  it("'verify' accepts what a 'create' run provisioned, with read calls only, and consumes", async () => {
    const s = setup({ snsSqs: { tags: { team: 'billing' } } });
    await s.create();

    const verify = countingBroker(fauxqs, { ...s.options, provisioning: 'verify' });
    const received: unknown[] = [];
    const app = await startTestApp(
      fauxqsOptions(fauxqs, { ...s.options, provisioning: 'verify' }),
      [
        controllerFor([
          {
            pattern: 'order-shipped',
            extras: { queueName: s.q('shipped'), visibilityTimeout: 20 },
            handle: (data) => {
              received.push(data);
            },
          },
        ]),
      ],
      { broker: verify.broker },
    );
    apps.push(app);
    expect(verify.calls.length).toBeGreaterThan(0);
    expect(provisioningChanges(verify)).toEqual([]);
    await emit(app, 'order-shipped', { id: 1 });
    await waitFor(() => received.length === 1, { what: 'the message through a verified queue' });
    expect(provisioningChanges(verify)).toEqual([]);
  });

  it("'verify' fails with one error listing a removed subscription, a changed visibility timeout, a changed filter policy and a missing queue", async () => {
    const s = setup();
    await s.create();
    const shippedSubscription = await subscriptionArn(s.topic('order-shipped'), s.q('shipped'));
    await fauxqs.sns.send(new UnsubscribeCommand({ SubscriptionArn: shippedSubscription }));
    await fauxqs.sqs.send(
      new SetQueueAttributesCommand({ QueueUrl: await queueUrl(s.q('refunded')), Attributes: { VisibilityTimeout: '45' } }),
    );
    await fauxqs.sns.send(
      new SetSubscriptionAttributesCommand({
        SubscriptionArn: await subscriptionArn(s.topic('order-paid'), s.q('paid')),
        AttributeName: 'FilterPolicy',
        AttributeValue: '{"currency":["USD"]}',
      }),
    );
    await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl: await queueUrl(s.q('lost')) }));

    const verify = countingBroker(fauxqs, { ...s.options, provisioning: 'verify' });
    const { app, error } = await tryStartTestApp(fauxqsOptions(fauxqs, { ...s.options, provisioning: 'verify' }), [s.controller()], {
      broker: verify.broker,
    });
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    const mismatches = (error as TopologyVerificationError).mismatches;
    expect(mismatches).toEqual(
      expect.arrayContaining([
        {
          kind: 'subscription',
          resource: `${await topicArn(s.topic('order-shipped'))} → ${await queueArn(s.q('shipped'))}`,
          expected: 'an sqs subscription',
          found: 'no such subscription',
        },
        { kind: 'queue', resource: s.q('refunded'), attribute: 'VisibilityTimeout', expected: '30', found: '45' },
        {
          kind: 'subscription',
          resource: expect.stringContaining(s.topic('order-paid')),
          attribute: 'FilterPolicy',
          expected: '{"currency":["EUR"]}',
          found: '{"currency":["USD"]}',
        },
        { kind: 'queue', resource: s.q('lost'), expected: expect.stringContaining('VisibilityTimeout=30'), found: 'no such queue' },
      ]),
    );
    expect(mismatches).toHaveLength(4);
    const message = (error as Error).message;
    expect(message).toContain("provisioning 'verify'; nothing was changed), 4 problem(s):");
    expect(message).toContain(`queue ${s.q('refunded')}: VisibilityTimeout differs (expected 30; found 45)`);
    expect(message).toContain(`queue ${s.q('lost')}: missing`);
    expect(provisioningChanges(verify)).toEqual([]);
    await expect(queueUrl(s.q('lost'))).rejects.toThrow();
  });

  it("'verify' reports KMS, tags and a queue policy that does not allow the topic, each expected vs found", async () => {
    const s = setup();
    await s.create();
    const shipped = await queueArn(s.q('shipped'));
    const otherTopic = shipped.replace(':sqs:', ':sns:').replace(/[^:]+$/, 'someone-elses-topic');
    await fauxqs.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: await queueUrl(s.q('shipped')),
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: shipped,
                Condition: { ArnEquals: { 'aws:SourceArn': otherTopic } },
              },
            ],
          }),
        },
      }),
    );
    const error = await startError(
      { ...s.options, provisioning: 'verify', snsSqs: { sqsKmsMasterKeyId: 'alias/billing', tags: { team: 'billing' } } },
      s.controller(),
    );
    const m = error.mismatches;
    expect(m).toContainEqual({
      kind: 'queue',
      resource: s.q('shipped'),
      attribute: 'Policy',
      expected: `an Allow statement for sqs:SendMessage from sns.amazonaws.com with aws:SourceArn ${await topicArn(s.topic('order-shipped'))}`,
      found: `SendMessage allowed from ${otherTopic}`,
    });
    expect(m).toContainEqual({
      kind: 'queue',
      resource: s.q('paid'),
      attribute: 'KmsMasterKeyId',
      expected: 'alias/billing',
      found: '(none)',
    });
    expect(m).toContainEqual({
      kind: 'dead-letter queue',
      resource: `${s.q('paid')}-dlq`,
      attribute: 'KmsMasterKeyId',
      expected: 'alias/billing',
      found: '(none)',
    });
    expect(m).toContainEqual({
      kind: 'queue',
      resource: s.q('paid'),
      attribute: 'tag team',
      expected: '"billing"',
      found: '(no such tag)',
    });
    expect(m).toContainEqual({
      kind: 'topic',
      resource: s.topic('order-paid'),
      attribute: 'tag team',
      expected: '"billing"',
      found: '(no such tag)',
    });
  });

  it("'off' starts against provisioned resources with look-ups only (no topic, queue, subscription or tag call that changes anything), consumes and publishes", async () => {
    const s = setup();
    await s.create();
    const off = countingBroker(fauxqs, { ...s.options, provisioning: 'off' });
    const received: unknown[] = [];
    const app = await startTestApp(
      fauxqsOptions(fauxqs, { ...s.options, provisioning: 'off' }),
      [
        controllerFor([
          {
            pattern: 'order-shipped',
            extras: { queueName: s.q('shipped'), visibilityTimeout: 99 },
            handle: (data) => {
              received.push(data);
            },
          },
        ]),
      ],
      { broker: off.broker },
    );
    apps.push(app);
    const names = off.calls.map((c) => c.replace(/Command$/, ''));
    expect(names.filter((c) => c !== 'ReceiveMessage').sort()).toEqual([
      'GetQueueAttributes',
      'GetQueueAttributes',
      'GetQueueUrl',
      'GetQueueUrl',
    ]); // queue and its DLQ
    await emit(app, 'order-shipped', { id: 2 });
    await waitFor(() => received.length === 1, { what: 'the message through an unprovisioned start' });
    expect(provisioningChanges(off)).toEqual([]);
    // trusted: the visibility timeout the handler asks for is not applied
    expect(
      (
        await fauxqs.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: await queueUrl(s.q('shipped')), AttributeNames: ['VisibilityTimeout'] }),
        )
      ).Attributes!.VisibilityTimeout,
    ).toBe('20');
  });

  it("'off' fails listing every queue that does not exist, and creates none", async () => {
    const s = setup();
    const off = countingBroker(fauxqs, { ...s.options, provisioning: 'off' });
    const { app, error } = await tryStartTestApp(fauxqsOptions(fauxqs, { ...s.options, provisioning: 'off' }), [s.controller()], {
      broker: off.broker,
    });
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    const resources = (error as TopologyVerificationError).mismatches.map((m) => `${m.kind} ${m.resource}`);
    expect(resources.sort()).toEqual(
      ['paid', 'shipped', 'refunded', 'lost'].flatMap((n) => [`queue ${s.q(n)}`, `dead-letter queue ${s.q(n)}-dlq`]).sort(),
    );
    expect(provisioningChanges(off)).toEqual([]);
  });

  it('snsSqs.tags: every created topic, queue and dead-letter queue carries them; a changed value is synced on restart', async () => {
    const s = setup({ snsSqs: { tags: { team: 'billing', cost: 'a' } } });
    await s.create();
    const queueTags = async (name: string) => (await fauxqs.sqs.send(new ListQueueTagsCommand({ QueueUrl: await queueUrl(name) }))).Tags;
    const topicTags = async (name: string) =>
      Object.fromEntries(
        (await fauxqs.sns.send(new ListTagsForResourceCommand({ ResourceArn: await topicArn(name) }))).Tags!.map((t) => [t.Key, t.Value]),
      );
    for (const n of ['paid', 'shipped']) {
      expect(await queueTags(s.q(n))).toEqual({ team: 'billing', cost: 'a' });
      expect(await queueTags(`${s.q(n)}-dlq`)).toEqual({ team: 'billing', cost: 'a' });
    }
    expect(await topicTags(s.topic('order-paid'))).toEqual({ team: 'billing', cost: 'a' });

    const restart = countingBroker(fauxqs, { ...s.options, snsSqs: { tags: { team: 'billing', cost: 'b' } } });
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { ...s.options, snsSqs: { tags: { team: 'billing', cost: 'b' } } }), [s.controller()], {
        broker: restart.broker,
      }),
    );
    expect(new Set(restart.mutating())).toEqual(new Set(['TagQueue', 'TagResource']));
    expect(await queueTags(s.q('lost'))).toEqual({ team: 'billing', cost: 'b' });
    expect(await queueTags(`${s.q('lost')}-dlq`)).toEqual({ team: 'billing', cost: 'b' });
    expect(await topicTags(s.topic('order-lost'))).toEqual({ team: 'billing', cost: 'b' });
  });
});
