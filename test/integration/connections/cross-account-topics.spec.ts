import 'reflect-metadata';
import { type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { SNSClient, CreateTopicCommand, DeleteTopicCommand, ListSubscriptionsCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import {
  MessagingClient,
  MessagingModule,
  MessagingOptionsError,
  ProvisioningError,
  TopologyVerificationError,
  type MessagingContext,
} from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { tryStartModuleApp } from '../../support/apps.js';
import { fauxqsOptions, startFauxqs, type Fauxqs, type FauxqsAppOptions } from '../../support/fauxqs.js';
import { MOTO_IAM_CALLS_PER_KEY, motoAccessKey, startMoto } from '../../support/moto.js';
import { deleteSnsSqsResources } from '../../support/emulators.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { createVhost, Publishers } from './connection-support.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';

const ACCOUNT_A = '111111111111';
const ACCOUNT_B = '222222222222';
const REGION_A = 'eu-west-1';
const REGION_B = 'us-east-2';
const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

const apps: INestApplication[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function start(metadata: ModuleMetadata): Promise<{ app: INestApplication; error?: unknown }> {
  const started = await tryStartModuleApp(metadata);
  apps.push(started.app);
  return started;
}

/** The queue policy's statements, parsed. */
async function queuePolicyOf(sqs: SQSClient, queueName: string): Promise<{ url: string; arn: string; statements: any[] }> {
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  const { Attributes = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['Policy', 'QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes.QueueArn!, statements: Attributes.Policy ? JSON.parse(Attributes.Policy).Statement : [] };
}

/** A topic named by ARN in another account and region: the queue, its policy, its subscription, verify (moto). */
describe('topicArn: a queue in account A subscribed to a topic of account B in another region (moto)', () => {
  let moto: Fauxqs;
  let keyA: { accessKeyId: string; secretAccessKey: string };
  let keyB: { accessKeyId: string; secretAccessKey: string };
  let snsA: SNSClient;
  let sqsA: SQSClient;
  let snsB: SNSClient;

  beforeAll(async () => {
    moto = await startMoto();
    [keyA, keyB] = await Promise.all([
      motoAccessKey(moto.endpoint, ACCOUNT_A, 'service-a', ALLOW_ALL),
      motoAccessKey(moto.endpoint, ACCOUNT_B, 'partner-b', ALLOW_ALL),
    ]);
    snsA = new SNSClient({ region: REGION_B, endpoint: moto.endpoint, credentials: keyA });
    sqsA = new SQSClient({ region: REGION_A, endpoint: moto.endpoint, credentials: keyA });
    snsB = new SNSClient({ region: REGION_B, endpoint: moto.endpoint, credentials: keyB });
  });
  afterAll(async () => {
    for (const client of [snsA, sqsA, snsB]) client?.destroy();
    await moto?.stop();
  });

  const options = (credentials: typeof keyA, region: string, extra: Partial<FauxqsAppOptions> = {}) =>
    fauxqsOptions(moto, {
      serviceName: 'orders-service',
      ...extra,
      snsSqs: { endpoint: moto.endpoint, region, credentials, waitTimeSeconds: 1 },
    });

  it('creates the queue in its own account and region, allows exactly the foreign topic, subscribes to it and verifies it', async () => {
    const topic = uniqueName('partner-orders');
    const { TopicArn } = await snsB.send(new CreateTopicCommand({ Name: topic }));
    expect(TopicArn).toBe(`arn:aws:sns:${REGION_B}:${ACCOUNT_B}:${topic}`);
    const prefix = uniqueName('xacct');
    const controller = controllerFor([{ pattern: 'partner-order', extras: { topicArn: TopicArn! }, handle: () => undefined }]);
    try {
      const { error } = await start({
        imports: [MessagingModule.forRoot(options(keyA, REGION_A, { queueNamePrefix: `${prefix}-` }))],
        controllers: [controller],
      });
      expect(error).toBeUndefined();

      const queueName = `${prefix}-orders-service--partner-order`;
      const { arn, statements } = await queuePolicyOf(sqsA, queueName);
      expect(arn).toBe(`arn:aws:sqs:${REGION_A}:${ACCOUNT_A}:${queueName}`);
      // exactly one statement letting SNS send, from exactly that topic ARN
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: arn,
          Condition: { ArnEquals: { 'aws:SourceArn': TopicArn } },
        }),
      ]);
      // account A's own subscription, in the topic's region, to account B's topic
      const { Subscriptions = [] } = await snsA.send(new ListSubscriptionsCommand({}));
      expect(Subscriptions.filter((s) => s.Endpoint === arn)).toEqual([
        expect.objectContaining({ TopicArn, Protocol: 'sqs', Endpoint: arn, Owner: ACCOUNT_A }),
      ]);
      await Promise.all(apps.splice(0).map((app) => app.close()));

      // verify: reads only, finds everything as it should be
      const verified = await start({
        imports: [MessagingModule.forRoot(options(keyA, REGION_A, { queueNamePrefix: `${prefix}-`, provisioning: 'verify' }))],
        controllers: [controller],
      });
      expect(verified.error).toBeUndefined();
      await Promise.all(apps.splice(0).map((app) => app.close()));

      // a queue policy that no longer names the topic fails verify, naming the topic ARN it expected
      const { url } = await queuePolicyOf(sqsA, queueName);
      await sqsA.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: '' } }));
      const broken = await start({
        imports: [MessagingModule.forRoot(options(keyA, REGION_A, { queueNamePrefix: `${prefix}-`, provisioning: 'verify' }))],
        controllers: [controller],
      });
      expect(broken.error).toBeInstanceOf(TopologyVerificationError);
      expect((broken.error as Error).message).toContain(`aws:SourceArn ${TopicArn}`);
    } finally {
      await deleteSnsSqsResources({ sns: snsA, sqs: sqsA }, prefix);
      await snsB.send(new DeleteTopicCommand({ TopicArn }));
    }
  });

  it('refuses a topic of another partition before any call: SNS delivers only within one partition', async () => {
    const prefix = uniqueName('partition');
    const controller = controllerFor([
      { pattern: 'cn-order', extras: { topicArn: 'arn:aws-cn:sns:cn-north-1:222222222222:orders' }, handle: () => undefined },
    ]);
    try {
      const { error } = await start({
        imports: [MessagingModule.forRoot(options(keyA, REGION_A, { queueNamePrefix: `${prefix}-` }))],
        controllers: [controller],
      });
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect((error as MessagingOptionsError).option).toBe("@EventPattern('cn-order').topicArn");
      expect((error as Error).message).toContain("is in partition 'aws-cn' but the connection's queues are in 'aws'");
    } finally {
      await deleteSnsSqsResources({ sns: snsA, sqs: sqsA }, prefix);
    }
  });
});

