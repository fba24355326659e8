import type { INestApplication } from '@nestjs/common';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { SubscribeCommand } from '@aws-sdk/client-sns';
import { createHash, randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { lastValueFrom } from 'rxjs';
import {
  JsonEnvelope,
  MessageTooLargeError,
  MessagingClient,
  MessagingOptionsError,
  MessagingRecord,
  type MessagingContext,
} from '../../../lib/index.js';
import { type Fauxqs, FAUXQS_CREDENTIALS, FAUXQS_REGION, fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';

interface Seen {
  data: unknown;
  attributes: Record<string, unknown>;
}

/** A JSON envelope as another producer (a Java service with the extended client) would write it. */
const envelope = (data: unknown, topic: string) =>
  new JsonEnvelope().encode(data, { topic, service: { name: 'java-producer', uuid: 'b0d1e2f3-0000-4000-8000-000000000002' } });

/** Data that stays big on the wire: random base64 survives the envelope's gzip of large data. */
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const incompressible = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4)).toString('base64');

describe.each(SNS_SQS_EMULATORS)('SNS+SQS large payloads: S3 claim check in the AWS extended clients format (%s)', (_emulator, start) => {
  let fauxqs: Fauxqs;
  let s3: S3Client;
  const apps: INestApplication[] = [];
  const queues: string[] = [];
  beforeAll(async () => {
    fauxqs = await start();
    s3 = new S3Client({ region: FAUXQS_REGION, endpoint: fauxqs.endpoint, credentials: FAUXQS_CREDENTIALS, forcePathStyle: true });
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await Promise.all(queues.splice(0).map((QueueUrl) => fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined)));
  });
  afterAll(async () => {
    s3?.destroy();
    await fauxqs?.stop();
  });

  async function bucket(): Promise<string> {
    const name = uniqueName('claims').toLowerCase();
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    return name;
  }
  async function keys(bucketName: string): Promise<string[]> {
    const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: bucketName }));
    return Contents.map((c) => c.Key!);
  }
  async function objectText(bucketName: string, key: string): Promise<string> {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
    return Body!.transformToString('utf8');
  }
  async function topicArn(topic: string): Promise<string> {
    const { Topics = [] } = await fauxqs.sns.send(new ListTopicsCommand({}));
    return Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;
  }
  async function createQueue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name }));
    queues.push(QueueUrl!);
    const { Attributes } = await fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  }
  async function receive(url: string, count: number, what: string): Promise<Message[]> {
    const seen: Message[] = [];
    return waitFor(
      async () => {
        const { Messages = [] } = await fauxqs.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
        );
        seen.push(...Messages);
        return seen.length >= count ? seen : undefined;
      },
      { what },
    );
  }
  const consumer = (pattern: string, seen: Seen[], extras: Record<string, unknown> = {}) =>
    controllerFor([
      {
        pattern,
        extras,
        handle: (data: unknown, ctx: MessagingContext) => void seen.push({ data, attributes: ctx.getAttributes() }),
      },
    ]);

  it('an emit over 256 KB goes to S3 and SNS carries the extended-client pointer with ExtendedPayloadSize; the handler sees the data', async () => {
    const bucketName = await bucket();
    const topic = uniqueName('report-ready');
    const seen: Seen[] = [];
    const options = fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), snsSqs: { largePayload: { bucket: bucketName } } });
    apps.push(await startTestApp(options, [consumer(topic, seen, { queueName: uniqueName('reports') })]));
    // a plain SQS queue on the same topic shows what goes over the wire
    const tap = await createQueue(uniqueName('tap'));
    await fauxqs.sns.send(new SubscribeCommand({ TopicArn: await topicArn(topic), Protocol: 'sqs', Endpoint: tap.arn }));

    const big = { report: incompressible(400_000) };
    const small = { report: 'tiny' };
    await lastValueFrom(apps[0].get(MessagingClient).emit(topic, new MessagingRecord(big, { attributes: { kind: 'pdf' } })), {
      defaultValue: undefined,
    });
    await emit(apps[0], topic, small);
    await waitFor(() => seen.length === 2, { what: 'both messages handled' });
    expect(seen).toContainEqual({ data: big, attributes: { kind: 'pdf' } });
    expect(seen).toContainEqual({ data: small, attributes: {} });

    const wire = (await receive(tap.url, 2, 'both notifications on the tap queue')).map((m) => JSON.parse(m.Body!));
    const offloaded = wire.find((n) => n.Message.startsWith('['));
    const inline = wire.find((n) => !n.Message.startsWith('['));
    expect(JSON.parse(inline.Message).data).toEqual(small);
    const [stored] = await keys(bucketName);
    expect(await keys(bucketName)).toHaveLength(1);
    expect(offloaded.Message).toBe(JSON.stringify([POINTER_CLASS, { s3BucketName: bucketName, s3Key: stored }]));
    const original = await objectText(bucketName, stored);
    // the S3 object is the envelope as SNS would have carried it (data over 60000 characters is gzipped by JsonEnvelope)
    const storedEnvelope = JSON.parse(original);
    expect(storedEnvelope.metadata).toMatchObject({ topic, data_encoding: 'base64_gzip_json' });
    expect(sha256(inflateSync(Buffer.from(storedEnvelope.data, 'base64')))).toBe(sha256(JSON.stringify(big)));
    expect(offloaded.MessageAttributes).toEqual({
      kind: { Type: 'String', Value: 'pdf' },
      ExtendedPayloadSize: { Type: 'Number', Value: String(Buffer.byteLength(original)) },
    });
  });

  it('thresholdBytes and keyPrefix decide what goes where; deleteAfterHandled removes the object once the handler resolved', async () => {
    const bucketName = await bucket();
    const topic = uniqueName('invoice');
    const seen: Seen[] = [];
    const options = fauxqsOptions(fauxqs, {
      serviceName: uniqueName('svc'),
      snsSqs: { largePayload: { bucket: bucketName, thresholdBytes: 2048, keyPrefix: 'payloads/', deleteAfterHandled: true } },
    });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    apps.push(
      await startTestApp(options, [
        controllerFor([
          {
            pattern: topic,
            handle: async (data: unknown, ctx: MessagingContext) => {
              await gate;
              seen.push({ data, attributes: ctx.getAttributes() });
            },
          },
        ]),
      ]),
    );
    const data = { lines: 'x'.repeat(5000) };
    await emit(apps[0], topic, data);
    // stored under the prefix while the handler runs ...
    const [key] = await waitFor(async () => ((await keys(bucketName)).length === 1 ? keys(bucketName) : undefined), {
      what: 'the S3 object',
    });
    expect(key).toMatch(/^payloads\/[0-9a-f-]{36}$/);
    release();
    await waitFor(() => seen.length === 1, { what: 'the handler' });
    expect(seen[0]).toEqual({ data, attributes: {} });
    // ... and gone once it resolved
    await waitFor(async () => (await keys(bucketName)).length === 0, { what: 'the S3 object deleted' });
  });

  it('resolves pointers written by the AWS extended clients: a raw SQS SendMessage and an SNS publish', async () => {
    const bucketName = await bucket();
    const topic = uniqueName('shipment');
    const queueOnly = uniqueName('inbox');
    await createQueue(queueOnly);
    const seenOnTopic: Seen[] = [];
    const seenOnQueue: Seen[] = [];
    const options = fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), snsSqs: { largePayload: { bucket: bucketName } } });
    apps.push(
      await startTestApp(options, [
        controllerFor([
          { pattern: topic, handle: (data, ctx) => void seenOnTopic.push({ data, attributes: ctx.getAttributes() }) },
          {
            pattern: `${topic}-direct`,
            extras: { queue: queueOnly },
            handle: (data, ctx) => void seenOnQueue.push({ data, attributes: ctx.getAttributes() }),
          },
        ]),
      ]),
    );
    const store = async (key: string, body: string) => {
      await s3.send(new PutObjectCommand({ Bucket: bucketName, Key: key, Body: body }));
      return JSON.stringify([POINTER_CLASS, { s3BucketName: bucketName, s3Key: key }]);
    };
    const viaSns = envelope({ via: 'sns-extended-client' }, topic);
    await fauxqs.sns.send(
      new PublishCommand({
        TopicArn: await topicArn(topic),
        Message: await store('sns-1', viaSns),
        MessageAttributes: {
          ExtendedPayloadSize: { DataType: 'Number', StringValue: String(Buffer.byteLength(viaSns)) },
          region: { DataType: 'String', StringValue: 'eu' },
        },
      }),
    );
    const viaSqs = envelope({ via: 'sqs-extended-client' }, '');
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: queueOnly }));
    await fauxqs.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        // the legacy pointer class of older SQS extended clients, with the legacy size attribute
        MessageBody: (await store('sqs-1', viaSqs)).replace(POINTER_CLASS, 'com.amazon.sqs.javamessaging.MessageS3Pointer'),
        MessageAttributes: {
          SQSLargePayloadSize: { DataType: 'Number', StringValue: String(Buffer.byteLength(viaSqs)) },
          priority: { DataType: 'Number', StringValue: '2' },
        },
      }),
    );
    await waitFor(() => seenOnTopic.length === 1 && seenOnQueue.length === 1, { what: 'both hand-made messages handled' });
    expect(seenOnTopic).toEqual([{ data: { via: 'sns-extended-client' }, attributes: { region: 'eu' } }]);
    expect(seenOnQueue).toEqual([{ data: { via: 'sqs-extended-client' }, attributes: { priority: 2 } }]);
    // deleteAfterHandled is off by default: the objects stay
    expect((await keys(bucketName)).sort()).toEqual(['sns-1', 'sqs-1']);
  });

  it('sendToQueue over the threshold sends the pointer as the SQS body, the queue body in S3', async () => {
    const bucketName = await bucket();
    const queueOnly = uniqueName('big-inbox');
    const queue = await createQueue(queueOnly);
    const options = fauxqsOptions(fauxqs, {
      serviceName: uniqueName('svc'),
      snsSqs: { largePayload: { bucket: bucketName, thresholdBytes: 1024 } },
    });
    apps.push(await startTestApp(options, [], { listen: false }));
    const data = { rows: 'r'.repeat(4000) };
    await lastValueFrom(apps[0].get(MessagingClient).sendToQueue(queueOnly, data, { attributes: { batch: 7 } }), {
      defaultValue: undefined,
    });
    const [message] = await receive(queue.url, 1, 'the sent message');
    const [key] = await keys(bucketName);
    expect(message.Body).toBe(JSON.stringify([POINTER_CLASS, { s3BucketName: bucketName, s3Key: key }]));
    const stored = await objectText(bucketName, key);
    expect(JSON.parse(stored)).toMatchObject({ Type: 'Message', MessageAttributes: { batch: { Type: 'Number', Value: '7' } } });
    expect(JSON.parse(JSON.parse(stored).Message).data).toEqual(data);
    expect(message.MessageAttributes).toEqual({
      batch: { DataType: 'Number', StringValue: '7' },
      ExtendedPayloadSize: { DataType: 'Number', StringValue: String(Buffer.byteLength(stored)) },
    });

    // and a consumer of that queue gets the data back
    const seen: Seen[] = [];
    await fauxqs.sqs.send(
      new SendMessageCommand({ QueueUrl: queue.url, MessageBody: message.Body!, MessageAttributes: message.MessageAttributes }),
    );
    apps.push(await startTestApp(options, [consumer(uniqueName('rows'), seen, { queue: queueOnly })]));
    await waitFor(() => seen.length === 1, { what: 'the consumer' });
    expect(seen[0]).toEqual({ data, attributes: { batch: 7 } });
  });

  it('a pointer to a missing S3 object goes to the dead-letter queue with its reason, the handler never runs', async () => {
    const bucketName = await bucket();
    const topic = uniqueName('lost');
    const queueName = uniqueName('lost-q');
    const seen: Seen[] = [];
    const options = fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), snsSqs: { largePayload: { bucket: bucketName } } });
    apps.push(await startTestApp(options, [consumer(topic, seen, { queueName })]));
    const pointer = JSON.stringify([POINTER_CLASS, { s3BucketName: bucketName, s3Key: 'never-written' }]);
    await fauxqs.sns.send(new PublishCommand({ TopicArn: await topicArn(topic), Message: pointer }));
    await emit(apps[0], topic, { after: true });
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${queueName}-dlq` }));
    const [dead] = await receive(QueueUrl!, 1, 'the dead letter');
    expect(dead.MessageAttributes?.dead_letter_reason?.StringValue).toBe(
      `large payload s3://${bucketName}/never-written is missing: s3://${bucketName}/never-written does not exist`,
    );
    expect(JSON.parse(dead.Body!).Message).toBe(pointer);
    await waitFor(() => seen.length === 1, { what: 'the next message handled' });
    expect(seen).toEqual([{ data: { after: true }, attributes: {} }]);
  });

  it('without largePayload a body over 256 KB still fails the emit; invalid settings fail at startup naming the option', async () => {
    const plain = await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [], { listen: false });
    apps.push(plain);
    await expect(emit(plain, uniqueName('too-big'), { report: incompressible(300_000) })).rejects.toBeInstanceOf(MessageTooLargeError);

    for (const [largePayload, option] of [
      [{ bucket: 'Not_A_Bucket' }, 'snsSqs.largePayload.bucket'],
      [{ bucket: 'ok-bucket', thresholdBytes: 300_000 }, 'snsSqs.largePayload.thresholdBytes'],
      [{ bucket: 'ok-bucket', keyPrefix: '../escape' }, 'snsSqs.largePayload.keyPrefix'],
      [{ bucket: 'ok-bucket', deleteAfterHandled: 'yes' }, 'snsSqs.largePayload.deleteAfterHandled'],
      [{ bucket: 'ok-bucket', expireAfter: 1 }, 'snsSqs.largePayload.expireAfter'],
    ] as const) {
      const error = await startTestApp(
        fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), snsSqs: { largePayload: largePayload as never } }),
      ).then(
        (app) => apps.push(app),
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect((error as MessagingOptionsError).option).toBe(option);
    }
  });
});
