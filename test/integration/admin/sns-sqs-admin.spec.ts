import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { MessagingAdminService, type AdminEvent } from '../../../lib/index.js';
import { deleteSnsSqsResources } from '../../support/emulators.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, type AdminHttpApp } from './admin-app.js';

let fauxqs: Fauxqs;
let http: AdminHttpApp;
const prefix = uniqueName('adm');

beforeAll(async () => {
  fauxqs = await startFauxqs();
  http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'admin-test', topicPrefix: `${prefix}-` }));
});

afterAll(async () => {
  await http?.close();
  if (fauxqs) {
    await deleteSnsSqsResources(fauxqs, prefix);
    await fauxqs.stop();
  }
});

const depth = async (queue: string) => (await http.call('GET', `/queues/${queue}`)).json.messages as number;

describe('MessagingAdminModule REST API over SNS+SQS (fauxqs)', () => {
  it('creates a queue with its dead-letter queue (idempotent), lists it and describes it', async () => {
    const name = `${prefix}-${uniqueName('q')}`;
    const created = await http.call('POST', '/queues', { name, visibilityTimeout: 45 });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name, created: true });
    expect((await http.call('POST', '/queues', { name })).json).toMatchObject({ name, created: false });

    const listed = await http.call('GET', `/queues?prefix=${encodeURIComponent(name)}`);
    expect(listed.status).toBe(200);
    expect(listed.json.map((q: { name: string }) => q.name)).toEqual([name, `${name}-dlq`]);

    const info = await http.call('GET', `/queues/${name}`);
    expect(info.json).toMatchObject({
      transport: 'sns-sqs',
      name,
      messages: 0,
      inFlight: 0,
      delayed: 0,
      deadLetterQueue: { name: `${name}-dlq`, messages: 0 },
    });
    expect(info.json.attributes.VisibilityTimeout).toBe('45');
    expect(JSON.parse(info.json.attributes.RedrivePolicy)).toMatchObject({ maxReceiveCount: 5 });

    const conflict = await http.call('POST', '/queues', { name, visibilityTimeout: 10 });
    expect(conflict.status).toBe(409);
    expect(conflict.json.message).toContain('VisibilityTimeout is 45');
  });

  it('subscribes a queue to a topic with a filter policy; a publish through the envelope shows up in peek and stays', async () => {
    const topic = uniqueName('order.paid');
    const queue = `${prefix}-${uniqueName('sub')}`;
    await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    const createdTopic = await http.call('POST', '/topics', { name: topic });
    expect(createdTopic.json).toMatchObject({ created: true, name: expect.stringContaining('___2e_') });
    const subscribed = await http.call('POST', '/subscriptions', { topic, queue, filterPolicy: { color: ['red'] } });
    expect(subscribed.status).toBe(201);

    const topicInfo = await http.call('GET', `/topics/${encodeURIComponent(topic)}`);
    expect(topicInfo.json.subscriptions).toEqual([
      expect.objectContaining({ id: subscribed.json.id, queue, filterPolicy: { color: ['red'] }, filterPolicyScope: 'MessageAttributes' }),
    ]);
    expect((await http.call('GET', `/queues/${queue}`)).json.topics).toEqual([createdTopic.json.arn]);
    const topics = await http.call('GET', `/topics?prefix=${encodeURIComponent(prefix)}`);
    expect(topics.json).toEqual(expect.arrayContaining([expect.objectContaining({ arn: createdTopic.json.arn, topic })]));

    expect(
      (await http.call('POST', `/topics/${encodeURIComponent(topic)}/messages`, { data: { n: 1 }, attributes: { color: 'blue' } })).status,
    ).toBe(201);
    expect(
      (await http.call('POST', `/topics/${encodeURIComponent(topic)}/messages`, { data: { n: 2 }, attributes: { color: 'red' } })).status,
    ).toBe(201);
    await waitFor(async () => (await depth(queue)) === 1, { what: 'the red message in the queue' });

    const peeked = await http.call('POST', `/queues/${queue}/peek`, { max: 5 });
    expect(peeked.status).toBe(200);
    expect(peeked.json).toEqual([
      expect.objectContaining({
        topic,
        data: { n: 2 },
        attributes: { color: 'red' },
        receiveCount: 1,
        metadata: expect.objectContaining({ topic, service: expect.objectContaining({ name: 'admin-test' }) }),
      }),
    ]);
    // released at once: still there, visible
    expect((await http.call('GET', `/queues/${queue}`)).json).toMatchObject({ messages: 1, inFlight: 0 });

    // published by the topic's ARN: the envelope still records the @EventPattern topic
    const byArn = await http.call('POST', `/topics/${encodeURIComponent(createdTopic.json.arn)}/messages`, {
      data: { n: 3 },
      attributes: { color: 'red' },
    });
    expect(byArn.status).toBe(201);
    await waitFor(async () => (await depth(queue)) === 2, { what: 'the message published by ARN in the queue' });
    const afterArn = (await http.call('POST', `/queues/${queue}/peek`, { max: 5 })).json as {
      data: { n: number };
      metadata: { topic: string };
    }[];
    expect(afterArn.find((m) => m.data.n === 3)?.metadata.topic).toBe(topic);

    expect((await http.call('DELETE', `/subscriptions/${encodeURIComponent(subscribed.json.id)}`)).status).toBe(204);
    expect((await http.call('GET', `/topics/${encodeURIComponent(topic)}`)).json.subscriptions).toEqual([]);
    expect((await http.call('DELETE', `/subscriptions/${encodeURIComponent(subscribed.json.id)}`)).status).toBe(404);

    expect((await http.call('POST', `/queues/${queue}/purge`)).status).toBe(204);
    await waitFor(async () => (await depth(queue)) === 0, { what: 'the purged queue to be empty' });

    expect((await http.call('DELETE', `/topics/${encodeURIComponent(topic)}`)).status).toBe(204);
    expect((await http.call('GET', `/topics/${encodeURIComponent(topic)}`)).status).toBe(404);
    expect((await http.call('DELETE', `/queues/${queue}`)).status).toBe(204);
    await expect(fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).rejects.toThrow();
  });

  it('redrives a dead-letter queue back to its source queue, N at a time, then the rest, counted', async () => {
    const queue = `${prefix}-${uniqueName('rd')}`;
    const dlq = `${queue}-dlq`;
    await http.call('POST', '/queues', { name: queue });
    for (const n of [1, 2, 3]) {
      const sent = await http.call('POST', `/queues/${dlq}/messages`, { data: { n }, topic: 'order-failed' });
      expect(sent.status).toBe(201);
    }
    await waitFor(async () => (await depth(dlq)) === 3, { what: 'three messages in the DLQ' });

    const some = await http.call('POST', `/queues/${dlq}/redrive`, { max: 2 });
    expect(some.json).toEqual({ from: dlq, to: queue, moved: 2 });
    expect(await depth(dlq)).toBe(1);
    expect(await depth(queue)).toBe(2);
    const rest = await http.call('POST', `/queues/${dlq}/redrive`, {});
    expect(rest.json).toEqual({ from: dlq, to: queue, moved: 1 });
    expect(await depth(dlq)).toBe(0);

    const moved = (await http.call('POST', `/queues/${queue}/peek`, { max: 10, spendReceive: true })).json as Array<{
      data: { n: number };
      topic: string;
    }>;
    expect(moved.map((m) => m.data.n).sort()).toEqual([1, 2, 3]);
    expect(moved.every((m) => m.topic === 'order-failed')).toBe(true);

    const noSource = await http.call('POST', `/queues/${queue}/redrive`, {});
    expect(noSource.status).toBe(404);
    expect(noSource.json.message).toContain('pass { to }');
  });

  it('answers 404 for a missing queue, 400 for a bad name, and reports changes on events$', async () => {
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      const missing = `${prefix}-${uniqueName('none')}`;
      expect((await http.call('GET', `/queues/${missing}`)).status).toBe(404);
      expect((await http.call('DELETE', `/queues/${missing}`)).status).toBe(404);
      expect((await http.call('POST', `/queues/${missing}/purge`)).status).toBe(404);
      const bad = await http.call('POST', '/queues', { name: 'no spaces allowed' });
      expect(bad.status).toBe(400);
      expect(bad.json.message).toContain('A-Z, a-z, 0-9');
      expect((await http.call('POST', '/queues/x/peek', { max: 1000 })).status).toBe(400);

      const name = `${prefix}-${uniqueName('ev')}`;
      const admin = http.app.get(MessagingAdminService);
      await admin.createQueue(name, { deadLetterQueue: false });
      await admin.purge(name);
      await admin.deleteQueue(name);
      expect(events.map((e) => [e.type, e.resource])).toEqual([
        ['queue.created', name],
        ['queue.purged', name],
        ['queue.deleted', name],
      ]);
      expect(events[0]).toMatchObject({ transport: 'sns-sqs', kind: 'queue', at: expect.any(Date) });
    } finally {
      subscription.unsubscribe();
    }
  });
});

describe('GET /<path>/openapi.json', () => {
  it('documents every operation of the service under the mounted path as OpenAPI 3', async () => {
    const response = await http.call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const document = response.json;
    expect(document.openapi).toMatch(/^3\.0\.\d$/);
    const operations = Object.entries(document.paths as Record<string, Record<string, { operationId: string }>>).flatMap(
      ([path, methods]) => Object.values(methods).map((op) => ({ path, id: op.operationId })),
    );
    expect(operations.map((o) => o.id).sort()).toEqual(
      [
        'createQueue',
        'createTopic',
        'deleteQueue',
        'deleteTopic',
        'events',
        'listConnections',
        'listQueues',
        'listTopics',
        'overview',
        'peek',
        'publish',
        'purge',
        'queueInfo',
        'redrive',
        'sendToQueue',
        'subscribe',
        'topicInfo',
        'unsubscribe',
      ].sort(),
    );
    expect(operations.every((o) => o.path.startsWith('/messaging/'))).toBe(true);
    // every $ref resolves
    for (const ref of JSON.stringify(document).match(/"#\/components\/schemas\/[^"]+"/g) ?? [])
      expect(document.components.schemas[ref.slice('"#/components/schemas/'.length, -1)]).toBeDefined();
  });
});