/** SNS denies the subscribe (a topic policy or the caller's IAM policy): the start fails with the statement the owner would add. */
describe('topicArn: a denied subscribe (moto enforcing IAM)', () => {
  let moto: Fauxqs;
  let keyA: { accessKeyId: string; secretAccessKey: string };
  let keyB: { accessKeyId: string; secretAccessKey: string };

  beforeAll(async () => {
    // the IAM calls that make the two users go unchecked; every call after them is checked against their policies
    moto = await startMoto({ INITIAL_NO_AUTH_ACTION_COUNT: String(2 * MOTO_IAM_CALLS_PER_KEY) });
    keyA = await motoAccessKey(moto.endpoint, ACCOUNT_A, 'service-a', {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: '*', Resource: '*' },
        { Effect: 'Deny', Action: 'sns:Subscribe', Resource: '*' },
      ],
    });
    keyB = await motoAccessKey(moto.endpoint, ACCOUNT_B, 'partner-b', ALLOW_ALL);
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('fails the start with a ProvisioningError naming both causes, with the topic policy statement that would allow it', async () => {
    const snsB = new SNSClient({ region: REGION_B, endpoint: moto.endpoint, credentials: keyB });
    const topic = uniqueName('partner-orders');
    const { TopicArn } = await snsB.send(new CreateTopicCommand({ Name: topic }));
    const prefix = uniqueName('refused');
    const controller = controllerFor([{ pattern: 'partner-order', extras: { topicArn: TopicArn! }, handle: () => undefined }]);
    try {
      const { error } = await start({
        imports: [
          MessagingModule.forRoot(
            fauxqsOptions(moto, {
              serviceName: 'orders-service',
              queueNamePrefix: `${prefix}-`,
              snsSqs: { endpoint: moto.endpoint, region: REGION_A, credentials: keyA, waitTimeSeconds: 1, maxAttempts: 1 },
            }),
          ),
        ],
        controllers: [controller],
      });
      expect(error).toBeInstanceOf(ProvisioningError);
      const refusal = error as ProvisioningError;
      const queueArn = `arn:aws:sqs:${REGION_A}:${ACCOUNT_A}:${prefix}-orders-service--partner-order`;
      const statement = {
        Sid: `AllowSqsSubscribeFrom${ACCOUNT_A}`,
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT_A}:root` },
        Action: 'sns:Subscribe',
        Resource: TopicArn,
        Condition: { StringEquals: { 'sns:Protocol': 'sqs', 'sns:Endpoint': queueArn } },
      };
      // here the IAM policy of account A denies it; on AWS the topic's policy may as well: SNS says AccessDenied for both
      expect((refusal as Error).message).toContain(`Subscribe ${queueArn} to ${TopicArn}: SNS denied the subscription (`);
      expect((refusal as Error).message).toContain(
        `Either the topic's policy does not let this account subscribe, and its owner adds this statement to the topic policy of ${TopicArn}: ${JSON.stringify(statement)}; or the IAM policy of these credentials does not allow sns:Subscribe on it`,
      );
    } finally {
      const sqsA = new SQSClient({ region: REGION_A, endpoint: moto.endpoint, credentials: keyA });
      await deleteSnsSqsResources({ sns: snsB, sqs: sqsA }, prefix);
      await snsB.send(new DeleteTopicCommand({ TopicArn }));
      sqsA.destroy();
      snsB.destroy();
    }
  });
});

