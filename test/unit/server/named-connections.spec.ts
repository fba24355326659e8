import 'reflect-metadata';
import { Injectable, type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  getMessagingClientToken,
  InjectMessagingClient,
  MESSAGING_BROKER,
  MessagingClient,
  MessagingModule,
  MessagingOptionsError,
  MessagingServer,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { caught } from '../options/options-errors.js';

/** SNS+SQS at a closed port: creating the broker makes no call, so the providers can be inspected without one. */
const snsSqs = (serviceName: string): MessagingModuleOptions => ({
  transport: 'sns-sqs',
  serviceName,
  snsSqs: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
});
const amqp = (serviceName: string): MessagingModuleOptions => ({ transport: 'amqp', serviceName, amqp: { url: 'amqp://127.0.0.1:1' } });

@Injectable()
class Publishers {
  constructor(
    readonly plain: MessagingClient,
    @InjectMessagingClient() readonly byDefault: MessagingClient,
    @InjectMessagingClient('partner') readonly partner: MessagingClient,
    @InjectMessagingClient('rabbit') readonly rabbit: MessagingClient,
  ) {}
}

describe('MessagingModule.forRoot({ name }): named connections', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function app(metadata: ModuleMetadata): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule(metadata).compile();
    const created = moduleRef.createNestApplication({ logger: false });
    apps.push(created);
    await created.init();
    return created;
  }

  const threeConnections = () => [
    MessagingModule.forRoot(snsSqs('billing')),
    MessagingModule.forRoot({ name: 'partner', ...snsSqs('billing-partner') }),
    MessagingModule.forRootAsync({ name: 'rabbit', useFactory: () => amqp('billing-rabbit') }),
  ];

  it('gives each named connection a client of its own; MessagingClient stays the default connection', async () => {
    const nest = await app({ imports: threeConnections(), providers: [Publishers] });
    const publishers = nest.get(Publishers);
    // identity compared as booleans: a failing toBe would print the whole Nest container the clients hold
    expect(publishers.plain === nest.get(MessagingClient)).toBe(true);
    expect(publishers.byDefault === publishers.plain).toBe(true);
    expect(nest.get(getMessagingClientToken('partner')) === publishers.partner).toBe(true);
    expect(nest.get(getMessagingClientToken('rabbit')) === publishers.rabbit).toBe(true);
    expect(nest.get(MESSAGING_BROKER) === nest.get(MessagingServer).connections()[0].broker).toBe(true);
    const clients = new Set([publishers.plain, publishers.partner, publishers.rabbit]);
    expect(clients.size).toBe(3);
    for (const client of clients) expect(client).toBeInstanceOf(MessagingClient);
  });

  it('getMessagingClientToken: MessagingClient for the default connection, a token per name otherwise', () => {
    expect(getMessagingClientToken()).toBe(MessagingClient);
    expect(getMessagingClientToken('default')).toBe(MessagingClient);
    expect(getMessagingClientToken('partner')).not.toBe(getMessagingClientToken('rabbit'));
  });

  it('the default MessagingServer knows every connection, each with its own resolved options and broker', async () => {
    const nest = await app({ imports: threeConnections() });
    const connections = nest.get(MessagingServer).connections();
    expect(connections.map((c) => [c.name, c.options.transport, c.options.serviceName])).toEqual([
      ['default', 'sns-sqs', 'billing'],
      ['partner', 'sns-sqs', 'billing-partner'],
      ['rabbit', 'amqp', 'billing-rabbit'],
    ]);
    expect(new Set(connections.map((c) => c.broker)).size).toBe(3);
    expect(connections[1].options.snsSqs.region).toBe('eu-west-1');
    expect(connections[2].options.amqp.prefetch).toBe(100); // defaults filled in per connection
  });

  it('an app with only the unnamed forRoot has the one default connection', async () => {
    const nest = await app({ imports: [MessagingModule.forRoot(snsSqs('billing'))] });
    expect(
      nest
        .get(MessagingServer)
        .connections()
        .map((c) => c.name),
    ).toEqual(['default']);
  });

  it.each([
    ['default', "'default' is the unnamed connection's name"],
    ['', 'must be 1-63 letters, digits, "-" or "_"'],
    ['has space', 'must be 1-63 letters, digits, "-" or "_"'],
  ])('refuses name %j', (name, rule) => {
    const error = caught(() => MessagingModule.forRoot({ name, ...snsSqs('billing') }));
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect(error.option).toBe('name');
    expect(error.message).toContain(rule);
  });

  it("refuses a name that forRootAsync's factory returns: it belongs beside the factory", async () => {
    const error = await Test.createTestingModule({
      imports: [MessagingModule.forRootAsync({ useFactory: () => ({ ...snsSqs('billing'), name: 'partner' }) })],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect((error as Error).message).toContain('is set on forRootAsync({ name, useFactory }) itself');
  });

  it("refuses metrics on a named connection: the unnamed forRoot's metrics cover every connection", async () => {
    const error = await Test.createTestingModule({
      imports: [MessagingModule.forRoot(snsSqs('billing')), MessagingModule.forRoot({ name: 'partner', ...snsSqs('p'), metrics: true })],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect((error as Error).message).toContain(
      `"metrics": is set on the unnamed MessagingModule.forRoot only: its metrics cover every connection, labelled connection="partner" for this one`,
    );
  });

  it('refuses one name given to two imports', async () => {
    const nest = await app({
      imports: [
        MessagingModule.forRoot(snsSqs('billing')),
        MessagingModule.forRoot({ name: 'partner', ...snsSqs('one') }),
        MessagingModule.forRoot({ name: 'partner', ...snsSqs('two') }),
      ],
    });
    expect(() => nest.get(MessagingServer).connections()).toThrow(
      `Invalid messaging option "name": is given to two MessagingModule.forRoot imports; give each connection a name of its own (got "partner")`,
    );
  });

  it('a handler naming a connection the app does not have fails at startup, naming it and the known ones', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRoot(snsSqs('billing')), MessagingModule.forRoot({ name: 'partner', ...snsSqs('p') })],
      controllers: [controllerFor([{ pattern: 'order-paid', extras: { connection: 'parnter' }, handle: () => undefined }])],
    }).compile();
    const nest = moduleRef.createNestApplication({ logger: false });
    apps.push(nest);
    nest.connectMicroservice({ strategy: nest.get(MessagingServer) });
    const error = await nest.startAllMicroservices().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MessagingOptionsError);
    expect((error as Error).message).toBe(
      `Invalid messaging option "@EventPattern('order-paid').connection": names no connection of this app (known: 'default', 'partner'); import MessagingModule.forRoot({ name: 'parnter', ... }) or choose a known one (got "parnter")`,
    );
  });

  it("describeTopology() describes the default connection's handlers only", async () => {
    const nest = await app({
      imports: [MessagingModule.forRoot(snsSqs('billing')), MessagingModule.forRoot({ name: 'partner', ...snsSqs('p') })],
      controllers: [
        controllerFor([
          { pattern: 'order-paid', handle: () => undefined },
          { pattern: 'invoice-sent', extras: { connection: 'partner' }, handle: () => undefined },
        ]),
      ],
    });
    const topology = nest.get(MessagingServer).describeTopology();
    expect(topology.queues.map((q) => q.name).sort()).toEqual(['billing--order-paid', 'billing--order-paid-dlq']);
  });
});
