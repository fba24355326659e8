import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { ListTopicsCommand } from '@aws-sdk/client-sns';
import { jest } from '@jest/globals';
import { gzipSync } from 'node:zlib';
import { MessagingAdminService, type RedriveOptions, type RedriveResult, type TransportName } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { brokerNames, cleanUpBrokerAfterAll, rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, type AdminHttpApp } from './admin-app.js';

/** 50,000 nested arrays: 100,000 bytes, under the body parser's 100 kB limit. */
const DEEP = '['.repeat(50_000) + ']'.repeat(50_000);
/** 64 nested arrays: the deepest JSON value an argument may be. */
const deepest = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

interface Case {
  route: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Under the admin path, query string included. */
  path: string;
  /** Sent as JSON, or as is when a string. */
  body?: unknown;
  /** The field the 400 must name (its message starts "Invalid <field>:"). */
  field: string;
  /** What else the message must say. */
  says?: string;
}

/** Every route with wrong types, unknown fields and, where it takes a body, a 50,000-deep one; `n` names resources. */
function cases(transport: TransportName, n: (what: string) => string): Case[] {
  const sns = transport === 'sns-sqs';
  const unsupported = `not supported on transport '${transport}'`;
  const queue = encodeURIComponent(n('q'));
  const topic = encodeURIComponent(n('t'));
  const deepBody = (route: string, method: 'POST' | 'DELETE', path: string): Case => ({
    route,
    method,
    path,
    body: DEEP,
    field: 'request body',
    says: 'must be a JSON object (got an array of 1 item)',
  });
  return [
    {
      route: 'listConnections',
      method: 'GET',
      path: '/connections?connection=default',
      field: 'connection',
      says: 'it takes no query parameters',
    },
    // the connection is a query parameter of every other route: absent, the default; a name the app lacks, a 400 listing its names
    {
      route: 'listQueues',
      method: 'GET',
      path: '/queues?connection=partner',
      field: 'connection',
      says: `choose one of 'default' (got "partner")`,
    },
    { route: 'listQueues', method: 'GET', path: '/queues?connection=a&connection=b', field: 'connection', says: 'must be a string' },
    {
      route: 'purge',
      method: 'POST',
      path: `/queues/${queue}/purge?connection=partner`,
      field: 'connection',
      says: "choose one of 'default'",
    },
    { route: 'events', method: 'GET', path: '/events?connection=partner', field: 'connection', says: "choose one of 'default'" },
    {
      route: 'peek',
      method: 'POST',
      path: `/queues/${queue}/peek`,
      body: { connection: 'default' },
      field: 'connection',
      says: 'unknown body field of peek',
    },
    { route: 'listQueues', method: 'GET', path: '/queues?bogus=1', field: 'bogus', says: 'unknown query parameter of listQueues' },
    { route: 'listQueues', method: 'GET', path: '/queues?prefix=a&prefix=b', field: 'prefix', says: 'must be a string' },

    { route: 'createQueue', method: 'POST', path: '/queues', body: {}, field: 'name', says: 'is required' },
    { route: 'createQueue', method: 'POST', path: '/queues', body: { name: 5 }, field: 'name', says: 'non-empty string' },
    { route: 'createQueue', method: 'POST', path: '/queues', body: { name: 'x'.repeat(600) }, field: 'name', says: '(600 characters)' },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), bogus: true },
      field: 'bogus',
      says: 'unknown body field',
    },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), fifo: 'yes' },
      field: 'fifo',
      says: sns ? 'must be true or false' : unsupported,
    },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), deadLetterQueue: '' },
      field: 'deadLetterQueue',
      says: 'or false',
    },
    { route: 'createQueue', method: 'POST', path: '/queues', body: { name: n('q'), deadLetterQueue: true }, field: 'deadLetterQueue' },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), visibilityTimeout: 1.5 },
      field: 'visibilityTimeout',
      says: sns ? 'integer from 0 to 43200' : unsupported,
    },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), maxReceiveCount: sns ? 0 : 5 },
      field: 'maxReceiveCount',
      says: sns ? 'integer from 1 to 1000' : unsupported,
    },
    {
      route: 'createQueue',
      method: 'POST',
      path: '/queues',
      body: { name: n('q'), attributes: 'x' },
      field: 'attributes',
      says: 'unknown body field',
    },
    { route: 'createQueue', method: 'POST', path: '/queues', body: `{"name":${DEEP}}`, field: 'name', says: 'got an array of 1 item' },
    deepBody('createQueue', 'POST', '/queues'),

    {
      route: 'queueInfo',
      method: 'GET',
      path: `/queues/${queue}?verbose=1`,
      field: 'verbose',
      says: 'its query parameters are connection',
    },
    { route: 'queueInfo', method: 'GET', path: `/queues/${'q'.repeat(600)}`, field: 'name', says: 'at most 512 characters' },

    {
      route: 'deleteQueue',
      method: 'DELETE',
      path: `/queues/${queue}`,
      body: { force: true },
      field: 'force',
      says: 'takes no body fields',
    },
    deepBody('deleteQueue', 'DELETE', `/queues/${queue}`),

    { route: 'sendToQueue', method: 'POST', path: `/queues/${queue}/messages`, body: {}, field: 'data', says: 'is required' },
    { route: 'sendToQueue', method: 'POST', path: `/queues/${queue}/messages`, body: { data: 1, attributes: 'x' }, field: 'attributes' },
    { route: 'sendToQueue', method: 'POST', path: `/queues/${queue}/messages`, body: { data: 1, attributes: [1] }, field: 'attributes' },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: { data: 1, attributes: { color: { r: 1 } } },
      field: 'attributes.color',
    },
    { route: 'sendToQueue', method: 'POST', path: `/queues/${queue}/messages`, body: { data: 1, topic: '' }, field: 'topic' },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: { data: 1, delaySeconds: 901 },
      field: 'delaySeconds',
      says: sns ? 'integer from 0 to 900' : unsupported,
    },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: { data: 1, groupId: 7 },
      field: 'groupId',
      says: sns ? 'non-empty string' : unsupported,
    },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: { data: 1, queue: 'x' },
      field: 'queue',
      says: 'unknown body field',
    },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: `{"data":${DEEP}}`,
      field: 'data',
      says: 'nests more than 64',
    },
    {
      route: 'sendToQueue',
      method: 'POST',
      path: `/queues/${queue}/messages`,
      body: { data: deepest(65) },
      field: 'data',
      says: 'nests more than 64',
    },
    deepBody('sendToQueue', 'POST', `/queues/${queue}/messages`),

    { route: 'peek', method: 'POST', path: `/queues/${queue}/peek`, body: { max: 0 }, field: 'max', says: 'integer from 1 to 100' },
    { route: 'peek', method: 'POST', path: `/queues/${queue}/peek`, body: { max: '5' }, field: 'max' },
    {
      route: 'peek',
      method: 'POST',
      path: `/queues/${queue}/peek`,
      body: { spendReceive: 'yes' },
      field: 'spendReceive',
      says: 'true or false',
    },
    { route: 'peek', method: 'POST', path: `/queues/${queue}/peek?max=5`, field: 'max', says: 'its query parameters are connection' },
    deepBody('peek', 'POST', `/queues/${queue}/peek`),

    { route: 'purge', method: 'POST', path: `/queues/${queue}/purge`, body: { all: true }, field: 'all', says: 'takes no body fields' },
    deepBody('purge', 'POST', `/queues/${queue}/purge`),

    { route: 'redrive', method: 'POST', path: `/queues/${queue}/redrive`, body: { to: 5 }, field: 'to', says: 'non-empty string' },
    { route: 'redrive', method: 'POST', path: `/queues/${queue}/redrive`, body: { to: '' }, field: 'to' },
    { route: 'redrive', method: 'POST', path: `/queues/${queue}/redrive`, body: { max: -1 }, field: 'max', says: 'integer from 1' },
    {
      route: 'redrive',
      method: 'POST',
      path: `/queues/${queue}/redrive`,
      body: { signal: true },
      field: 'signal',
      says: 'unknown body field',
    },
    deepBody('redrive', 'POST', `/queues/${queue}/redrive`),

    { route: 'listTopics', method: 'GET', path: '/topics?limit=5', field: 'limit', says: 'unknown query parameter of listTopics' },

    { route: 'createTopic', method: 'POST', path: '/topics', body: { fifo: true }, field: 'name', says: 'is required' },
    {
      route: 'createTopic',
      method: 'POST',
      path: '/topics',
      body: { name: n('t'), fifo: 'yes' },
      field: 'fifo',
      says: sns ? 'must be true or false' : unsupported,
    },
    {
      route: 'createTopic',
      method: 'POST',
      path: '/topics',
      body: { name: n('t'), type: 'fanout' },
      field: 'type',
      says: 'unknown body field',
    },
    deepBody('createTopic', 'POST', '/topics'),

    { route: 'topicInfo', method: 'GET', path: `/topics/${topic}?x=1`, field: 'x', says: 'its query parameters are connection' },
    { route: 'deleteTopic', method: 'DELETE', path: `/topics/${topic}`, body: { cascade: true }, field: 'cascade' },
    deepBody('deleteTopic', 'DELETE', `/topics/${topic}`),

    { route: 'publish', method: 'POST', path: `/topics/${topic}/messages`, body: { attributes: {} }, field: 'data', says: 'is required' },
    { route: 'publish', method: 'POST', path: `/topics/${topic}/messages`, body: { data: 1, attributes: 'x' }, field: 'attributes' },
    { route: 'publish', method: 'POST', path: `/topics/${topic}/messages`, body: { data: 1, attributes: [1] }, field: 'attributes' },
    {
      route: 'publish',
      method: 'POST',
      path: `/topics/${topic}/messages`,
      body: `{"data":1,"attributes":{"a":${DEEP}}}`,
      field: 'attributes.a',
      says: 'nests more than 64',
    },
    {
      route: 'publish',
      method: 'POST',
      path: `/topics/${topic}/messages`,
      body: `{"data":${DEEP}}`,
      field: 'data',
      says: 'nests more than 64',
    },
    {
      route: 'publish',
      method: 'POST',
      path: `/topics/${topic}/messages`,
      body: { data: 1, delaySeconds: 5 },
      field: 'delaySeconds',
      says: 'unknown',
    },
    deepBody('publish', 'POST', `/topics/${topic}/messages`),

    { route: 'subscribe', method: 'POST', path: '/subscriptions', body: { topic: n('t') }, field: 'queue', says: 'is required' },
    { route: 'subscribe', method: 'POST', path: '/subscriptions', body: { topic: 5, queue: n('q') }, field: 'topic' },
    {
      route: 'subscribe',
      method: 'POST',
      path: '/subscriptions',
      body: { topic: n('t'), queue: n('q'), ...(sns ? { filterPolicy: { a: ['x'] } } : {}), filterPolicyScope: 'Bogus' },
      field: 'filterPolicyScope',
      says: sns ? 'must be one of "MessageAttributes", "MessageBody"' : unsupported,
    },
    {
      route: 'subscribe',
      method: 'POST',
      path: '/subscriptions',
      body: { topic: n('t'), queue: n('q'), filterPolicyScope: 'MessageBody' },
      field: 'filterPolicyScope',
      says: sns ? 'only together with filterPolicy' : unsupported,
    },
    {
      route: 'subscribe',
      method: 'POST',
      path: '/subscriptions',
      body: { topic: n('t'), queue: n('q'), filterPolicy: 'color=red' },
      field: 'filterPolicy',
      says: sns ? 'must be a JSON object' : unsupported,
    },
    {
      route: 'subscribe',
      method: 'POST',
      path: '/subscriptions',
      body: { topic: n('t'), queue: n('q'), exchange: sns ? 'x' : '' },
      field: 'exchange',
      says: sns ? "not supported on transport 'sns-sqs'" : 'non-empty string',
    },
    {
      route: 'subscribe',
      method: 'POST',
      path: '/subscriptions',
      body: `{"topic":"t","queue":"q","filterPolicy":{"a":${DEEP}}}`,
      field: 'filterPolicy',
      says: sns ? 'nests more than 64' : unsupported,
    },
    deepBody('subscribe', 'POST', '/subscriptions'),

    {
      route: 'unsubscribe',
      method: 'DELETE',
      path: `/subscriptions/x?force=1`,
      field: 'force',
      says: 'its query parameters are connection',
    },
    deepBody('unsubscribe', 'DELETE', '/subscriptions/x'),

    { route: 'overview', method: 'GET', path: '/overview?queue=x', field: 'queue', says: 'its query parameters are connection' },
    { route: 'events', method: 'GET', path: '/events?since=0', field: 'since', says: 'its query parameters are connection' },
  ];
}

