import type { ChannelModel } from 'amqplib';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { MessagingModuleOptions, SubscriptionExtras } from '../../../lib/index.js';
import { startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { rawConnection } from '../../support/rabbitmq.js';
import { createRabbitMqUser, type RabbitMqUser } from '../../support/rabbitmq-users.js';
import { uniqueName } from '../../support/wait-for.js';
import { drainSqsQueue, numberIn, numbers, queueUrl } from './apps.js';
import { AWS_CREDENTIALS } from './logs.js';
import { deleteAmqpObjects, drainQueue } from './rabbit.js';

/** The fault scenarios that run on both transports (numbered as in the accounting lines). */
export type SharedScenario = 'kill' | 'term' | 'transient' | 'poison';

/** Poison a test puts on the queue around the envelope path, with the reason it must be dead-lettered for. */
export interface RawPoison {
  what: string;
  numbers: number[];
  reason: RegExp;
  send(): Promise<void>;
}

/** One transport as the shared fault scenarios drive it. */
export interface FaultTarget {
  /** The first word of every accounting line: `sns-sqs` or `amqp`. */
  readonly label: 'sns-sqs' | 'amqp';
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** What must never appear in a log line (the AWS secret key, the RabbitMQ password). */
  secrets(): string[];
  /** Module options on this transport with the scenario's tuning (concurrency / prefetch as each suite had it). */
  module(scenario: SharedScenario, options: Omit<MessagingModuleOptions, 'transport'>): MessagingModuleOptions;
  /** Subscription extras for `queueName` in the scenario (SQS gets its visibility timeout). */
  extras(scenario: SharedScenario, queueName: string, extras?: SubscriptionExtras): SubscriptionExtras;
  /** Milliseconds each handler of the child consumer takes in the kill scenario. */
  readonly killDelayMs: number;
  /** How long to wait for every confirmed message to be handled, per scenario. */
  waitMs(scenario: SharedScenario): number;
  /** What the accounting note adds for this transport in the scenario ('' or the SQS visibility timeout). */
  note(scenario: SharedScenario): string;
  /** Takes everything in a dead-letter queue: the message number each carries and its reason. */
  deadLettered(queue: string): Promise<Array<{ n: number; reason: string }>>;
  /** Raw bodies that cannot be decoded, sent to the poison scenario's queue and topics. */
  rawPoison(p: { queueName: string; strictTopic: string; plainTopic: string }): RawPoison[];
}

const wrongEnvelope = (n: number) =>
  JSON.stringify({ service: { name: 'x' }, metadata: { protocol_version: 'nope' }, data: `poison-${n}` });

export function snsSqsFaultTarget(): FaultTarget {
  let fauxqs: Fauxqs;
  const snsSqs = () => ({ region: 'us-east-1', endpoint: fauxqs.endpoint, credentials: AWS_CREDENTIALS, waitTimeSeconds: 1 });
  const tuning: Record<SharedScenario, { concurrency: number; visibilityTimeout: number; waitMs: number }> = {
    kill: { concurrency: 10, visibilityTimeout: 3, waitMs: 90_000 },
    term: { concurrency: 20, visibilityTimeout: 120, waitMs: 90_000 },
    transient: { concurrency: 20, visibilityTimeout: 10, waitMs: 120_000 },
    poison: { concurrency: 20, visibilityTimeout: 10, waitMs: 120_000 },
  };
  const topicArn = async (topic: string) => {
    const { Topics = [] } = await fauxqs.sns.send(new ListTopicsCommand({}));
    return Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;
  };
  return {
    label: 'sns-sqs',
    async setUp() {
      fauxqs = await startFauxqs();
    },
    async tearDown() {
      await fauxqs?.stop();
    },
    secrets: () => [AWS_CREDENTIALS.secretAccessKey],
    module: (scenario, options) => ({ concurrency: tuning[scenario].concurrency, ...options, transport: 'sns-sqs', snsSqs: snsSqs() }),
    extras: (scenario, queueName, extras = {}) => ({ queueName, visibilityTimeout: tuning[scenario].visibilityTimeout, ...extras }),
    killDelayMs: 15,
    waitMs: (scenario) => tuning[scenario].waitMs,
    note: (scenario) => `visibilityTimeout ${tuning[scenario].visibilityTimeout} s`,
    async deadLettered(queue) {
      return (await drainSqsQueue(fauxqs.sqs, queue)).map((m) => ({
        n: numberIn(m.Body ?? '')!,
        reason: m.MessageAttributes?.dead_letter_reason?.StringValue ?? '',
      }));
    },
    rawPoison({ queueName, strictTopic }) {
      const notJson = numbers(10, 300_000);
      const notEnvelope = numbers(10, 400_000);
      const wrong = numbers(10, 500_000);
      return [
        {
          what: 'non-JSON SQS bodies',
          numbers: notJson,
          reason: /not JSON/,
          async send() {
            const url = await queueUrl(fauxqs.sqs, queueName);
            await Promise.all(
              notJson.map((n) => fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: `not json {poison-${n}` }))),
            );
          },
        },
        {
          what: 'non-envelope SNS messages',
          numbers: notEnvelope,
          reason: /cannot decode/,
          async send() {
            const arn = await topicArn(strictTopic);
            await Promise.all(
              notEnvelope.map((n) => fauxqs.sns.send(new PublishCommand({ TopicArn: arn, Message: `plain text poison-${n}` }))),
            );
          },
        },
        {
          what: 'wrong-envelope SNS messages',
          numbers: wrong,
          reason: /cannot decode/,
          async send() {
            const arn = await topicArn(strictTopic);
            await Promise.all(wrong.map((n) => fauxqs.sns.send(new PublishCommand({ TopicArn: arn, Message: wrongEnvelope(n) }))));
          },
        },
      ];
    },
  };
}

