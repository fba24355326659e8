import 'reflect-metadata';
import { Validator } from '@seriousme/openapi-schema-validator';
import { jest } from '@jest/globals';
import { ADMIN_ROUTES, checkCall, checkRequest, type AdminRoute } from '../../../lib/admin/admin-schemas.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../../lib/admin/admin-validation.js';
import { preview } from '../../../lib/transport/value-preview.js';
import { openApiDocument } from '../../../lib/admin/http/openapi-document.js';
import { AdminConnection } from '../../../lib/admin/admin-connection.js';
import { AdminInvalidArgumentError, MessagingAdminService, type TransportName } from '../../../lib/index.js';
import type { MessagingServer } from '../../../lib/index.js';

const nested = (levels: number): unknown => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

/** The AdminInvalidArgumentError `run` throws (fails the test when it throws nothing or something else). */
function refusal(run: () => unknown): AdminInvalidArgumentError {
  try {
    run();
  } catch (error) {
    if (error instanceof AdminInvalidArgumentError) return error;
    throw error;
  }
  throw new Error('expected an AdminInvalidArgumentError, nothing was thrown');
}

describe('nestsDeeperThan', () => {
  it('measures levels of arrays and objects: 64 pass, 65 do not', () => {
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan({ a: { b: [1, 'x', null] } }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: { b: [[1]] } }, 3)).toBe(true);
    expect(nestsDeeperThan('scalar', 0)).toBe(false);
  });

  it('walks an object again when it comes back deeper than where it was first walked', () => {
    const shared = nested(10);
    const below = (wraps: number) => {
      let node: unknown = [shared];
      for (let wrap = 0; wrap < wraps; wrap += 1) node = [node];
      return [node, shared]; // depth first takes `shared` at depth 1 before the wrapped one
    };
    expect(nestsDeeperThan(below(52), MAX_JSON_DEPTH)).toBe(false); // shared at depth 54: 64 levels
    expect(nestsDeeperThan(below(53), MAX_JSON_DEPTH)).toBe(true);
  });

  it('walks a 50,000-deep array without overflowing the stack', () => {
    expect(nestsDeeperThan(nested(50_000), MAX_JSON_DEPTH)).toBe(true);
  });

  it('finds a cycle (infinitely deep) and does not descend into bytes', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(nestsDeeperThan(cyclic, MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan({ bytes: Buffer.alloc(10_000) }, 1)).toBe(false);
  });

  it('walks a shared sub-object once per depth, so 2^60 paths through 60 shared levels take no time', () => {
    let node: unknown = [];
    for (let level = 0; level < 60; level += 1) node = [node, node];
    const started = Date.now();
    expect(nestsDeeperThan(node, MAX_JSON_DEPTH)).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('error messages', () => {
  it('quote small values and describe large or nested ones briefly', () => {
    expect(new AdminInvalidArgumentError('max', 'must be an integer', 'x').message).toBe('Invalid max: must be an integer (got "x")');
    expect(new AdminInvalidArgumentError('max', 'must be an integer', 1.5).value).toBe(1.5);
    const long = new AdminInvalidArgumentError('name', 'is too long', 'y'.repeat(100_000));
    expect(long.message).toBe(`Invalid name: is too long (got "${'y'.repeat(60)}"… (100000 characters))`);
    expect(new AdminInvalidArgumentError('data', 'nests too deep', nested(50_000)).message).toBe(
      'Invalid data: nests too deep (got an array of 1 item)',
    );
    expect(preview({ a: 1 })).toBe('an object');
    expect(preview(Buffer.alloc(3))).toBe('3 bytes');
  });
});

describe('checkRequest (the controller)', () => {
  const request = (route: AdminRoute, transport: TransportName, body: unknown, extra: { params?: object; query?: object } = {}) =>
    refusal(() => checkRequest(route, transport, { body, ...extra } as Parameters<typeof checkRequest>[2]));

  it('refuses a body that is not an object, an unknown body field and an unknown query parameter, naming them', () => {
    expect(request(ADMIN_ROUTES.createQueue, 'sns-sqs', nested(50_000)).message).toBe(
      'Invalid request body: must be a JSON object (got an array of 1 item)',
    );
    expect(request(ADMIN_ROUTES.createQueue, 'sns-sqs', { name: 'q', colour: 'red' }).message).toBe(
      'Invalid colour: unknown body field of createQueue: its body fields are name, fifo, visibilityTimeout, deadLetterQueue, maxReceiveCount',
    );
    expect(request(ADMIN_ROUTES.listQueues, 'amqp', undefined, { query: { max: '5' } }).argument).toBe('max');
    expect(request(ADMIN_ROUTES.purge, 'amqp', { all: true }, { params: { name: 'q' } }).rule).toBe(
      'unknown body field of purge: it takes no body fields',
    );
  });

  it('checks each type: the values the outside probe saw accepted or answered with 500', () => {
    const on = (transport: TransportName, route: AdminRoute, body: unknown, params = {}) => request(route, transport, body, { params });
    expect(on('sns-sqs', ADMIN_ROUTES.createQueue, { name: 'q', fifo: 'yes' }).message).toBe(
      'Invalid fifo: must be true or false (got "yes")',
    );
    expect(on('sns-sqs', ADMIN_ROUTES.createTopic, { name: 't', fifo: 'yes' }).argument).toBe('fifo');
    expect(on('sns-sqs', ADMIN_ROUTES.createQueue, { name: 'q', deadLetterQueue: '' }).rule).toBe(
      'must be a non-empty string of at most 512 characters, or false',
    );
    expect(on('amqp', ADMIN_ROUTES.redrive, { to: 5 }, { name: 'q-dlq' }).message).toBe(
      'Invalid to: must be a non-empty string of at most 512 characters (got 5)',
    );
    expect(on('sns-sqs', ADMIN_ROUTES.subscribe, { topic: 't', queue: 'q', filterPolicy: {}, filterPolicyScope: 'Bogus' }).rule).toBe(
      'must be one of "MessageAttributes", "MessageBody"',
    );
    expect(on('sns-sqs', ADMIN_ROUTES.publish, { data: 1, attributes: 'x' }, { topic: 't' }).argument).toBe('attributes');
    expect(on('amqp', ADMIN_ROUTES.publish, { data: 1, attributes: [1] }, { topic: 't' }).argument).toBe('attributes');
    expect(on('amqp', ADMIN_ROUTES.publish, { data: 1, attributes: { n: Infinity } }, { topic: 't' }).argument).toBe('attributes.n');
    expect(on('amqp', ADMIN_ROUTES.publish, { data: 1, attributes: { ['k'.repeat(90_000)]: 'v' } }, { topic: 't' }).message).toBe(
      `Invalid attributes.${'k'.repeat(60)}…: attribute names are 1 to 256 characters; this one has 90000`,
    );
    expect(on('sns-sqs', ADMIN_ROUTES.peek, { spendReceive: 'yes' }, { name: 'q' }).argument).toBe('spendReceive');
    expect(on('sns-sqs', ADMIN_ROUTES.peek, { max: 101 }, { name: 'q' }).rule).toBe('must be an integer from 1 to 100');
  });

  it("refuses a field the transport does not honour, naming the field and the transport's reason", () => {
    expect(request(ADMIN_ROUTES.createQueue, 'amqp', { name: 'q', visibilityTimeout: 30 }).message).toBe(
      "Invalid visibilityTimeout: is not supported on transport 'amqp' (sns-sqs only): an AMQP message stays with its consumer until acked; there is no visibility timeout",
    );
    for (const field of ['fifo', 'maxReceiveCount'])
      expect(request(ADMIN_ROUTES.createQueue, 'amqp', { name: 'q', [field]: field === 'fifo' ? false : 5 }).argument).toBe(field);
    expect(request(ADMIN_ROUTES.sendToQueue, 'amqp', { data: 1, delaySeconds: 0 }, { params: { name: 'q' } }).argument).toBe(
      'delaySeconds',
    );
    expect(request(ADMIN_ROUTES.publish, 'amqp', { data: 1, groupId: 'g' }, { params: { topic: 't' } }).argument).toBe('groupId');
    expect(request(ADMIN_ROUTES.subscribe, 'sns-sqs', { topic: 't', queue: 'q', exchange: 'x' }).rule).toMatch(
      /^is not supported on transport 'sns-sqs' \(amqp only\)/,
    );
    expect(request(ADMIN_ROUTES.subscribe, 'sns-sqs', { topic: 't', queue: 'q', filterPolicyScope: 'MessageBody' }).rule).toBe(
      'applies only together with filterPolicy',
    );
  });

  it('passes what is valid, typed, and keeps data nested 64 levels', () => {
    const data = nested(MAX_JSON_DEPTH);
    expect(checkRequest(ADMIN_ROUTES.sendToQueue, 'sns-sqs', { params: { name: 'q' }, body: { data, delaySeconds: 5 } })).toEqual({
      name: 'q',
      data,
      delaySeconds: 5,
    });
    expect(checkRequest(ADMIN_ROUTES.createQueue, 'amqp', { body: { name: 'q', deadLetterQueue: false } })).toEqual({
      name: 'q',
      deadLetterQueue: false,
    });
    expect(checkRequest(ADMIN_ROUTES.listTopics, 'amqp', { query: { prefix: '' } })).toEqual({ prefix: '' });
  });

  it('takes the connection from the query string on every route of a connection, never from the body', () => {
    for (const route of Object.values(ADMIN_ROUTES) as AdminRoute[])
      if (route !== ADMIN_ROUTES.listConnections)
        expect([route.operationId, route.args.connection?.in]).toEqual([route.operationId, 'query']);
    expect(checkRequest(ADMIN_ROUTES.purge, 'sns-sqs', { params: { name: 'q' }, query: { connection: 'partner' } })).toEqual({
      name: 'q',
      connection: 'partner',
    });
    expect(
      refusal(() => checkRequest(ADMIN_ROUTES.peek, 'sns-sqs', { params: { name: 'q' }, body: { connection: 'partner' } })).message,
    ).toMatch(/^Invalid connection: unknown body field of peek/);
    expect(refusal(() => checkRequest(ADMIN_ROUTES.listQueues, 'sns-sqs', { query: { connection: ['a', 'b'] } })).argument).toBe(
      'connection',
    );
  });
});

describe('checkCall (MessagingAdminService)', () => {
  it('refuses options that are not an object, an unknown option, and a signal that is not an AbortSignal', () => {
    expect(refusal(() => checkCall(ADMIN_ROUTES.peek, 'sns-sqs', { name: 'q' }, 5)).argument).toBe('options');
    expect(refusal(() => checkCall(ADMIN_ROUTES.createQueue, 'sns-sqs', { name: 'q' }, { name: 'other' })).message).toMatch(
      /^Invalid name: unknown option of createQueue: its options are fifo, /,
    );
    expect(refusal(() => checkCall(ADMIN_ROUTES.redrive, 'amqp', { name: 'q-dlq' }, { signal: true })).rule).toBe('must be an AbortSignal');
  });

  it('returns the options alone, an undefined option counting as absent', () => {
    const signal = new AbortController().signal;
    expect(checkCall(ADMIN_ROUTES.redrive, 'amqp', { name: 'q-dlq' }, { max: 3, to: undefined, signal })).toEqual({ max: 3, signal });
  });

  afterEach(() => jest.restoreAllMocks());

  it('refuses before the service reaches for its backend (no broker call)', async () => {
    const service = serviceOn(['default', 'amqp']);
    const use = jest.spyOn(AdminConnection.prototype, 'use');
    await expect(service.createQueue('q', { fifo: true })).rejects.toThrow("Invalid fifo: is not supported on transport 'amqp'");
    await expect(service.publish('t', nested(50_000))).rejects.toThrow(`Invalid data: nests more than ${MAX_JSON_DEPTH} levels`);
    await expect(service.redrive('q-dlq', { to: 5 as unknown as string })).rejects.toThrow('Invalid to:');
    await expect(service.queueInfo('')).rejects.toThrow('Invalid name:');
    await expect(service.subscribe('t', 'q', { filterPolicy: {} })).rejects.toThrow('Invalid filterPolicy:');
    expect(use).not.toHaveBeenCalled();
  });

  it("checks a call against its connection's transport, and refuses a connection the app does not have, naming the known ones", async () => {
    const service = serviceOn(['default', 'sns-sqs'], ['rabbit', 'amqp']);
    const use = jest.spyOn(AdminConnection.prototype, 'use');
    expect(service.listConnections()).toEqual([
      { name: 'default', transport: 'sns-sqs' },
      { name: 'rabbit', transport: 'amqp' },
    ]);
    expect([service.transport, service.connection('rabbit').transport]).toEqual(['sns-sqs', 'amqp']);
    await expect(service.createQueue('q', { fifo: true, connection: 'rabbit' })).rejects.toThrow(
      "Invalid fifo: is not supported on transport 'amqp'",
    );
    const unknown = await service.queueInfo('q', { connection: 'partner' }).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(AdminInvalidArgumentError);
    expect((unknown as AdminInvalidArgumentError).argument).toBe('connection');
    expect((unknown as Error).message).toBe(
      `Invalid connection: names no connection of this app: choose one of 'default', 'rabbit' (got "partner")`,
    );
    await expect(service.purge('q', { connection: 5 as unknown as string })).rejects.toThrow(
      'Invalid connection: must be a string: the name of one connection of this app (got 5)',
    );
    expect(() => service.eventsOf('partner')).toThrow('Invalid connection:');
    expect(use).not.toHaveBeenCalled();
  });
});

/** A MessagingAdminService on connections of these names and transports (the first is the default), without brokers. */
function serviceOn(...connections: Array<[name: string, transport: TransportName]>): MessagingAdminService {
  const server = {
    connections: () => connections.map(([name, transport]) => ({ name, options: { transport } })),
  } as unknown as MessagingServer;
  return new MessagingAdminService(server);
}

describe('openapi.json from the same records', () => {
  it.each(['sns-sqs', 'amqp'] as const)('on %s: a valid OpenAPI 3 document whose request schemas are the records', async (transport) => {
    const document = openApiDocument('messaging', [{ name: 'default', transport }]) as { paths: Record<string, Record<string, any>> };
    const result = await new Validator().validate(document as never);
    expect(result.errors).toBeUndefined();
    for (const route of Object.values(ADMIN_ROUTES) as AdminRoute[]) {
      const operation = document.paths[`/messaging/${route.path.replace(/:(\w+)/g, '{$1}')}`][route.method.toLowerCase()];
      expect(operation.operationId).toBe(route.operationId);
      const honoured = Object.entries(route.args).filter(([, a]) => !a.only || a.only.transport === transport);
      const inBody = honoured.filter(([, a]) => a.in === 'body').map(([name]) => name);
      const schema = operation.requestBody?.content['application/json'].schema;
      expect(Object.keys(schema?.properties ?? {})).toEqual(inBody);
      if (schema) expect(schema.additionalProperties).toBe(false);
      const parameters = (operation.parameters ?? []).map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
      expect(parameters).toEqual(honoured.filter(([, a]) => a.in === 'path' || a.in === 'query').map(([name, a]) => `${a.in}:${name}`));
    }
    const createQueue = document.paths['/messaging/queues'].post.requestBody.content['application/json'].schema.properties;
    const subscribe = document.paths['/messaging/subscriptions'].post.requestBody.content['application/json'].schema.properties;
    if (transport === 'amqp') {
      expect(Object.keys(createQueue)).toEqual(['name', 'deadLetterQueue']);
      expect(subscribe.exchange).toEqual(expect.objectContaining({ type: 'string', minLength: 1 }));
    } else {
      expect(createQueue.visibilityTimeout).toEqual(expect.objectContaining({ type: 'integer', minimum: 0, maximum: 43_200 }));
      expect(subscribe.filterPolicyScope.enum).toEqual(['MessageAttributes', 'MessageBody']);
      expect(subscribe.exchange).toBeUndefined();
    }
  });

  it('for an app with connections on both transports: every argument, each transport-only one saying so, and the connection names', async () => {
    const connections = [
      { name: 'default', transport: 'sns-sqs' as const },
      { name: 'rabbit', transport: 'amqp' as const },
    ];
    const document = openApiDocument('messaging', connections) as {
      info: { description: string };
      paths: Record<string, Record<string, any>>;
    };
    expect((await new Validator().validate(document as never)).errors).toBeUndefined();
    expect(document.info.description).toContain('Connections: default (sns-sqs), rabbit (amqp)');
    for (const route of Object.values(ADMIN_ROUTES) as AdminRoute[]) {
      const operation = document.paths[`/messaging/${route.path.replace(/:(\w+)/g, '{$1}')}`][route.method.toLowerCase()];
      const connection = (operation.parameters ?? []).find((p: { name: string }) => p.name === 'connection');
      if (route === ADMIN_ROUTES.listConnections) expect(connection).toBeUndefined();
      else expect(connection).toMatchObject({ in: 'query', required: false, schema: { type: 'string', enum: ['default', 'rabbit'] } });
    }
    const subscribe = document.paths['/messaging/subscriptions'].post.requestBody.content['application/json'].schema.properties;
    expect(subscribe.exchange.description).toMatch(/\(amqp connections only\)$/);
    expect(subscribe.filterPolicy.description).toMatch(/\(sns-sqs connections only\)$/);
  });
});
