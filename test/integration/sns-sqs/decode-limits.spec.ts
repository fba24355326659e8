import type { INestApplication } from '@nestjs/common';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { deflateSync } from 'node:zlib';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const BOMB_BYTES = 60 * 1024 * 1024;

/** A tomodachi JSON envelope whose base64_gzip_json data inflates to `inflated` bytes (60 KB on the wire for 60 MB). */
function bombEnvelope(topic: string, inflated: number): string {
  const json = Buffer.alloc(inflated, 0x20);
  json[0] = 0x22; // '"' ... '"': a valid JSON string once inflated
  json[inflated - 1] = 0x22;
  return JSON.stringify({
    service: { name: 'producer', uuid: 'u-1' },
    metadata: {
      message_uuid: 'u-1.m',
      protocol_version: 'tomodachi-json-base--1.0.0',
      timestamp: Date.now() / 1000,
      topic,
      data_encoding: 'base64_gzip_json',
    },
    data: deflateSync(json).toString('base64'),
  });
}

describe('SNS+SQS decode limits: maxDecodedBytes (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  const topicArn = async (topic: string) =>
    (await fauxqs.sns.send(new ListTopicsCommand({}))).Topics!.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;
  const deadLetters = async (queue: string, count: number) => {
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${queue}-dlq` }));
    const seen: Message[] = [];
    return waitFor(
      async () => {
        const { Messages = [] } = await fauxqs.sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'] }),
        );
        seen.push(...Messages);
        return seen.length >= count ? seen : undefined;
      },
      { what: `${count} message(s) in ${queue}-dlq` },
    );
  };

  it('60 MB decompression bombs go to the DLQ with a reason naming maxDecodedBytes; the handler never sees them, normal messages still flow', async () => {
    const queueName = uniqueName('bombs');
    const handled: unknown[] = [];
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName },
            handle: (data) => {
              handled.push(data);
            },
          },
        ]),
      ]),
    );
    const arn = await topicArn(queueName);
    const bomb = bombEnvelope(queueName, BOMB_BYTES);
    expect(Buffer.byteLength(bomb)).toBeLessThan(256 * 1024);
    for (let i = 0; i < 3; i++) await fauxqs.sns.send(new PublishCommand({ TopicArn: arn, Message: bomb }));
    await emit(apps[0], queueName, { ok: true });
    const dead = await deadLetters(queueName, 3);
    for (const message of dead) {
      expect(message.MessageAttributes?.dead_letter_reason?.StringValue).toBe(
        'cannot decode message: base64_gzip_json data inflates to more than 8388608 bytes (maxDecodedBytes)',
      );
    }
    await waitFor(() => handled.length === 1, { what: 'the normal message handled' });
    expect(handled).toEqual([{ ok: true }]);
  });

  it('a lower maxDecodedBytes dead-letters a body that is merely large', async () => {
    const queueName = uniqueName('capped');
    const handled: unknown[] = [];
    apps.push(
      await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), maxDecodedBytes: 4096 }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName },
            handle: (data) => {
              handled.push(data);
            },
          },
        ]),
      ]),
    );
    await emit(apps[0], queueName, { text: 'z'.repeat(5000) });
    await emit(apps[0], queueName, { text: 'small' });
    const [dead] = await deadLetters(queueName, 1);
    expect(dead.MessageAttributes?.dead_letter_reason?.StringValue).toMatch(/^message body is \d+ bytes, over maxDecodedBytes \(4096\)$/);
    await waitFor(() => handled.length === 1, { what: 'the small message handled' });
    expect(handled).toEqual([{ text: 'small' }]);
  });
});