/** AMQP as a RabbitMQ user of our own (its password is the secret) on an exchange of our own. */
export function amqpFaultTarget(): FaultTarget {
  let user: RabbitMqUser;
  const exchange = uniqueName('f-ex');
  const queues: string[] = [];
  const tuning: Record<SharedScenario, { prefetch: number; waitMs: number }> = {
    kill: { prefetch: 20, waitMs: 60_000 },
    term: { prefetch: 20, waitMs: 60_000 },
    transient: { prefetch: 50, waitMs: 90_000 },
    poison: { prefetch: 50, waitMs: 90_000 },
  };
  const publishRaw = async (bodies: Array<{ topic: string; body: Buffer }>) => {
    const raw: ChannelModel = await rawConnection();
    try {
      const channel = await raw.createConfirmChannel();
      for (const { topic, body } of bodies) channel.publish(exchange, topic, body, { persistent: true });
      await channel.waitForConfirms();
      await channel.close();
    } finally {
      await raw.close();
    }
  };
  return {
    label: 'amqp',
    async setUp() {
      user = await createRabbitMqUser('faults');
    },
    async tearDown() {
      await deleteAmqpObjects(
        queues.flatMap((q) => [q, `${q}-retry`, `${q}-dlq`]),
        exchange,
      );
      await user?.remove();
    },
    secrets: () => [user.password],
    module: (scenario, options) => ({
      ...options,
      transport: 'amqp',
      amqp: {
        url: user.url,
        exchange,
        prefetch: tuning[scenario].prefetch,
        ...(scenario === 'kill' || scenario === 'term' ? { reconnectDelay: { initial: 200, max: 1000 } } : {}),
      },
    }),
    extras: (_scenario, queueName, extras = {}) => {
      queues.push(queueName);
      return { queueName, ...extras };
    },
    killDelayMs: 5,
    waitMs: (scenario) => tuning[scenario].waitMs,
    note: () => '',
    async deadLettered(queue) {
      return (await drainQueue(queue)).map((m) => ({
        n: numberIn(m.content.toString('latin1'))!,
        reason: String(m.headers['x-dead-letter-reason'] ?? ''),
      }));
    },
    rawPoison({ strictTopic, plainTopic }) {
      const notJson = numbers(10, 300_000);
      const wrong = numbers(10, 500_000);
      const binary = numbers(10, 600_000);
      return [
        {
          what: 'non-JSON',
          numbers: notJson,
          reason: /cannot decode/,
          send: () => publishRaw(notJson.map((n) => ({ topic: strictTopic, body: Buffer.from(`not json {poison-${n}`) }))),
        },
        {
          what: 'wrong envelope',
          numbers: wrong,
          reason: /cannot decode/,
          send: () => publishRaw(wrong.map((n) => ({ topic: strictTopic, body: Buffer.from(wrongEnvelope(n)) }))),
        },
        {
          what: 'binary bodies',
          numbers: binary,
          reason: /cannot decode/,
          send: () =>
            publishRaw(
              binary.map((n) => ({
                topic: plainTopic,
                body: Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.from(`poison-${n}`)]),
              })),
            ),
        },
      ];
    },
  };
}
