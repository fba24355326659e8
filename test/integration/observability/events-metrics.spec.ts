import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import * as amqp from 'amqplib';
import { Registry } from 'prom-client';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingServer, type MessagingEvent, type MessagingModuleOptions } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { AMQP_URL, cleanUpBrokerAfterAll, rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { handlersController, sample, startHttpApp, type HttpApp } from './http-app.js';

/** The AMQP apps' queues (named after their services) are deleted after all tests. */
const trackAmqp = cleanUpBrokerAfterAll();

let fauxqs: Fauxqs;
beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  await fauxqs?.stop();
});

/** Puts a body the transport cannot decode straight into the queue named `queue`. */
const sendUndecodable: Record<'sns-sqs' | 'amqp', (queue: string) => Promise<void>> = {
  'sns-sqs': async (queue) => {
    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'not an SNS notification' }));
  },
  amqp: async (queue) => {
    const connection = await amqp.connect(AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      channel.sendToQueue(queue, Buffer.from('not really brotli'), { contentEncoding: 'br', messageId: `${queue}-m` });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  },
};

const depthLines = (exposition: string) => exposition.split('\n').filter((l) => l.startsWith('messaging_queue_depth{'));

const transports: Array<[string, 'sns-sqs' | 'amqp', (o: Omit<MessagingModuleOptions, 'transport'>) => MessagingModuleOptions]> = [
  ['SNS+SQS (fauxqs)', 'sns-sqs', (o) => fauxqsOptions(fauxqs, o)],
  [
    'AMQP (RabbitMQ)',
    'amqp',
    (o) => rabbitMqOptions({ retryBackoff: 0.05, drainTimeout: 5000, ...o, serviceName: trackAmqp(o.serviceName) }),
  ],
];

