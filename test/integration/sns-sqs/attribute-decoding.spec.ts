import type { LoggerService } from '@nestjs/common';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { JsonEnvelope, type MessagingContext } from '../../../lib/index.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const producer = { name: 'producer', uuid: 'c0d1e2f3-0000-4000-8000-000000000003' };

/** A logger that keeps the warnings (the app's other output is dropped). */
function recordingLogger(): LoggerService & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, log() {}, error() {}, warn: (message: unknown) => void warnings.push(String(message)) };
}

describe('SNS+SQS incoming attributes decoded by their data type (fauxqs)', () => {
  const suite = fauxqsSuite();
  const { apps, queues } = suite;

  const topicArn = async (topic: string) =>
    (await suite.fauxqs.sns.send(new ListTopicsCommand({}))).Topics!.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;

  it('SNS MessageAttributes of every type arrive as number, Buffer, array and string', async () => {
    const topic = uniqueName('typed');
    const seen: Array<Record<string, unknown>> = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([{ pattern: topic, handle: (_data, ctx: MessagingContext) => void seen.push(ctx.getAttributes()) }]),
      ]),
    );
    await suite.fauxqs.sns.send(
      new PublishCommand({
        TopicArn: await topicArn(topic),
        Message: new JsonEnvelope().encode({ n: 1 }, { topic, service: producer }),
        MessageAttributes: {
          currency: { DataType: 'String', StringValue: 'EUR' },
          amount: { DataType: 'Number', StringValue: '-1.5e3' },
          count: { DataType: 'Number', StringValue: '42' },
          tags: { DataType: 'String.Array', StringValue: '["a",2,true]' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 254, 255]) },
        },
      }),
    );
    await waitFor(() => seen.length === 1, { what: 'the delivery' });
    expect(seen[0]).toEqual({ currency: 'EUR', amount: -1500, count: 42, tags: ['a', 2, true], blob: Buffer.from([0, 1, 254, 255]) });
    expect(Buffer.isBuffer(seen[0].blob)).toBe(true);
  });

  it('a direct SendMessage to a subscribed queue: SQS-level attributes reach ctx.getAttributes(); a value that does not parse is its string, logged once per name', async () => {
    const topic = uniqueName('direct');
    const queueName = uniqueName('direct-q');
    const seen: Array<Record<string, unknown>> = [];
    const logger = recordingLogger();
    apps.push(
      await startTestApp(
        fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }),
        [
          controllerFor([
            { pattern: topic, extras: { queueName }, handle: (_data, ctx: MessagingContext) => void seen.push(ctx.getAttributes()) },
          ]),
        ],
        { logger },
      ),
    );
    const { QueueUrl } = await suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const arn = await topicArn(topic);
    // what SNS would have delivered, written by hand (say, a redrive tool), with broken notification attributes
    const notification = (i: number) =>
      JSON.stringify({
        Type: 'Notification',
        MessageId: `hand-${i}`,
        TopicArn: arn,
        Message: new JsonEnvelope().encode({ i }, { topic, service: producer }),
        MessageAttributes: {
          amount: { Type: 'Number', Value: 'twelve' },
          huge: { Type: 'Number', Value: '123456789012345678901234567890' },
          tags: { Type: 'String.Array', Value: '["unterminated' },
          blob: { Type: 'Binary', Value: 'not base64!' },
          empty: { Type: 'Number', Value: '' },
        },
      });
    for (const i of [1, 2]) {
      await suite.fauxqs.sqs.send(
        new SendMessageCommand({
          QueueUrl,
          MessageBody: notification(i),
          MessageAttributes: {
            priority: { DataType: 'Number.int', StringValue: '7' },
            image: { DataType: 'Binary.png', BinaryValue: Buffer.from('PNG') },
            region: { DataType: 'String', StringValue: 'eu-west-1' },
            codes: { DataType: 'String.Array', StringValue: '[1,2]' },
          },
        }),
      );
    }
    await waitFor(() => seen.length === 2, { what: 'both deliveries' });
    for (const attributes of seen) {
      expect(attributes).toEqual({
        amount: 'twelve',
        huge: '123456789012345678901234567890',
        tags: '["unterminated',
        blob: 'not base64!',
        empty: '',
        priority: 7,
        image: Buffer.from('PNG'),
        region: 'eu-west-1',
        codes: [1, 2],
      });
    }
    const attributeWarnings = logger.warnings.filter((w) => w.startsWith('Attribute '));
    expect(attributeWarnings.map((w) => /^Attribute "(\w+)"/.exec(w)![1]).sort()).toEqual(['amount', 'blob', 'empty', 'huge', 'tags']);
    expect(attributeWarnings.find((w) => w.includes('"amount"'))).toBe(
      `Attribute "amount" (Number) of a message on ${queueName} is not a valid Number: "twelve"; handlers get it as a string (logged once per attribute name)`,
    );
  });

  it('a queue-only queue decodes SQS custom types by their base type', async () => {
    const name = uniqueName('inbox');
    const { QueueUrl } = await suite.fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name }));
    queues.push(QueueUrl!);
    const topic = uniqueName('inbox-topic');
    const seen: Array<Record<string, unknown>> = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          { pattern: topic, extras: { queue: name }, handle: (_data, ctx: MessagingContext) => void seen.push(ctx.getAttributes()) },
        ]),
      ]),
    );
    await suite.fauxqs.sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: new JsonEnvelope().encode({ ok: true }, { topic, service: producer }),
        MessageAttributes: {
          ratio: { DataType: 'Number.float', StringValue: '0.25' },
          id: { DataType: 'String.uuid', StringValue: 'abc' },
          raw: { DataType: 'Binary', BinaryValue: Buffer.from([9, 8]) },
        },
      }),
    );
    await waitFor(() => seen.length === 1, { what: 'the delivery' });
    expect(seen[0]).toEqual({ ratio: 0.25, id: 'abc', raw: Buffer.from([9, 8]) });
  });
});
