import {
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListSubscriptionsCommand,
  ListTopicsCommand,
  SetSubscriptionAttributesCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { DeleteQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { type FauxqsAppOptions, fauxqsOptions } from '../../support/fauxqs.js';
import { deleteSnsSqsResources, SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { countingBroker } from './counting-broker.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName } from '../../support/wait-for.js';

/** The account-wide listings a provisioning pass reads page by page (ListQueues also for the orphan sweep). */
const LISTINGS = new Set(['ListQueues', 'ListSubscriptions']);

describe.each(SNS_SQS_EMULATORS)('SNS+SQS warm start (%s)', (emulator, start) => {
  const suite = fauxqsSuite(start);
  const noop = () => undefined;

  /** `topics` handlers, each on its own topic and generated queue with its DLQ, plus one queue fed by two topics. */
  function setup(topics: number) {
    const serviceName = uniqueName('warm');
    const options: FauxqsAppOptions = { serviceName, topicPrefix: `${serviceName}-` };
    const handlers = [
      ...Array.from({ length: topics }, (_, k) => ({ pattern: `t${k}`, extras: { filterPolicy: { kind: [`k${k}`] } }, handle: noop })),
      { pattern: 'shared-a', extras: { queueName: `${serviceName}-shared` }, handle: noop },
      { pattern: 'shared-b', extras: { queueName: `${serviceName}-shared` }, handle: noop },
    ];
    return {
      serviceName,
      options,
      controller: () => controllerFor(handlers),
      subscriptions: handlers.length,
      queue: (pattern: string) => `${serviceName}--${pattern}`,
      topic: (pattern: string) => `${serviceName}-${pattern}`,
      /** Starts the app on a counting broker, closes it, returns the calls its startup made. */
      async run() {
        const counted = countingBroker(suite.fauxqs, options);
        const app = await startTestApp(fauxqsOptions(suite.fauxqs, options), [controllerFor(handlers)], { broker: counted.broker });
        const names = counted.sent.map((c) => c.name).filter((n) => !/^(ReceiveMessage|DeleteMessage|ChangeMessageVisibility)/.test(n));
        const mutating = counted.mutating().filter((n) => !/^(DeleteMessage|ChangeMessageVisibility)/.test(n));
        await app.close();
        return { names, mutating };
      },
      cleanup: () => deleteSnsSqsResources(suite.fauxqs, serviceName),
    };
  }

  const queueUrl = async (name: string) => (await suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  const queueAttributes = async (name: string) =>
    (await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(name), AttributeNames: ['All'] }))).Attributes!;
  const topicArn = async (name: string) => {
    let token: string | undefined;
    do {
      const page = await suite.fauxqs.sns.send(new ListTopicsCommand({ NextToken: token }));
      const found = page.Topics?.find((t) => t.TopicArn!.endsWith(`:${name}`));
      if (found) return found.TopicArn!;
      token = page.NextToken;
    } while (token);
    throw new Error(`no topic ${name}`);
  };
  const subscriptionsOf = async (topic: string, queue: string) => {
    const endpoint = (await queueAttributes(queue)).QueueArn;
    const { Subscriptions = [] } = await suite.fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: await topicArn(topic) }));
    return Subscriptions.filter((s) => s.Endpoint === endpoint);
  };
  const subscriptionArn = async (topic: string, queue: string) => (await subscriptionsOf(topic, queue))[0]?.SubscriptionArn;
  const subscriptionPages = async () => {
    let pages = 0;
    let token: string | undefined;
    do {
      token = (await suite.fauxqs.sns.send(new ListSubscriptionsCommand({ NextToken: token }))).NextToken;
      pages += 1;
    } while (token);
    return pages;
  };

  it('a warm start makes at most 2 calls per subscription besides the listing pages, none of them mutating', async () => {
    const s = setup(12);
    try {
      const cold = await s.run();
      expect(cold.mutating).toEqual(expect.arrayContaining(['CreateTopic', 'CreateQueue', 'Subscribe']));
      const warm = await s.run();
      expect(warm.mutating).toEqual([]);
      const perSubscription = warm.names.filter((n) => !LISTINGS.has(n));
      expect(perSubscription.length).toBeLessThanOrEqual(2 * s.subscriptions);
      // what the listings and the fingerprint replaced: no per-queue URL, per-topic or per-queue tag look-up
      expect(perSubscription.filter((n) => /^(GetQueueUrl|GetTopicAttributes|ListSubscriptionsByTopic|ListQueueTags)$/.test(n))).toEqual(
        [],
      );
      expect(warm.names.filter((n) => n === 'ListSubscriptions').length).toBe(await subscriptionPages());
      expect(warm.names.filter((n) => n === 'ListQueues').length).toBeLessThanOrEqual(2);
    } finally {
      await s.cleanup();
    }
  });

  it('a provisioning call SNS keeps throttling after the SDK gave up is tried again in later rounds, and the start succeeds', async () => {
    const s = setup(1);
    try {
      const counted = countingBroker(suite.fauxqs, s.options);
      let refused = 0;
      (counted.broker.unwrap().sns as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
        (next: (args: object) => Promise<unknown>, context: { commandName?: string }) => async (args: object) => {
          // more refusals than snsSqs.maxAttempts (3): the SDK's own retries give up once
          if (context.commandName === 'ListSubscriptionsCommand' && refused < 4) {
            refused += 1;
            throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $fault: 'client', $metadata: { httpStatusCode: 400 } });
          }
          return next(args);
        },
        { step: 'finalizeRequest', priority: 'low', name: 'throttleListSubscriptions' },
      );
      const app = await startTestApp(fauxqsOptions(suite.fauxqs, s.options), [s.controller()], { broker: counted.broker });
      await app.close();
      expect(refused).toBe(4);
      expect(counted.sent.filter((c) => c.name === 'ListSubscriptions').length).toBeGreaterThanOrEqual(2);
    } finally {
      await s.cleanup();
    }
  });

  /** Adds a middleware to a counting broker's client that answers `command` itself (`answer`) or passes it on (undefined). */
  function intercept(
    counted: ReturnType<typeof countingBroker>,
    service: 'sns' | 'sqs',
    answer: (command: string, output?: Record<string, unknown>) => Record<string, unknown> | 'refuse' | undefined,
  ) {
    (counted.broker.unwrap()[service] as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
      (next: (args: object) => Promise<{ output: Record<string, unknown> }>, context: { commandName?: string }) => async (args: object) => {
        const command = context.commandName ?? '';
        if (answer(command) === 'refuse')
          throw Object.assign(new Error(`not allowed: ${command}`), {
            name: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
          });
        const result = await next(args);
        const changed = answer(command, result.output);
        return changed ? { ...result, output: changed } : result;
      },
      { step: 'finalizeRequest', priority: 'low', name: `intercept-${service}` },
    );
  }

  it('a start whose credentials may not list queues or subscriptions looks each up by name, cold and warm', async () => {
    const s = setup(2);
    try {
      const start = async () => {
        const counted = countingBroker(suite.fauxqs, s.options);
        const refuseListings = (command: string) => (/^List(Queues|Subscriptions)Command$/.test(command) ? 'refuse' : undefined);
        intercept(counted, 'sqs', refuseListings);
        intercept(counted, 'sns', refuseListings);
        const app = await startTestApp(fauxqsOptions(suite.fauxqs, s.options), [s.controller()], { broker: counted.broker });
        await app.close();
        return counted.sent.map((c) => c.name);
      };
      expect(await start()).toEqual(expect.arrayContaining(['CreateQueue', 'Subscribe']));
      const warm = await start();
      expect(warm).toEqual(expect.arrayContaining(['GetQueueUrl', 'ListSubscriptionsByTopic']));
      expect(warm.filter((n) => /^(Create|Set|Subscribe)/.test(n))).toEqual([]);
    } finally {
      await s.cleanup();
    }
  });

  it('a subscription the listing still shows after SNS deleted it is made again (the listing lags behind a deletion)', async () => {
    const s = setup(1);
    try {
      await s.run();
      const stale = await suite.fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: await topicArn(s.topic('t0')) }));
      await suite.fauxqs.sns.send(new UnsubscribeCommand({ SubscriptionArn: await subscriptionArn(s.topic('t0'), s.queue('t0')) }));
      const counted = countingBroker(suite.fauxqs, s.options);
      // the account-wide listing answers as it would before it caught up with the Unsubscribe
      intercept(counted, 'sns', (command, output) =>
        command === 'ListSubscriptionsCommand' && output
          ? { ...output, Subscriptions: [...((output.Subscriptions as object[]) ?? []), ...(stale.Subscriptions ?? [])] }
          : undefined,
      );
      const app = await startTestApp(fauxqsOptions(suite.fauxqs, s.options), [s.controller()], { broker: counted.broker });
      await app.close();
      expect(counted.mutating()).toContain('Subscribe');
      expect(await subscriptionArn(s.topic('t0'), s.queue('t0'))).toBeDefined();
    } finally {
      await s.cleanup();
    }
  });

  it('instances starting together, their topics made already, subscribe at once: one subscription each, none looked up per topic', async () => {
    const s = setup(3);
    const patterns = ['t0', 't1', 't2', 'shared-a', 'shared-b'];
    const apps: Awaited<ReturnType<typeof startTestApp>>[] = [];
    try {
      // no pass creates a topic here, so none of them takes a subscription as its own
      for (const pattern of patterns) await suite.fauxqs.sns.send(new CreateTopicCommand({ Name: s.topic(pattern) }));
      const instances = [1, 2, 3].map(() => countingBroker(suite.fauxqs, s.options));
      const started = await Promise.allSettled(
        instances.map((counted) => startTestApp(fauxqsOptions(suite.fauxqs, s.options), [s.controller()], { broker: counted.broker })),
      );
      for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;

      for (const pattern of ['t0', 't1', 't2']) expect(await subscriptionsOf(s.topic(pattern), s.queue(pattern))).toHaveLength(1);
      for (const pattern of ['shared-a', 'shared-b'])
        expect(await subscriptionsOf(s.topic(pattern), `${s.serviceName}-shared`)).toHaveLength(1);
      // an instance whose listing already shows another one's subscription syncs it instead of subscribing
      const calls = instances.map((counted) => counted.sent.map((c) => c.name));
      expect(calls.some((names) => names.includes('Subscribe'))).toBe(true);
      for (const names of calls) expect(names).not.toContain('ListSubscriptionsByTopic');
    } finally {
      for (const app of apps) await app.close();
      await s.cleanup();
    }
  });

  it('subscriptions made meanwhile that the listing does not show yet are joined, not duplicated, and brought to the plan', async () => {
    const s = setup(2);
    try {
      await s.run();
      const setAttribute = async (topic: string, queue: string, AttributeName: string, AttributeValue: string) =>
        suite.fauxqs.sns.send(
          new SetSubscriptionAttributesCommand({ SubscriptionArn: await subscriptionArn(topic, queue), AttributeName, AttributeValue }),
        );
      // made by another instance with other attributes: t0 with raw delivery on, t1 with another filter policy,
      // shared-a with a filter policy its plan does not have; shared-b as planned
      await setAttribute(s.topic('t0'), s.queue('t0'), 'RawMessageDelivery', 'true');
      await setAttribute(s.topic('t1'), s.queue('t1'), 'FilterPolicy', JSON.stringify({ kind: ['other'] }));
      await setAttribute(s.topic('shared-a'), `${s.serviceName}-shared`, 'FilterPolicy', JSON.stringify({ kind: ['other'] }));
      const counted = countingBroker(suite.fauxqs, s.options);
      // the account-wide listing lags: it shows none of them yet
      intercept(counted, 'sns', (command, output) =>
        command === 'ListSubscriptionsCommand' && output ? { ...output, Subscriptions: [] } : undefined,
      );
      const app = await startTestApp(fauxqsOptions(suite.fauxqs, s.options), [s.controller()], { broker: counted.broker });
      await app.close();

      const only = async (topic: string, queue: string) => {
        const found = await subscriptionsOf(topic, queue);
        expect(found).toHaveLength(1);
        const { Attributes = {} } = await suite.fauxqs.sns.send(
          new GetSubscriptionAttributesCommand({ SubscriptionArn: found[0].SubscriptionArn! }),
        );
        return Attributes;
      };
      const t0 = await only(s.topic('t0'), s.queue('t0'));
      expect(t0.RawMessageDelivery).toBe('false');
      expect(JSON.parse(t0.FilterPolicy!)).toEqual({ kind: ['k0'] });
      expect(JSON.parse((await only(s.topic('t1'), s.queue('t1'))).FilterPolicy!)).toEqual({ kind: ['k1'] });
      for (const pattern of ['shared-a', 'shared-b']) {
        const shared = await only(s.topic(pattern), `${s.serviceName}-shared`);
        expect(shared.FilterPolicy ?? '').toMatch(/^(\{\})?$/);
        expect(shared.RawMessageDelivery).toBe('false');
      }
      // fauxqs refuses the Subscribe of the three with other attributes, as SNS does, and they are looked up on their
      // topics; moto takes the attributes given (and the one a filter policy is left on is read back and repaired)
      const lookedUp = counted.sent.filter((c) => c.name === 'ListSubscriptionsByTopic').length;
      expect(lookedUp).toBe(emulator === 'fauxqs' ? 3 : 0);
    } finally {
      await s.cleanup();
    }
  });

  it('a warm start repairs a deleted subscription, a changed filter policy, a changed queue attribute and a deleted DLQ', async () => {
    const s = setup(4);
    try {
      await s.run();
      await suite.fauxqs.sns.send(new UnsubscribeCommand({ SubscriptionArn: await subscriptionArn(s.topic('t0'), s.queue('t0')) }));
      await suite.fauxqs.sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: await subscriptionArn(s.topic('t1'), s.queue('t1')),
          AttributeName: 'FilterPolicy',
          AttributeValue: '{"kind":["changed"]}',
        }),
      );
      await suite.fauxqs.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: await queueUrl(s.queue('t2')), Attributes: { VisibilityTimeout: '77' } }),
      );
      await suite.fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl: await queueUrl(`${s.queue('t3')}-dlq`) }));

      const repair = await s.run();
      expect(repair.mutating).toEqual(
        expect.arrayContaining(['Subscribe', 'SetSubscriptionAttributes', 'SetQueueAttributes', 'CreateQueue']),
      );
      expect(await subscriptionArn(s.topic('t0'), s.queue('t0'))).toBeDefined();
      const t1 = await suite.fauxqs.sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: await subscriptionArn(s.topic('t1'), s.queue('t1')) }),
      );
      expect(JSON.parse(t1.Attributes!.FilterPolicy!)).toEqual({ kind: ['k1'] });
      expect((await queueAttributes(s.queue('t2'))).VisibilityTimeout).toBe('30');
      const dlq = await queueAttributes(`${s.queue('t3')}-dlq`);
      expect(JSON.parse((await queueAttributes(s.queue('t3'))).RedrivePolicy!).deadLetterTargetArn).toBe(dlq.QueueArn);
      expect(dlq.MessageRetentionPeriod).toBe('1209600');

      // repaired: the next start is warm again
      expect((await s.run()).mutating).toEqual([]);
    } finally {
      await s.cleanup();
    }
  });
});
