import { PublishCommand } from '@aws-sdk/client-sns';
import { MessagingRecord, type MessagingContext } from '../../../lib/index.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { readVector } from '../../support/vectors.js';

describe.each(SNS_SQS_EMULATORS)('SNS+SQS delivery (%s)', (_emulator, start) => {
  const suite = fauxqsSuite(start);
  const { apps } = suite;

  it('delivers end to end with typed attributes, message id and receive count', async () => {
    const service = uniqueName('svc');
    const got: Array<{ data: unknown; topic: string; attributes: Record<string, unknown>; id: string; count: number; sender?: string }> =
      [];
    const topic = uniqueName('order.paid');
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: service }), [
        controllerFor([
          {
            pattern: topic,
            handle: (data, ctx: MessagingContext) => {
              got.push({
                data,
                topic: ctx.getTopic(),
                attributes: ctx.getAttributes(),
                id: ctx.getMessageId(),
                count: ctx.getReceiveCount(),
                sender: ctx.getEnvelope().service?.name,
              });
            },
          },
        ]),
      ]),
    );
    await emit(
      apps[0],
      topic,
      new MessagingRecord(
        { orderId: 'o-1' },
        {
          attributes: {
            currency: 'EUR',
            amount: 100,
            price: 9.5,
            blob: Buffer.from([1, 2, 255]),
            paid: true,
            note: null,
            tags: ['a', 'b'],
          },
        },
      ),
    );
    await waitFor(() => got.length === 1, { what: 'delivery' });
    expect(got[0]).toMatchObject({ data: { orderId: 'o-1' }, topic, count: 1, sender: service });
    expect(got[0].id).toEqual(expect.any(String));
    const attrs = got[0].attributes;
    expect(attrs).toMatchObject({ currency: 'EUR', amount: 100, price: 9.5, paid: true, note: null, tags: ['a', 'b'] });
    expect(Buffer.isBuffer(attrs.blob) && [...(attrs.blob as Buffer)]).toEqual([1, 2, 255]);
  });

  it('a filter policy drops the non-matching message', async () => {
    const topic = uniqueName('payments');
    const got: unknown[] = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: topic,
            extras: { filterPolicy: { currency: ['EUR'] } },
            handle: (data) => {
              got.push(data);
            },
          },
        ]),
      ]),
    );
    await emit(apps[0], topic, new MessagingRecord({ n: 1 }, { attributes: { currency: 'USD' } }));
    await emit(apps[0], topic, new MessagingRecord({ n: 2 }, { attributes: { currency: 'EUR' } }));
    await emit(apps[0], topic, { n: 3 });
    await waitFor(() => got.length >= 1, { what: 'EUR delivery' });
    // The EUR message was published after the USD one; give a later-published matching marker to be sure nothing else arrives.
    await emit(apps[0], topic, new MessagingRecord({ n: 4 }, { attributes: { currency: 'EUR' } }));
    await waitFor(() => got.length >= 2, { what: 'second EUR delivery' });
    expect(got).toEqual([{ n: 2 }, { n: 4 }]);
  });

  it('routes two handlers sharing one queue by topic', async () => {
    const [a, b] = [uniqueName('topic-a'), uniqueName('topic-b')];
    const got: Array<[string, unknown]> = [];
    const queueName = uniqueName('shared');
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: a,
            extras: { queueName },
            handle: (data) => {
              got.push(['a', data]);
            },
          },
          {
            pattern: b,
            extras: { queueName },
            handle: (data) => {
              got.push(['b', data]);
            },
          },
        ]),
      ]),
    );
    await Promise.all([emit(apps[0], a, { to: 'a' }), emit(apps[0], b, { to: 'b' }), emit(apps[0], a, { to: 'a2' })]);
    await waitFor(() => got.length === 3, { what: 'three deliveries' });
    expect(got.filter(([h]) => h === 'a').map(([, d]) => d)).toEqual(expect.arrayContaining([{ to: 'a' }, { to: 'a2' }]));
    expect(got.filter(([h]) => h === 'b').map(([, d]) => d)).toEqual([{ to: 'b' }]);
  });

  it('competing replicas share the work, each message handled once', async () => {
    const topic = uniqueName('jobs');
    const service = uniqueName('workers');
    const handled: Array<{ app: number; n: number }> = [];
    const make = (app: number) =>
      controllerFor([
        {
          pattern: topic,
          extras: { concurrency: 2 },
          handle: async (data: { n: number }) => {
            handled.push({ app, n: data.n });
            await new Promise((r) => setTimeout(r, 20));
          },
        },
      ]);
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: service }), [make(1)]));
    apps.push(await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: service }), [make(2)]));
    await Promise.all(Array.from({ length: 40 }, (_, n) => emit(apps[0], topic, { n })));
    await waitFor(() => handled.length >= 40, { what: '40 deliveries' });
    expect(handled.map((h) => h.n).sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(new Set(handled.map((h) => h.app))).toEqual(new Set([1, 2]));
  });

  it('handles a tomodachi-published envelope (raw SNS publish) with the expected data', async () => {
    const envelope = readVector('json-small.envelope.json');
    const expected = JSON.parse(readVector('json-small.expected.json'));
    const prefix = `${uniqueName('pfx')}-`;
    const got: Array<{ data: unknown; sender?: string; topic: string }> = [];
    apps.push(
      await startTestApp(fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc'), topicPrefix: prefix }), [
        controllerFor([
          {
            pattern: 'order-paid',
            handle: (data, ctx) => {
              got.push({ data, sender: ctx.getEnvelope().service?.name, topic: ctx.getTopic() });
            },
          },
        ]),
      ]),
    );
    const { ListTopicsCommand } = await import('@aws-sdk/client-sns');
    const topics = await suite.fauxqs.sns.send(new ListTopicsCommand({}));
    const arn = topics.Topics!.map((t) => t.TopicArn!).find((t) => t.endsWith(`:${prefix}order-paid`))!;
    expect(arn).toBeDefined();
    await suite.fauxqs.sns.send(new PublishCommand({ TopicArn: arn, Message: envelope }));
    await waitFor(() => got.length === 1, { what: 'tomodachi message' });
    expect(got[0]).toMatchObject({ topic: 'order-paid', sender: 'tomodachi-orders' });
    expect(got[0].data).toEqual(expected.data ?? expected);
  });
});
