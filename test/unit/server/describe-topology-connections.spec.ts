import 'reflect-metadata';
import type { ModuleMetadata } from '@nestjs/common';
import type { MessageHandler } from '@nestjs/microservices';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  MessagingModule,
  MessagingOptionsError,
  MessagingServer,
  UnknownConnectionError,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';

/** Brokers at closed ports: creating them makes no call, and describing the topology makes none either. */
const snsSqs = (serviceName: string): MessagingModuleOptions => ({
  transport: 'sns-sqs',
  serviceName,
  snsSqs: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
});
const amqp = (serviceName: string): MessagingModuleOptions => ({ transport: 'amqp', serviceName, amqp: { url: 'amqp://127.0.0.1:1' } });

const mainQueues = (server: MessagingServer, connection?: string) =>
  server
    .describeTopology(connection === undefined ? undefined : { connection })
    .queues.filter((q) => q.role === 'main')
    .map((q) => q.name);

describe('MessagingServer.describeTopology({ connection }) / describeTopologies()', () => {
  const modules: TestingModule[] = [];
  afterEach(async () => {
    await Promise.all(modules.splice(0).map((m) => m.close()));
  });

  async function serverOf(metadata: ModuleMetadata): Promise<MessagingServer> {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    modules.push(moduleRef);
    return moduleRef.get(MessagingServer);
  }

  const twoConnections = (controllers: ModuleMetadata['controllers'] = []) => ({
    imports: [MessagingModule.forRoot(snsSqs('billing')), MessagingModule.forRoot({ name: 'rabbit', ...amqp('stock') })],
    controllers,
  });

  it("no argument or 'default': the default connection's handlers; a name: that connection's, in its transport's terms", async () => {
    const server = await serverOf(
      twoConnections([
        controllerFor([
          { pattern: 'order-paid', handle: () => undefined },
          { pattern: 'stock.changed', extras: { connection: 'rabbit' }, handle: () => undefined },
        ]),
      ]),
    );
    expect(mainQueues(server)).toEqual(['billing--order-paid']);
    expect(mainQueues(server, 'default')).toEqual(['billing--order-paid']);
    expect(server.describeTopology({ connection: 'rabbit' })).toMatchObject({
      transport: 'amqp',
      serviceName: 'stock',
      subscriptions: [{ queue: 'stock--stock___2e_changed', routingKey: 'stock.changed' }],
    });
    expect(server.describeTopologies().map(({ connection, topology }) => [connection, topology.transport, topology.queues.length])).toEqual(
      [
        ['default', 'sns-sqs', 2],
        ['rabbit', 'amqp', 3],
      ],
    );
  });

  it('an app with one connection: describeTopologies() holds its one topology, labelled default', async () => {
    const server = await serverOf({
      imports: [MessagingModule.forRoot(snsSqs('billing'))],
      controllers: [controllerFor([{ pattern: 'order-paid', handle: () => undefined }])],
    });
    expect(server.describeTopologies()).toEqual([{ connection: 'default', topology: server.describeTopology() }]);
  });

  it('a connection name the app does not have throws UnknownConnectionError naming the known ones', async () => {
    const server = await serverOf(twoConnections());
    let error: unknown;
    try {
      server.describeTopology({ connection: 'rabit' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownConnectionError);
    expect(error).toMatchObject({ connection: 'rabit', known: ['default', 'rabbit'] });
    expect((error as Error).message).toBe(
      "No messaging connection is named 'rabit' (known: 'default', 'rabbit'); choose a known one or import MessagingModule.forRoot({ name: 'rabit', ... })",
    );
  });

  it('once Nest registered the handlers, describes the registered ones by connection, a named connection alone included', async () => {
    const server = await serverOf(twoConnections([controllerFor([{ pattern: 'from-controller', handle: () => undefined }])]));
    const handler = (() => undefined) as unknown as MessageHandler;
    server.addHandler('stock.registered', handler, true, { connection: 'rabbit' });
    expect(mainQueues(server)).toEqual([]);
    expect(mainQueues(server, 'rabbit')).toEqual(['stock--stock___2e_registered']);
  });

  it('a handler naming a connection the app does not have fails describing, as it fails listen()', async () => {
    const server = await serverOf(
      twoConnections([controllerFor([{ pattern: 'order-paid', extras: { connection: 'parnter' }, handle: () => undefined }])]),
    );
    const message = `Invalid messaging option "@EventPattern('order-paid').connection": names no connection of this app (known: 'default', 'rabbit'); import MessagingModule.forRoot({ name: 'parnter', ... }) or choose a known one (got "parnter")`;
    expect(() => server.describeTopologies()).toThrow(MessagingOptionsError);
    expect(() => server.describeTopologies()).toThrow(message);
    expect(() => server.describeTopology()).toThrow(message);
  });
});