describe.each(transports)('events$ and /metrics over %s', (_name, transport, optionsFor) => {
  let http: HttpApp | undefined;
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it('reports a known mix of successes, retries and dead-letters as events and exact counters', async () => {
    const base = uniqueName('obs');
    const ok = `${base}-ok`;
    const flaky = `${base}-flaky`;
    const bad = `${base}-bad`;
    const registry = new Registry();
    const controller = handlersController([
      { pattern: ok, handle: () => undefined },
      {
        pattern: flaky,
        handle: (_data, ctx) => {
          if (ctx.getReceiveCount() === 1) throw new Error('first attempt fails');
        },
      },
      {
        pattern: bad,
        extras: { maxReceiveCount: 2 },
        handle: () => {
          throw new Error('always fails');
        },
      },
    ]);
    http = await startHttpApp(optionsFor({ serviceName: base, metrics: { registry } }), [controller]);
    const events: MessagingEvent[] = [];
    const subscription = http.app.get(MessagingServer).events$.subscribe((event) => events.push(event));
    const client = http.app.get(MessagingClient);
    for (const [topic, data] of [
      [ok, 1],
      [ok, 2],
      [flaky, 3],
      [bad, 4],
    ] as const)
      await lastValueFrom(client.emit(topic, { n: data }), { defaultValue: undefined });

    const settled = (type: string, topic: string) => events.filter((e) => e.type === type && 'topic' in e && e.topic === topic);
    await waitFor(
      () => settled('handled', ok).length === 2 && settled('handled', flaky).length === 1 && settled('dead-lettered', bad).length === 1,
      {
        timeoutMs: 30_000,
        what: 'every message to be handled or dead-lettered',
      },
    );

    // events: every attempt is received, then settled exactly once
    expect(settled('received', ok)).toHaveLength(2);
    expect(settled('received', flaky)).toHaveLength(2);
    expect(settled('received', bad)).toHaveLength(2);
    const flakyFailure = settled('failed', flaky);
    expect(flakyFailure).toEqual([
      expect.objectContaining({
        transport,
        attempt: 1,
        willRetry: true,
        reason: expect.stringContaining('first attempt fails'),
        pattern: flaky,
      }),
    ]);
    const badFailures = settled('failed', bad);
    expect(badFailures.map((e) => [(e as { attempt: number }).attempt, (e as { willRetry: boolean }).willRetry])).toEqual([
      [1, true],
      [2, false],
    ]);
    const deadLettered = settled('dead-lettered', bad)[0] as Extract<MessagingEvent, { type: 'dead-lettered' }>;
    expect(deadLettered).toMatchObject({
      transport,
      topic: bad,
      attempt: 2,
      reason: expect.stringContaining('failed 2 time(s), last: handler for'),
    });
    expect(deadLettered.reason).toContain('always fails');
    expect(deadLettered.durationMs).toBeGreaterThanOrEqual(0);
    expect(deadLettered.messageId).toBeTruthy();
    subscription.unsubscribe();

    // counters, scraped from the real endpoint
    const queueOf = (topic: string) => (settled('received', topic)[0] as { queue: string }).queue;
    const exposition = (await http.get('/metrics')).text;
    const expectations: Array<[string, number, number, number, number]> = [
      // topic, received, success, retry, dead_letter
      [ok, 2, 2, 0, 0],
      [flaky, 2, 1, 1, 0],
      [bad, 2, 0, 1, 1],
    ];
    for (const [topic, received, success, retry, deadLetter] of expectations) {
      const labels = { connection: 'default', transport, queue: queueOf(topic), topic };
      expect([topic, sample(exposition, 'messaging_messages_received_total', labels)]).toEqual([topic, received]);
      for (const [outcome, count] of [
        ['success', success],
        ['retry', retry],
        ['dead_letter', deadLetter],
      ] as const) {
        // a counter child that never counted has no sample; an absent one is zero
        expect([topic, outcome, sample(exposition, 'messaging_messages_handled_total', { ...labels, outcome }) ?? 0]).toEqual([
          topic,
          outcome,
          count,
        ]);
      }
      expect([topic, sample(exposition, 'messaging_handler_duration_seconds_count', labels)]).toEqual([topic, received]);
      expect([topic, sample(exposition, 'messaging_handler_duration_seconds_bucket', { ...labels, le: '+Inf' })]).toEqual([
        topic,
        received,
      ]);
      expect([topic, sample(exposition, 'messaging_handlers_in_flight', labels)]).toEqual([topic, 0]);
    }
    for (const [topic, count] of [
      [ok, 2],
      [flaky, 1],
      [bad, 1],
    ] as const) {
      expect([
        topic,
        sample(exposition, 'messaging_messages_published_total', { connection: 'default', transport, topic, outcome: 'success' }),
      ]).toEqual([topic, count]);
      expect([topic, sample(exposition, 'messaging_publish_duration_seconds_count', { connection: 'default', transport, topic })]).toEqual([
        topic,
        count,
      ]);
    }
    expect(sample(exposition, 'messaging_broker_connected', { connection: 'default', transport })).toBe(1);
    // nothing else was counted
    const handledLines = exposition.split('\n').filter((l) => l.startsWith('messaging_messages_handled_total{'));
    expect(handledLines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0)).toBe(6);
  }, 60_000);

  it('reads messaging_queue_depth of the consumed queue and its dead-letter queue from the broker when scraped', async () => {
    const base = uniqueName('obs-depth');
    const registry = new Registry();
    const controller = handlersController([
      {
        pattern: base,
        extras: { maxReceiveCount: 1 },
        handle: () => {
          throw new Error('straight to the dead-letter queue');
        },
      },
    ]);
    http = await startHttpApp(optionsFor({ serviceName: base, metrics: { registry, queueDepth: true } }), [controller]);
    const events: MessagingEvent[] = [];
    const subscription = http.app.get(MessagingServer).events$.subscribe((event) => events.push(event));
    const client = http.app.get(MessagingClient);
    for (const n of [1, 2, 3]) await lastValueFrom(client.emit(base, { n }), { defaultValue: undefined });
    await waitFor(() => events.filter((e) => e.type === 'dead-lettered').length === 3, {
      timeoutMs: 30_000,
      what: 'three dead-letters',
    });
    subscription.unsubscribe();
    const queue = (events.find((e) => e.type === 'received') as { queue: string }).queue;
    let exposition = '';
    await waitFor(
      async () => {
        exposition = (await http!.get('/metrics')).text;
        return (
          sample(exposition, 'messaging_queue_depth', { connection: 'default', transport, queue }) === 0 &&
          depthLines(exposition).some((l) => l.endsWith(' 3'))
        );
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'the queue to read 0 and its dead-letter queue 3' },
    );
    // the consumed queue and its dead-letter queue, nothing else
    expect(depthLines(exposition)).toHaveLength(2);
  });

  it('reports a message the transport could not decode as received, then dead-lettered, and counts it', async () => {
    const base = uniqueName('obs-reject');
    const registry = new Registry();
    const controller = handlersController([{ pattern: base, extras: { queueName: base }, handle: () => undefined }]);
    http = await startHttpApp(optionsFor({ serviceName: base, metrics: { registry } }), [controller]);
    const events: MessagingEvent[] = [];
    const subscription = http.app.get(MessagingServer).events$.subscribe((event) => events.push(event));
    await sendUndecodable[transport](base);
    const deadLettered = await waitFor(() => events.find((e) => e.type === 'dead-lettered'), {
      timeoutMs: 15_000,
      what: 'the undecodable message dead-lettered',
    });
    subscription.unsubscribe();
    expect(deadLettered).toMatchObject({ transport, pattern: undefined, attempt: 1, durationMs: 0 });
    expect((deadLettered as { reason: string }).reason).toMatch(
      transport === 'sns-sqs' ? /not an SNS notification|JSON/ : /content-encoding "br"/,
    );
    const received = events.filter((e) => e.type === 'received');
    expect(received).toEqual([expect.objectContaining({ messageId: (deadLettered as { messageId: string }).messageId })]);
    const exposition = (await http.get('/metrics')).text;
    const labels = { connection: 'default', transport, queue: (deadLettered as { queue: string }).queue, topic: '(no handler)' };
    expect(sample(exposition, 'messaging_messages_handled_total', { ...labels, outcome: 'dead_letter' })).toBe(1);
    expect(sample(exposition, 'messaging_handlers_in_flight', labels)).toBe(0);
  });

  it('counts a failed emit as a publish failure', async () => {
    const base = uniqueName('obs-pub');
    const registry = new Registry();
    http = await startHttpApp(optionsFor({ serviceName: base, metrics: { registry } }), []);
    const client = http.app.get(MessagingClient);
    await expect(lastValueFrom(client.emit('', { n: 1 }))).rejects.toThrow('non-empty topic');
    const attribute = { bad: (() => 1) as unknown as string };
    await expect(
      lastValueFrom(
        client.emit(`${base}-t`, new (await import('../../../lib/index.js')).MessagingRecord({ n: 1 }, { attributes: attribute })),
      ),
    ).rejects.toThrow('attribute "bad"');
    const exposition = (await http.get('/metrics')).text;
    expect(
      sample(exposition, 'messaging_messages_published_total', {
        connection: 'default',
        transport,
        topic: `${base}-t`,
        outcome: 'failure',
      }),
    ).toBe(1);
    expect(
      sample(exposition, 'messaging_messages_published_total', { connection: 'default', transport, topic: '', outcome: 'failure' }),
    ).toBe(1);
  });
});
