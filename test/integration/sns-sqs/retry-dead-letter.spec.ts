import type { INestApplication } from '@nestjs/common';
import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { DeadLetterError } from '../../../lib/errors.js';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe('SNS+SQS retries and dead-lettering (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => { fauxqs = await startFauxqs(); });
  afterEach(async () => { await Promise.all(apps.splice(0).map((a) => a.close())); });
  afterAll(() => fauxqs.stop());

  const queueUrl = async (name: string) => (await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;
  const drainDlq = async (name: string): Promise<Message[]> => {
    const { Messages = [] } = await fauxqs.sqs.send(new ReceiveMessageCommand({
      QueueUrl: await queueUrl(name), MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'],
    }));
    return Messages;
  };
  const waitForDlq = (name: string, count = 1) => {
    const seen: Message[] = [];
    return waitFor(async () => {
      seen.push(...(await drainDlq(name)));
      return seen.length >= count ? seen : undefined;
    }, { what: `${count} message(s) in ${name}` });
  };

  it('a throwing handler gets the message again after a doubling backoff, then it lands in the DLQ with the reason', async () => {
    const queueName = uniqueName('flaky');
    const attempts: Array<{ count: number; at: number }> = [];
    apps.push(await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 1 }), [controllerFor([{
      pattern: queueName, extras: { queueName, maxReceiveCount: 3 },
      handle: (_d, ctx) => { attempts.push({ count: ctx.getReceiveCount(), at: Date.now() }); throw new Error('database unavailable'); },
    }])]));
    await emit(apps[0], queueName, { id: 1 });
    const [dead] = await waitForDlq(`${queueName}-dlq`);
    expect(attempts.map((a) => a.count)).toEqual([1, 2, 3]);
    expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(900);
    expect(attempts[2].at - attempts[1].at).toBeGreaterThanOrEqual(1900);
    expect(dead.MessageAttributes?.dead_letter_reason?.StringValue).toMatch(/failed 3 time\(s\).*database unavailable/);
    expect(JSON.parse(dead.Body!).Message).toContain('"id":1');
    const attrs = await fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(queueName), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(attrs.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });

  it('a body that is not an SNS notification, or not an envelope, goes to the DLQ at once with its reason', async () => {
    const queueName = uniqueName('strict');
    const topic = uniqueName('strict-topic');
    const handled: unknown[] = [];
    apps.push(await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [controllerFor([{
      pattern: topic, extras: { queueName }, handle: (d) => { handled.push(d); },
    }])]));
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(queueName), MessageBody: 'garbage {' }));
    const topics = await fauxqs.sns.send(new ListTopicsCommand({}));
    const arn = topics.Topics!.map((t) => t.TopicArn!).find((t) => t.endsWith(`:${topic}`))!;
    await fauxqs.sns.send(new PublishCommand({ TopicArn: arn, Message: 'not an envelope' }));
    const dead = await waitForDlq(`${queueName}-dlq`, 2);
    const reasons = dead.map((m) => m.MessageAttributes?.dead_letter_reason?.StringValue ?? '');
    expect(reasons.find((r) => /cannot decode message/.test(r))).toBeDefined();
    expect(reasons.find((r) => /not JSON, so not an SNS notification/.test(r))).toBeDefined();
    expect(dead.map((m) => m.Body)).toContain('garbage {');
    expect(handled).toEqual([]);
  });

  it('DeadLetterError sends the message to the DLQ without retries', async () => {
    const queueName = uniqueName('poison');
    const attempts: number[] = [];
    apps.push(await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc') }), [controllerFor([{
      pattern: queueName, extras: { queueName },
      handle: (_d, ctx) => { attempts.push(ctx.getReceiveCount()); throw new DeadLetterError('unknown order'); },
    }])]));
    await emit(apps[0], queueName, { id: 2 });
    const [dead] = await waitForDlq(`${queueName}-dlq`);
    expect(dead.MessageAttributes?.dead_letter_reason?.StringValue).toContain('unknown order');
    expect(attempts).toEqual([1]);
  });

  it('without a DLQ a message the handler rejects is retried, never dropped', async () => {
    const queueName = uniqueName('nodlq');
    const attempts: number[] = [];
    apps.push(await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 0 }), [controllerFor([{
      pattern: queueName, extras: { queueName, deadLetterQueueName: false },
      handle: (_d, ctx) => { attempts.push(ctx.getReceiveCount()); if (ctx.getReceiveCount() < 3) throw new DeadLetterError('not yet'); },
    }])]));
    await emit(apps[0], queueName, { id: 3 });
    await waitFor(() => attempts.length >= 3, { what: 'three attempts' });
    expect(attempts.slice(0, 3)).toEqual([1, 2, 3]);
  });
});
