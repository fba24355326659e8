import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { MessagingServer } from '../../lib/index.js';
import { type Fauxqs, startFauxqs } from '../support/fauxqs.js';
import { drainSqsQueue, numberIn, numbers, publishNumbered, queueUrl } from './support/apps.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { poisonController, slowController, transientController } from './support/controllers.js';
import { AWS_CREDENTIALS, CaptureLogger, linesWithSecrets } from './support/logs.js';

/** Handler-side faults on SNS+SQS (fauxqs, in-process): transient failures, poison messages, slow handlers. */
const COUNT = 2000;

describe('faults: SNS+SQS handlers', () => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];

  beforeAll(async () => { fauxqs = await startFauxqs(); });
  afterEach(async () => { await Promise.all(apps.splice(0).map((a) => a.close())); });
  afterAll(async () => {
    await fauxqs?.stop();
    expect(linesWithSecrets(logger.lines, [AWS_CREDENTIALS.secretAccessKey])).toEqual([]);
  });

  const snsSqs = () => ({ region: 'us-east-1', endpoint: fauxqs.endpoint, credentials: AWS_CREDENTIALS, waitTimeSeconds: 1 });
  const topicArn = async (topic: string) => {
    const { Topics = [] } = await fauxqs.sns.send(new ListTopicsCommand({}));
    return Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;
  };

  it('3. transient handler failures: all handled after backoff-spaced retries, none dead-lettered', async () => {
    const topic = uniqueName('f-transient');
    const retryBackoff = 0.2;
    const state = { attempts: new Map<number, number[]>(), handled: [] as number[] };
    const app = await startTestApp({ transport: 'sns-sqs', serviceName: uniqueName('svc'), retryBackoff, concurrency: 20, maxReceiveCount: 5, snsSqs: snsSqs() }, [transientController(topic, { queueName: topic, visibilityTimeout: 10 }, state)], { logger });
    apps.push(app);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(COUNT), { concurrency: 20 });
    await waitFor(() => [...confirmed].every((n) => state.handled.includes(n)) || undefined, { timeoutMs: 120_000, intervalMs: 250, what: 'every message handled' }).catch(() => undefined);
    await app.get(MessagingServer).close();
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    // the gap before retry k is at least retryBackoff·2^(k-1) seconds
    const gaps = [...state.attempts.values()].flatMap((t) => t.slice(1).map((at, i) => ({ gap: at - t[i], min: retryBackoff * 1000 * 2 ** i })));
    const short = gaps.filter((g) => g.gap < g.min);
    const minGap = Math.min(...gaps.map((g) => g.gap));
    const result = account('sns-sqs 3 transient failures', {
      published: COUNT, confirmed, handled: state.handled, deadLettered: dead, rejected: rejected.size,
      note: `${gaps.length} retries, shortest gap ${minGap} ms for retryBackoff ${retryBackoff} s`,
    });
    expect(result.lost).toEqual([]);
    expect(rejected.size).toBe(0);
    expect(dead).toEqual([]);
    expect(gaps.length).toBe(COUNT + COUNT / 10);
    expect(short).toEqual([]);
  }, 180_000);

  it('4. poison messages in a good stream: every poison message dead-lettered with its reason, every good one handled', async () => {
    const strict = uniqueName('f-poison-strict');
    const plain = uniqueName('f-poison-plain');
    const queueName = uniqueName('f-poison');
    const handled: number[] = [];
    const app = await startTestApp({ transport: 'sns-sqs', serviceName: uniqueName('svc'), retryBackoff: 0.2, concurrency: 20, snsSqs: snsSqs() }, [poisonController(strict, plain, { queueName, maxReceiveCount: 3, visibilityTimeout: 10 }, handled)], { logger });
    apps.push(app);
    const url = await queueUrl(fauxqs.sqs, queueName);
    const strictArn = await topicArn(strict);
    const poison = { strictPipe: numbers(20, 100_000), plainPipe: numbers(20, 200_000), notJson: numbers(10, 300_000), notEnvelope: numbers(10, 400_000), wrongEnvelope: numbers(10, 500_000) };
    const good = publishNumbered(app, strict, numbers(COUNT / 2), { concurrency: 10 });
    const goodPlain = publishNumbered(app, plain, numbers(COUNT / 2, COUNT / 2), { concurrency: 10 });
    const badStrict = publishNumbered(app, strict, poison.strictPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    const badPlain = publishNumbered(app, plain, poison.plainPipe, { concurrency: 2, payload: (n) => ({ n: `poison-${n}` }) });
    await Promise.all([
      ...poison.notJson.map((n) => fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `not json {poison-${n}` }))),
      ...poison.notEnvelope.map((n) => fauxqs.sns.send(new PublishCommand({ TopicArn: strictArn, Message: `plain text poison-${n}` }))),
      ...poison.wrongEnvelope.map((n) => fauxqs.sns.send(new PublishCommand({ TopicArn: strictArn, Message: JSON.stringify({ service: { name: 'x' }, metadata: { protocol_version: 'nope' }, data: `poison-${n}` }) }))),
    ]);
    const results = await Promise.all([good, goodPlain, badStrict, badPlain]);
    const confirmed = results.flatMap((r) => [...r.confirmed]);
    const rejected = results.reduce((sum, r) => sum + r.rejected.size, 0);
    const allPoison = Object.values(poison).flat();
    const dlq: Array<{ n: number; reason: string }> = [];
    await waitFor(async () => {
      dlq.push(...(await drainSqsQueue(fauxqs.sqs, `${queueName}-dlq`)).map((m) => ({ n: numberIn(m.Body ?? '')!, reason: m.MessageAttributes?.dead_letter_reason?.StringValue ?? '' })));
      return dlq.length >= allPoison.length && numbers(COUNT).every((n) => handled.includes(n));
    }, { timeoutMs: 120_000, intervalMs: 500, what: 'poison in the DLQ and good messages handled' }).catch(() => undefined);
    // the consumer still runs: a message published after all the poison is handled
    const after = await publishNumbered(app, strict, [COUNT], {});
    await waitFor(() => handled.includes(COUNT), { timeoutMs: 20_000, what: 'a good message after the poison' });
    await app.get(MessagingServer).close();
    const reasonOf = new Map(dlq.map((d) => [d.n, d.reason]));
    const result = account('sns-sqs 4 poison messages', {
      published: COUNT + 1 + poison.strictPipe.length + poison.plainPipe.length, confirmed: [...confirmed, ...after.confirmed], handled, deadLettered: dlq.map((d) => d.n), rejected,
      note: `poison: ${poison.strictPipe.length} MessagingValidationPipe, ${poison.plainPipe.length} ValidationPipe, raw ${poison.notJson.length} non-JSON SQS bodies, ${poison.notEnvelope.length} + ${poison.wrongEnvelope.length} non-envelope SNS messages`,
    });
    expect(result.lost).toEqual([]);
    expect(new Set(dlq.map((d) => d.n))).toEqual(new Set(allPoison));
    expect(result.duplicates).toBe(0);
    for (const n of poison.strictPipe) expect(reasonOf.get(n)).toMatch(/payload failed validation/);
    for (const n of poison.plainPipe) expect(reasonOf.get(n)).toMatch(/failed 3 time/);
    for (const n of poison.notJson) expect(reasonOf.get(n)).toMatch(/not JSON/);
    for (const n of [...poison.notEnvelope, ...poison.wrongEnvelope]) expect(reasonOf.get(n)).toMatch(/cannot decode/);
  }, 180_000);

  it('7. slow handlers longer than the visibility timeout: the heartbeat keeps them invisible, each handled once', async () => {
    const topic = uniqueName('f-slow');
    const invocations: number[] = [];
    const handled: number[] = [];
    const slowCount = 50;
    const app = await startTestApp({ transport: 'sns-sqs', serviceName: uniqueName('svc'), concurrency: slowCount, snsSqs: snsSqs() }, [slowController(topic, { queueName: topic, visibilityTimeout: 2 }, 5000, invocations, handled)], { logger });
    apps.push(app);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(slowCount), { concurrency: 10 });
    await waitFor(() => handled.length >= slowCount, { timeoutMs: 60_000, intervalMs: 200, what: 'all slow messages handled' }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 3000)); // a lost heartbeat would show as a redelivery within one more visibility timeout
    await app.get(MessagingServer).close();
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    const result = account('sns-sqs 7 slow handlers', {
      published: slowCount, confirmed, handled, deadLettered: dead, rejected: rejected.size,
      note: `${slowCount} slow messages (not 2,000): 5 s handlers, visibilityTimeout 2 s, ${invocations.length} invocations`,
    });
    expect(result.lost).toEqual([]);
    expect(invocations.length).toBe(slowCount);
    expect(result.duplicates).toBe(0);
  }, 120_000);
});