async function send(http: AdminHttpApp, c: Pick<Case, 'method' | 'path' | 'body'>): Promise<{ status: number; json: any }> {
  const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
  const response = await fetch(`${http.url}/messaging${c.path}`, {
    method: c.method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body,
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: response.status, json };
}

/** The routes the records define, as the OpenAPI document lists them (so that a new route cannot go unprobed). */
async function documentedRoutes(http: AdminHttpApp): Promise<string[]> {
  const document = (await send(http, { method: 'GET', path: '/openapi.json' })).json;
  return Object.values(document.paths as Record<string, Record<string, { operationId: string }>>)
    .flatMap((methods) => Object.values(methods).map((operation) => operation.operationId))
    .sort();
}

function probesEveryRoute(transport: TransportName, http: () => AdminHttpApp, n: (what: string) => string): void {
  const table = cases(transport, n);

  it('probes every route of the API', async () => {
    expect([...new Set(table.map((c) => c.route))].sort()).toEqual(await documentedRoutes(http()));
  });

  it.each(
    table.map((c) => [
      `${c.route}: ${c.method} ${c.path.slice(0, 60)} ${String(typeof c.body === 'string' ? c.body.slice(0, 40) : (JSON.stringify(c.body) ?? '')).slice(0, 80)}`,
      c,
    ]),
  )('%s → 400 naming the field', async (_, c) => {
    const { status, json } = await send(http(), c as Case);
    expect({ status, message: json.message }).toEqual({ status: 400, message: expect.stringContaining(`Invalid ${(c as Case).field}:`) });
    if ((c as Case).says) expect(json.message).toContain((c as Case).says);
    expect(json.message.length).toBeLessThan(600);
  });

  it('answers invalid JSON or gzip with 400 and a body over the parser limit (inflated too) with 413, never 500', async () => {
    const invalid = await send(http(), { method: 'POST', path: '/queues', body: '{"name": ' });
    expect(invalid.status).toBe(400);
    expect(invalid.json.message).toMatch(/JSON/);
    const large = await send(http(), { method: 'POST', path: '/queues', body: JSON.stringify({ name: n('q'), pad: 'x'.repeat(200_000) }) });
    expect(large.status).toBe(413);
    expect(large.json.message).toMatch(/too large/);
    const inflate = (body: Buffer) =>
      fetch(`${http().url}/messaging/queues`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body,
      });
    expect((await inflate(gzipSync(JSON.stringify({ name: n('q'), pad: 'x'.repeat(5_000_000) })))).status).toBe(413); // 5 MB from 5 kB
    expect((await inflate(Buffer.from('not gzip'))).status).toBe(400);
  });
}