/**
 * One app, three connections: SNS+SQS as the home region (the default), SNS+SQS as the partner's region ('partner',
 * the same fauxqs process: fauxqs keeps regions apart but has one account), RabbitMQ on a vhost of its own ('rabbit').
 * A handler of the default connection subscribes by ARN to a topic of the partner's region, and the partner's emit on
 * that topic crosses regions to it.
 */
describe('topicArn: three connections, a topic of the partner region delivering to a queue of the home region (fauxqs)', () => {
  const HOME_REGION = 'us-east-1';
  let fauxqs: Fauxqs;
  let snsB: SNSClient;
  let vhost: Awaited<ReturnType<typeof createVhost>> | undefined;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    snsB = new SNSClient({ region: REGION_B, endpoint: fauxqs.endpoint, credentials: fauxqs.snsSqs.credentials });
    vhost = await createVhost('xregion');
  });
  afterAll(async () => {
    await vhost?.remove();
    snsB?.destroy();
    await fauxqs?.stop();
  });

  it("delivers each client's emit to exactly its handler, and the partner region's topic to the home queue allowing only it", async () => {
    const service = uniqueName('xregion');
    const prefix = `${service}-`;
    // the partner's topic exists before the app starts, as another team's topic does
    const shipped = `${prefix}shipment-sent`;
    const { TopicArn } = await snsB.send(new CreateTopicCommand({ Name: shipped }));
    expect(TopicArn).toMatch(new RegExp(`^arn:aws:sns:${REGION_B}:\\d{12}:${shipped}$`));
    const got: Record<string, Array<{ data: unknown; topic: string }>> = { default: [], partner: [], rabbit: [], shipments: [] };
    const record = (key: string) => (data: unknown, ctx: MessagingContext) => {
      got[key].push({ data, topic: ctx.getTopic() });
    };
    const controller = controllerFor([
      { pattern: 'order-paid', handle: record('default') },
      { pattern: 'invoice-sent', extras: { connection: 'partner' }, handle: record('partner') },
      { pattern: 'order-paid', extras: { connection: 'rabbit' }, handle: record('rabbit') },
      { pattern: 'partner-shipment', extras: { topicArn: TopicArn! }, handle: record('shipments') },
    ]);
    try {
      const { app, error } = await start({
        imports: [
          MessagingModule.forRoot(fauxqsOptions(fauxqs, { serviceName: service, topicPrefix: prefix, queueNamePrefix: prefix })),
          MessagingModule.forRoot({
            name: 'partner',
            ...fauxqsOptions(fauxqs, { serviceName: service, topicPrefix: prefix, queueNamePrefix: prefix, snsSqs: { region: REGION_B } }),
          }),
          MessagingModule.forRoot({
            name: 'rabbit',
            ...rabbitMqOptions({ serviceName: service, drainTimeout: 5000, amqp: { url: vhost!.url } }),
          }),
        ],
        controllers: [controller],
        providers: [Publishers],
      });
      expect(error).toBeUndefined();
      const publishers = app.get(Publishers);
      const emit = (client: MessagingClient, topic: string, data: unknown) =>
        lastValueFrom(client.emit(topic, data), { defaultValue: undefined });
      await emit(publishers.own, 'order-paid', { via: 'default' });
      await emit(publishers.partner, 'invoice-sent', { via: 'partner' });
      await emit(publishers.rabbit, 'order-paid', { via: 'rabbit' });
      await emit(publishers.partner, 'shipment-sent', { via: 'partner region' });
      await waitFor(() => Object.values(got).every((list) => list.length > 0), { what: 'a delivery to each handler' });
      expect(got).toEqual({
        default: [{ data: { via: 'default' }, topic: 'order-paid' }],
        partner: [{ data: { via: 'partner' }, topic: 'invoice-sent' }],
        rabbit: [{ data: { via: 'rabbit' }, topic: 'order-paid' }],
        // routed by the ARN to the handler's pattern, whatever the topic is called
        shipments: [{ data: { via: 'partner region' }, topic: 'partner-shipment' }],
      });

      const { arn, statements } = await queuePolicyOf(fauxqs.sqs, `${prefix}${service}--partner-shipment`);
      expect(arn).toMatch(new RegExp(`^arn:aws:sqs:${HOME_REGION}:`));
      expect(statements).toEqual([expect.objectContaining({ Resource: arn, Condition: { ArnEquals: { 'aws:SourceArn': TopicArn } } })]);
    } finally {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      await deleteSnsSqsResources(fauxqs, prefix);
      const sqsB = new SQSClient({ region: REGION_B, endpoint: fauxqs.endpoint, credentials: fauxqs.snsSqs.credentials });
      await deleteSnsSqsResources({ sns: snsB, sqs: sqsB }, prefix);
      sqsB.destroy();
    }
  });
});
