import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { MessagingClient, MessagingServer } from '../../lib/index.js';
import { controllerFor } from '../support/controllers.js';
import { type Fauxqs, startFauxqs } from '../support/fauxqs.js';
import { drainSqsQueue, numberIn, numbers, publishNumbered, queueUrl } from './support/apps.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { AWS_CREDENTIALS, CaptureLogger, linesWithSecrets } from './support/logs.js';

/**
 * SNS/SQS transient API errors injected through an SDK middleware on the clients that MessagingServer.unwrap() and
 * MessagingClient.unwrap() return, inside the SDK's retry middleware and outside its deserializer (so a response
 * dropped after the service did the work is fully read first): the SDK's own retry (maxAttempts) takes them.
 * Also: the queue policy written at provisioning, read back.
 */
const COUNT = 2000;
const TARGETS = new Set(['ReceiveMessageCommand', 'DeleteMessageBatchCommand', 'PublishBatchCommand']);

interface Injector {
  calls: Record<string, number>;
  injected: Record<string, number>;
  /** Attempts that came after an injected failure of the same request, with the delay the SDK waited. */
  retries: number[];
}

const throttling = () =>
  Object.assign(new Error('Rate exceeded (injected)'), {
    name: 'ThrottlingException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });
const internalFailure = () =>
  Object.assign(new Error('We encountered an internal error (injected)'), {
    name: 'InternalFailure',
    $fault: 'server',
    $metadata: { httpStatusCode: 500 },
  });

/** Fails each PublishBatch attempt (at the same place as injectFaults) for which `failure()` returns an error; counts them. */
function failPublishes(client: SNSClient, failure: () => Error | undefined): { failed: number } {
  const state = { failed: 0 };
  (client as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
    (next: (args: object) => Promise<unknown>, context: { commandName?: string }) => async (args: object) => {
      const error = context.commandName === 'PublishBatchCommand' ? failure() : undefined;
      if (!error) return next(args);
      state.failed += 1;
      throw error;
    },
    { step: 'finalizeRequest', priority: 'low', name: 'publishFailures' },
  );
  return state;
}

/** The publisher's warnings for the rounds it retried after the SDK gave up, for `topic`. */
const ROUND = (topic: string) =>
  new RegExp(
    `SNS did not take (a message|\\d+ messages) for topic "${topic}" \\(.*\\); retrying (it|them) in \\d+-\\d+ ms \\(round \\d of 2\\)`,
  );

function injectFaults(clients: Array<SNSClient | SQSClient>): Injector {
  const state: Injector = { calls: {}, injected: {}, retries: [] };
  const failedAt = new WeakMap<object, number>();
  for (const client of clients) {
    (client as unknown as { middlewareStack: { add: Function } }).middlewareStack.add(
      (next: (args: { input: object }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: object }) => {
        const name = context.commandName ?? '';
        if (!TARGETS.has(name)) return next(args);
        const previous = failedAt.get(args.input);
        if (previous !== undefined) {
          state.retries.push(Date.now() - previous);
          failedAt.delete(args.input);
        }
        const k = (state.calls[name] = (state.calls[name] ?? 0) + 1);
        if (k % 5 !== 0) return next(args);
        state.injected[name] = (state.injected[name] ?? 0) + 1;
        // every other injected failure comes after the service did the work (the response is lost), the rest before
        if (k % 10 === 0) await next(args);
        failedAt.set(args.input, Date.now());
        throw k % 15 === 0 ? throttling() : internalFailure();
      },
      { step: 'finalizeRequest', priority: 'low', name: 'faultInjection' },
    );
  }
  return state;
}

describe('faults: SNS+SQS API errors and queue policy', () => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await fauxqs?.stop();
    expect(linesWithSecrets(logger.lines, [AWS_CREDENTIALS.secretAccessKey])).toEqual([]);
  });

  const snsSqs = () => ({
    region: 'us-east-1',
    endpoint: fauxqs.endpoint,
    credentials: AWS_CREDENTIALS,
    waitTimeSeconds: 1,
    maxAttempts: 5,
  });

  it('6. throttling and 5xx on ReceiveMessage, DeleteMessageBatch and PublishBatch: retried by the SDK, nothing lost', async () => {
    const topic = uniqueName('f-api');
    const handled: number[] = [];
    const app = await startTestApp(
      { transport: 'sns-sqs', serviceName: uniqueName('svc'), concurrency: 20, snsSqs: snsSqs() },
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName: topic, visibilityTimeout: 3 },
            handle: (d: { n: number }) => {
              handled.push(d.n);
            },
          },
        ]),
      ],
      { logger },
    );
    apps.push(app);
    const server = app.get(MessagingServer).unwrap<{ sns: SNSClient; sqs: SQSClient }>();
    const client = app.get(MessagingClient).unwrap<{ sns: SNSClient; sqs: SQSClient }>();
    const injector = injectFaults([...new Set([server.sqs, client.sns])]);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(COUNT), { concurrency: 30 });
    await waitFor(
      () => {
        const h = new Set(handled);
        return [...confirmed].every((n) => h.has(n));
      },
      { timeoutMs: 90_000, intervalMs: 250, what: 'every confirmed message handled' },
    ).catch(() => undefined);
    await app.get(MessagingServer).close();
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    const injected = Object.values(injector.injected).reduce((a, b) => a + b, 0);
    const rounds = logger.count('WARN', ROUND(topic));
    const result = account('sns-sqs 6 API errors', {
      published: COUNT,
      confirmed,
      handled,
      deadLettered: dead,
      rejected: rejected.size,
      note: `injected ${Object.entries(injector.injected)
        .map(([k, v]) => `${v} ${k.replace(/Command$/, '')}`)
        .join(
          ', ',
        )}; ${injector.retries.length} SDK retries, waited ${Math.min(...injector.retries)}–${Math.max(...injector.retries)} ms; ${rounds} publisher rounds after the SDK gave up`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
    for (const name of TARGETS) expect(injector.injected[name]).toBeGreaterThan(0);
    // every injected failure was retried, by the SDK or (a PublishBatch it gave up on) by a publisher round; a receive
    // cut short by close() may be one exception, a delete's last round after the SDK gave up (a fresh command, which the
    // injector does not count as a retry) another
    expect(injector.retries.length + rounds).toBeGreaterThanOrEqual(injected - 2);
    // no receive or delete failed for good, no emit failed: the SDK absorbed the faults, and where its attempts all fell
    // inside the every-fifth-call pattern (5xx backoff is tens of ms; seen under CPU load) the publisher's rounds did
    expect(logger.lines.filter((l) => /Receiving from .* failed|Could not delete|did not accept/.test(l))).toEqual([]);
  }, 150_000);

  /** An app consuming `topic` (handled numbers pushed to `handled`), its SNS client for fault injection. */
  async function consumingApp(topic: string, handled: number[], maxAttempts: number) {
    const app = await startTestApp(
      { transport: 'sns-sqs', serviceName: uniqueName('svc'), snsSqs: { ...snsSqs(), maxAttempts } },
      [controllerFor([{ pattern: topic, extras: { queueName: topic }, handle: (d: { n: number }) => void handled.push(d.n) }])],
      { logger },
    );
    apps.push(app);
    return { app, sns: app.get(MessagingClient).unwrap<{ sns: SNSClient }>().sns };
  }

  it("6b. a 1.5 s burst of 5xx on every PublishBatch outlasts the SDK's 5 attempts (its 5xx backoff totals < 1 s): the publisher's rounds ride it out, every emit confirmed", async () => {
    const topic = uniqueName('f-burst');
    const handled: number[] = [];
    const { app, sns } = await consumingApp(topic, handled, 5);
    let burstUntil = 0;
    const burst = failPublishes(sns, () => (Date.now() < burstUntil ? internalFailure() : undefined));
    burstUntil = Date.now() + 1500;
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(50), { concurrency: 50 });
    expect([...rejected.values()]).toEqual([]);
    expect(confirmed.size).toBe(50);
    // the SDK spent all its attempts inside the burst and gave up; the publisher waited and tried again
    expect(burst.failed).toBeGreaterThanOrEqual(5);
    expect(logger.count('WARN', ROUND(topic))).toBeGreaterThan(0);
    await waitFor(() => new Set(handled).size === 50, { timeoutMs: 30_000, what: 'all 50 handled' });
  }, 60_000);

  it("6c. PublishBatch throttled without end: each emit rejects with a PublishError saying SNS throttles and what to change, after the SDK's attempts and the publisher's rounds", async () => {
    const topic = uniqueName('f-throttled');
    const { app, sns } = await consumingApp(topic, [], 2);
    const throttled = failPublishes(sns, throttling);
    const started = Date.now();
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(3), { concurrency: 3 });
    const elapsed = Date.now() - started;
    expect(confirmed.size).toBe(0);
    expect([...rejected.keys()].sort()).toEqual([0, 1, 2]);
    for (const message of rejected.values())
      expect(message).toBe(
        `SNS did not accept the message for topic "${topic}": ThrottlingException: Rate exceeded (injected) (still failing after 2 more rounds of snsSqs.maxAttempts attempts each); SNS is throttling these calls: publish at a lower rate, raise snsSqs.maxAttempts, or ask AWS for a higher quota`,
      );
    // each message: 3 rounds of 2 attempts; the rounds waited at least 0.5 + 2 s, the SDK's throttling backoff up to 1 s a round
    expect(throttled.failed).toBeGreaterThanOrEqual(6);
    expect(elapsed).toBeGreaterThanOrEqual(2500);
    expect(elapsed).toBeLessThan(20_000);
  }, 60_000);

  it('the queue policy allows only sqs:SendMessage from the subscribed topic ARNs', async () => {
    const queueName = uniqueName('f-policy');
    const topics = [uniqueName('f-policy-a'), uniqueName('f-policy-b')];
    const other = uniqueName('f-policy-other');
    const app = await startTestApp(
      { transport: 'sns-sqs', serviceName: uniqueName('svc'), snsSqs: snsSqs() },
      [
        controllerFor([
          ...topics.map((pattern) => ({ pattern, extras: { queueName }, handle: () => undefined })),
          { pattern: other, extras: { queueName: `${queueName}-x` }, handle: () => undefined },
        ]),
      ],
      { logger },
    );
    apps.push(app);
    const { Topics = [] } = await fauxqs.sns.send(new ListTopicsCommand({}));
    const arnOf = (t: string) => Topics.map((x) => x.TopicArn!).find((arn) => arn.endsWith(`:${t}`))!;
    const { Attributes = {} } = await fauxqs.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(fauxqs.sqs, queueName), AttributeNames: ['Policy', 'QueueArn'] }),
    );
    const policy = JSON.parse(Attributes.Policy!);
    const statements = [policy.Statement].flat();
    expect(statements).toHaveLength(1);
    const [s] = statements;
    expect(s.Effect).toBe('Allow');
    expect([s.Action].flat()).toEqual(['sqs:SendMessage']);
    expect([s.Resource].flat()).toEqual([Attributes.QueueArn]);
    expect(s.Principal).toEqual({ Service: 'sns.amazonaws.com' });
    expect(s.NotAction ?? s.NotPrincipal ?? s.NotResource).toBeUndefined();
    expect(Object.keys(s.Condition)).toEqual(['ArnEquals']);
    expect(Object.keys(s.Condition.ArnEquals)).toEqual(['aws:SourceArn']);
    expect([s.Condition.ArnEquals['aws:SourceArn']].flat().sort()).toEqual(topics.map(arnOf).sort());
    expect([s.Condition.ArnEquals['aws:SourceArn']].flat()).not.toContain(arnOf(other));
    console.log(`queue policy of ${queueName}: ${Attributes.Policy}`);
  });
});