describe('admin API validation over SNS+SQS (fauxqs)', () => {
  let fauxqs: Fauxqs;
  let http: AdminHttpApp;
  const prefix = uniqueName('val');
  const n = (what: string) => `${prefix}-${what}`;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'validation', topicPrefix: `${prefix}-` }));
  });

  afterAll(async () => {
    await http?.close();
    await fauxqs?.stop();
  });

  probesEveryRoute('sns-sqs', () => http, n);

  it('leaves no queue or topic behind: nothing reached the broker', async () => {
    const { QueueUrls = [] } = await fauxqs.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
    const { Topics = [] } = await fauxqs.sns.send(new ListTopicsCommand({}));
    expect({ queues: QueueUrls, topics: Topics.filter((t) => t.TopicArn?.includes(prefix)) }).toEqual({ queues: [], topics: [] });
  });

  it('accepts JSON nested exactly 64 levels as data', async () => {
    const queue = n('depth');
    expect((await send(http, { method: 'POST', path: '/queues', body: { name: queue, deadLetterQueue: false } })).status).toBe(201);
    try {
      const sent = await send(http, { method: 'POST', path: `/queues/${queue}/messages`, body: { data: deepest(64) } });
      expect(sent.status).toBe(201);
    } finally {
      expect((await send(http, { method: 'DELETE', path: `/queues/${queue}` })).status).toBe(204);
    }
  });

  it("aborts the redrive's signal when the client goes away before the answer, and not after an answer", async () => {
    const admin = http.app.get(MessagingAdminService);
    const signals: AbortSignal[] = [];
    let answer: ((result: RedriveResult) => void) | undefined;
    const redrive = jest.spyOn(admin, 'redrive').mockImplementation((from: string, options: RedriveOptions = {}) => {
      signals.push(options.signal!);
      return new Promise<RedriveResult>((resolve) => {
        answer = resolve;
        options.signal!.addEventListener('abort', () => resolve({ from, to: 'x', moved: 0 }));
      });
    });
    try {
      const client = new AbortController();
      const request = fetch(`${http.url}/messaging/queues/${n('dlq')}/redrive`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: '{}',
        signal: client.signal,
      }).catch((error: unknown) => error);
      await waitFor(() => signals.length === 1, { what: 'the redrive to start' });
      expect(signals[0].aborted).toBe(false);
      client.abort();
      await request;
      await waitFor(() => signals[0].aborted, { what: "the redrive's signal to abort" });

      const finished = send(http, { method: 'POST', path: `/queues/${n('dlq')}/redrive`, body: {} });
      await waitFor(() => signals.length === 2, { what: 'the second redrive to start' });
      answer!({ from: n('dlq'), to: n('q'), moved: 3 });
      expect(await finished).toEqual({ status: 200, json: { from: n('dlq'), to: n('q'), moved: 3 } });
      expect(signals[1].aborted).toBe(false);
    } finally {
      redrive.mockRestore();
    }
  });
});

describe('admin API validation over AMQP (RabbitMQ)', () => {
  let http: AdminHttpApp;
  const prefix = uniqueName('val');
  const n = (what: string) => `${prefix}-${what}`;
  const track = cleanUpBrokerAfterAll();
  track(prefix);

  beforeAll(async () => {
    http = await startAdminApp(rabbitMqOptions({ serviceName: n('svc'), topicPrefix: `${prefix}.` }));
  });

  afterAll(async () => {
    await http?.close();
  });

  probesEveryRoute('amqp', () => http, n);

  it('leaves no queue or exchange behind: nothing reached the broker', async () => {
    const ours = (names: string[]) => names.filter((name) => name.includes(prefix));
    expect({ queues: ours(await brokerNames('queues')), exchanges: ours(await brokerNames('exchanges')) }).toEqual({
      queues: [],
      exchanges: [],
    });
  });
});
