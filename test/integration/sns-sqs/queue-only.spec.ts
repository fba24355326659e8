import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, ProvisioningError, PublishError, type MessagingContext } from '../../../lib/index.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { countingBroker } from './counting-broker.js';
import { startTestApp, tryStartTestApp } from '../../support/apps.js';
import { tomodachiEnvelope } from '../../support/tomodachi-envelope.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

interface Seen {
  data: unknown;
  topic: string;
  attributes: Record<string, unknown>;
}

/** The SQS body tomodachi's sqs_send_message writes (its MessageBodyFormatter). */
function tomodachiQueueBody(queueUrl: string, envelope: string, attributes: Record<string, { Type: string; Value: string }>): string {
  return JSON.stringify({
    Type: 'Message',
    QueueUrl: queueUrl,
    Version: '0',
    Message: envelope,
    Timestamp: new Date().toISOString(),
    MessageAttributes: attributes,
  });
}

describe.each(SNS_SQS_EMULATORS)('SNS+SQS queue-only consumers and sendToQueue (%s)', (_emulator, start) => {
  const suite = fauxqsSuite(start);
  const { apps, queues } = suite;

  async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await suite.fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    queues.push(QueueUrl!);
    const { Attributes } = await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  }

  async function attributesOf(url: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    const { ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible, ApproximateNumberOfMessagesDelayed, ...settings } =
      Attributes;
    void ApproximateNumberOfMessages;
    void ApproximateNumberOfMessagesNotVisible;
    void ApproximateNumberOfMessagesDelayed;
    return settings;
  }

  it('consumes an existing queue as it is (no topic, no subscription, no attribute changed) from sendToQueue, tomodachi bodies and bare envelopes', async () => {
    const name = uniqueName('existing');
    const queue = await createQueue(name, { VisibilityTimeout: '45', MessageRetentionPeriod: '3600' });
    const before = await attributesOf(queue.url);
    const pattern = uniqueName('order-paid');
    const seen: Seen[] = [];
    const options = { serviceName: uniqueName('svc') };
    const counted = countingBroker(suite.fauxqs, options);
    const handler = (data: unknown, ctx: MessagingContext) => {
      seen.push({ data, topic: ctx.getTopic(), attributes: ctx.getAttributes() });
    };
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, options), [controllerFor([{ pattern, extras: { queue: name }, handle: handler }])], {
        broker: counted.broker,
      }),
    );
    expect(counted.mutating()).toEqual([]);

    await lastValueFrom(
      apps[0]
        .get(MessagingClient)
        .sendToQueue(name, { via: 'sendToQueue' }, { attributes: { currency: 'EUR', amount: 100, flags: ['a'] } }),
      { defaultValue: undefined },
    );
    await suite.fauxqs.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: tomodachiQueueBody(queue.url, tomodachiEnvelope({ via: 'tomodachi' }), { currency: { Type: 'String', Value: 'SEK' } }),
        MessageAttributes: { currency: { DataType: 'String', StringValue: 'SEK' } },
      }),
    );
    await suite.fauxqs.sqs.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: tomodachiEnvelope({ via: 'bare' }, 'something-else'),
        MessageAttributes: { count: { DataType: 'Number', StringValue: '7' } },
      }),
    );
    await waitFor(() => seen.length === 3, { what: 'three deliveries' });
    const byVia = Object.fromEntries(seen.map((s) => [(s.data as { via: string }).via, s]));
    expect(byVia.sendToQueue).toEqual({
      data: { via: 'sendToQueue' },
      topic: pattern,
      attributes: { currency: 'EUR', amount: 100, flags: ['a'] },
    });
    expect(byVia.tomodachi).toEqual({ data: { via: 'tomodachi' }, topic: pattern, attributes: { currency: 'SEK' } });
    expect(byVia.bare).toEqual({ data: { via: 'bare' }, topic: pattern, attributes: { count: 7 } });

    const { Topics = [] } = await suite.fauxqs.sns.send(new ListTopicsCommand({}));
    expect(Topics.filter((t) => t.TopicArn?.includes(pattern))).toEqual([]);
    await apps.splice(0)[0].close();
    // no Create*, Set*, Subscribe or Tag* call: only the consumer's own deletes of handled messages
    expect(counted.mutating().filter((c) => !/^(DeleteMessage|ChangeMessageVisibility)/.test(c))).toEqual([]);
    expect(counted.calls).toContain('SendMessageBatchCommand');
    expect(await attributesOf(queue.url)).toEqual(before);
  });

  it('routes by the envelope topic on a queue-only queue with several handlers', async () => {
    const name = uniqueName('shared');
    await createQueue(name);
    const [paid, refunded] = [uniqueName('paid'), uniqueName('refunded')];
    const seen: Array<[string, unknown]> = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          { pattern: paid, extras: { queue: name }, handle: (d) => void seen.push([paid, d]) },
          { pattern: refunded, extras: { queue: name }, handle: (d) => void seen.push([refunded, d]) },
        ]),
      ]),
    );
    const client = apps[0].get(MessagingClient);
    await lastValueFrom(client.sendToQueue(name, { n: 1 }, { topic: refunded }), { defaultValue: undefined });
    await lastValueFrom(client.sendToQueue(name, { n: 2 }, { topic: paid }), { defaultValue: undefined });
    await waitFor(() => seen.length === 2, { what: 'two deliveries' });
    expect(seen.sort((a, b) => (a[1] as { n: number }).n - (b[1] as { n: number }).n)).toEqual([
      [refunded, { n: 1 }],
      [paid, { n: 2 }],
    ]);
  });

  it('a queue-only handler for a queue that does not exist fails the start naming it', async () => {
    const name = uniqueName('missing');
    const { app, error } = await tryStartTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
      controllerFor([{ pattern: 'x', extras: { queue: name }, handle: () => undefined }]),
    ]);
    await app.close();
    expect(error).toBeInstanceOf(ProvisioningError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toContain('never creates');
  });

  it('sendToQueue by URL and by ARN, in the tomodachi sqs_send_message body form', async () => {
    const queue = await createQueue(uniqueName('direct'));
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [], { listen: false }));
    const client = apps[0].get(MessagingClient);
    await lastValueFrom(client.sendToQueue(queue.url, { by: 'url' }, { attributes: { kind: 'u' } }), { defaultValue: undefined });
    await lastValueFrom(client.sendToQueue(queue.arn, { by: 'arn' }), { defaultValue: undefined });
    const bodies: Array<Record<string, any>> = [];
    await waitFor(
      async () => {
        const { Messages = [] } = await suite.fauxqs.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
        );
        for (const m of Messages) bodies.push({ ...JSON.parse(m.Body!), sqsAttributes: m.MessageAttributes });
        return bodies.length === 2;
      },
      { what: 'both messages on the queue' },
    );
    const byUrl = bodies.find((b) => JSON.parse(b.Message).data.by === 'url')!;
    expect(byUrl).toMatchObject({
      Type: 'Message',
      QueueUrl: queue.url,
      Version: '0',
      MessageAttributes: { kind: { Type: 'String', Value: 'u' } },
      sqsAttributes: { kind: { DataType: 'String', StringValue: 'u' } },
    });
    expect(byUrl.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(JSON.parse(byUrl.Message).metadata).toMatchObject({ topic: '', protocol_version: 'tomodachi-json-base--1.0.0' });
    expect(bodies.map((b) => JSON.parse(b.Message).data.by).sort()).toEqual(['arn', 'url']);
  });

  it('sendToQueue with delaySeconds: the message stays invisible that long', async () => {
    const name = uniqueName('delayed');
    await createQueue(name);
    const seenAt: number[] = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([{ pattern: 'delayed', extras: { queue: name }, handle: () => void seenAt.push(Date.now()) }]),
      ]),
    );
    const sentAt = Date.now();
    await lastValueFrom(apps[0].get(MessagingClient).sendToQueue(name, { late: true }, { delaySeconds: 2 }), { defaultValue: undefined });
    await waitFor(() => seenAt.length === 1, { what: 'the delayed delivery', timeoutMs: 10_000 });
    expect(seenAt[0] - sentAt).toBeGreaterThanOrEqual(1900);
  });

  it('coalesces concurrent sendToQueue calls into SendMessageBatch calls of at most 10', async () => {
    const name = uniqueName('batched');
    await createQueue(name);
    const got: number[] = [];
    const options = { serviceName: uniqueName('svc') };
    const counted = countingBroker(suite.fauxqs, options);
    apps.push(
      await startTestApp(
        fauxqsOptions(suite.fauxqs, options),
        [controllerFor([{ pattern: 'batched', extras: { queue: name }, handle: (d: { n: number }) => void got.push(d.n) }])],
        { broker: counted.broker },
      ),
    );
    const client = apps[0].get(MessagingClient);
    await lastValueFrom(client.sendToQueue(name, { n: -1 }), { defaultValue: undefined }); // looks the URL up once
    counted.calls.splice(0);
    await Promise.all(Array.from({ length: 25 }, (_, n) => lastValueFrom(client.sendToQueue(name, { n }), { defaultValue: undefined })));
    const sends = counted.calls.filter((c) => c === 'SendMessageBatchCommand').length;
    expect(sends).toBeGreaterThanOrEqual(3);
    expect(sends).toBeLessThanOrEqual(5);
    expect(counted.calls.filter((c) => c === 'SendMessageCommand' || c === 'GetQueueUrlCommand')).toEqual([]);
    await waitFor(() => got.length === 26, { what: '26 deliveries' });
    expect(got.filter((n) => n >= 0).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, n) => n));
  });

  it('sendToQueue refuses a missing queue and a groupId on a standard queue, naming what to change', async () => {
    const queue = await createQueue(uniqueName('standard'));
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [], { listen: false }));
    const client = apps[0].get(MessagingClient);
    const missing = uniqueName('nope');
    await expect(lastValueFrom(client.sendToQueue(missing, {}))).rejects.toThrow(new RegExp(`queue "${missing}" does not exist`));
    await expect(lastValueFrom(client.sendToQueue(queue.url, {}, { groupId: 'g' }))).rejects.toThrow(/groupId is only for FIFO queues/);
    await expect(lastValueFrom(client.sendToQueue(queue.url, {}, { delaySeconds: 901 }))).rejects.toBeInstanceOf(PublishError);
  });
});
