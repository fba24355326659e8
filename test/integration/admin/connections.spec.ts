import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { Browser, Page } from 'playwright-core';
import { filter, firstValueFrom } from 'rxjs';
import {
  DeadLetterError,
  getMessagingClientToken,
  MessagingAdminService,
  MessagingClient,
  MessagingModule,
  MessagingServer,
  type AdminEvent,
} from '../../../lib/index.js';
import { controllerFor } from '../../support/controllers.js';
import { deleteSnsSqsResources } from '../../support/emulators.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';
import { launchChromium, signIn } from './chromium.js';

/**
 * One app, two SNS+SQS connections on two emulators: the default one (home) and 'partner'. Each consumes a queue of
 * its own; the admin API, MessagingAdminService and the dashboard act on the connection they are given, and only there.
 */
let home: Fauxqs;
let partner: Fauxqs;
let http: AdminHttpApp;
let admin: MessagingAdminService;
const prefix = uniqueName('conn-admin');
const homeQueue = `${prefix}-home-billing`;
const partnerQueue = `${prefix}-partner-billing`;
const homeTopic = `${prefix}-home-paid`;
const partnerTopic = `${prefix}-partner-paid`;

/** The names of the queues named `<prefix>…` on the emulator, read there (not through the app). */
async function queuesOn(emulator: Fauxqs): Promise<string[]> {
  const { QueueUrls = [] } = await emulator.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  return QueueUrls.map((url) => url.slice(url.lastIndexOf('/') + 1)).sort();
}

beforeAll(async () => {
  [home, partner] = await Promise.all([startFauxqs(), startFauxqs()]);
  const controller = controllerFor([
    { pattern: homeTopic, extras: { queueName: homeQueue }, handle: () => undefined },
    {
      pattern: partnerTopic,
      extras: { queueName: partnerQueue, connection: 'partner' },
      handle: () => {
        throw new DeadLetterError('partner refuses it');
      },
    },
  ]);
  http = await startAdminApp(
    fauxqsOptions(home, { serviceName: 'conn-admin' }),
    { guard: TokenGuard, watch: { intervalMs: 200, prefix }, monitor: { intervalMs: 250 } },
    {
      controllers: [controller],
      imports: [
        MessagingModule.forRoot({
          name: 'partner',
          ...fauxqsOptions(partner, { serviceName: 'conn-admin', snsSqs: { region: 'eu-west-1' } }),
        }),
      ],
    },
  );
  admin = http.app.get(MessagingAdminService);
}, 60_000);

afterAll(async () => {
  await http?.close();
  for (const emulator of [home, partner]) if (emulator) await deleteSnsSqsResources(emulator, prefix);
  await Promise.all([home?.stop(), partner?.stop()]);
});

describe('the admin API of an app with two connections (two fauxqs)', () => {
  it('lists the connections, the default first', async () => {
    expect(await http.call('GET', '/connections')).toMatchObject({
      status: 200,
      json: [
        { name: 'default', transport: 'sns-sqs' },
        { name: 'partner', transport: 'sns-sqs' },
      ],
    });
    expect(admin.listConnections()).toEqual((await http.call('GET', '/connections')).json);
  });

  it("lists each connection's queues only, and the overview shows each connection's consumed queue", async () => {
    const listed = async (query: string) =>
      ((await http.call('GET', `/queues?prefix=${prefix}${query}`)).json as Array<{ name: string }>).map((q) => q.name).sort();
    expect(await listed('')).toEqual([homeQueue, `${homeQueue}-dlq`]);
    expect(await listed('&connection=default')).toEqual([homeQueue, `${homeQueue}-dlq`]);
    expect(await listed('&connection=partner')).toEqual([partnerQueue, `${partnerQueue}-dlq`]);
    expect((await admin.listQueues({ prefix, connection: 'partner' })).map((q) => q.name).sort()).toEqual([
      partnerQueue,
      `${partnerQueue}-dlq`,
    ]);

    const overview = async (query: string) => (await http.call('GET', `/overview${query}`)).json;
    const own = await overview('');
    expect([own.connection, own.queues.map((q: { name: string }) => q.name)]).toEqual(['default', [homeQueue]]);
    const theirs = await overview('?connection=partner');
    expect([
      theirs.connection,
      theirs.transport,
      theirs.queues.map((q: { name: string; consumed: boolean }) => [q.name, q.consumed]),
    ]).toEqual(['partner', 'sns-sqs', [[partnerQueue, true]]]);
  });

  it('creates, fills, peeks, purges and deletes a queue on the named connection only', async () => {
    const queue = `${prefix}-made-on-partner`;
    const on = '?connection=partner';
    expect((await http.call('POST', `/queues${on}`, { name: queue, deadLetterQueue: false })).status).toBe(201);
    expect([await queuesOn(home), await queuesOn(partner)]).toEqual([
      [homeQueue, `${homeQueue}-dlq`],
      [partnerQueue, `${partnerQueue}-dlq`, queue].sort(),
    ]);
    // the default connection does not have it
    expect((await http.call('GET', `/queues/${queue}`)).status).toBe(404);

    expect((await http.call('POST', `/queues/${queue}/messages${on}`, { data: { invoice: 'INV-1' } })).status).toBe(201);
    expect((await http.call('GET', `/queues/${queue}${on}`)).json).toMatchObject({ name: queue, messages: 1 });
    const peeked = await http.call('POST', `/queues/${queue}/peek${on}`, { max: 5 });
    expect(peeked.json.map((m: { data: unknown }) => m.data)).toEqual([{ invoice: 'INV-1' }]);
    expect((await http.call('POST', `/queues/${queue}/purge${on}`)).status).toBe(204);
    await waitFor(async () => (await http.call('GET', `/queues/${queue}${on}`)).json.messages === 0, { what: 'the purged queue empty' });

    expect((await http.call('DELETE', `/queues/${queue}`)).status).toBe(404); // not on the default connection
    expect((await http.call('DELETE', `/queues/${queue}${on}`)).status).toBe(204);
    expect(await queuesOn(partner)).toEqual([partnerQueue, `${partnerQueue}-dlq`]);
  });

  it('answers a connection the app does not have with 400 naming the field and the known connections, on every kind of route', async () => {
    for (const [method, path] of [
      ['GET', '/queues?connection=nope'],
      ['GET', '/overview?connection=nope'],
      ['GET', '/events?connection=nope'],
      ['POST', `/queues/${homeQueue}/purge?connection=nope`],
      ['DELETE', `/topics/${homeTopic}?connection=nope`],
    ] as const) {
      const { status, json } = await http.call(method, path);
      expect([method, path, status, json.message]).toEqual([
        method,
        path,
        400,
        `Invalid connection: names no connection of this app: choose one of 'default', 'partner' (got "nope")`,
      ]);
    }
    await expect(admin.listTopics({ connection: 'nope' })).rejects.toThrow("choose one of 'default', 'partner'");
    // nothing was purged or deleted on either connection
    expect([await queuesOn(home), await queuesOn(partner)]).toEqual([
      [homeQueue, `${homeQueue}-dlq`],
      [partnerQueue, `${partnerQueue}-dlq`],
    ]);
  });

  it("labels events with their connection: events$ has every connection's, eventsOf and the event stream one connection's", async () => {
    const all: AdminEvent[] = [];
    const subscription = admin.events$.subscribe((event) => all.push(event));
    const partnerDeadLetter = firstValueFrom(admin.eventsOf('partner').pipe(filter((event) => event.type === 'message.dead-lettered')));
    // the default connection's publish comes first: eventsOf('partner') must pass it over
    const partnerPublished = firstValueFrom(admin.eventsOf('partner').pipe(filter((event) => event.type === 'message.published')));
    try {
      await admin.publish(homeTopic, { n: 1 });
      await admin.publish(partnerTopic, { n: 2 }, { connection: 'partner' });
      expect(await partnerPublished).toMatchObject({ connection: 'partner', transport: 'sns-sqs', resource: partnerTopic });
      // the partner handler dead-letters: the server's events of that connection reach the monitor
      expect(await partnerDeadLetter).toMatchObject({
        connection: 'partner',
        resource: partnerQueue,
        detail: { topic: partnerTopic, reason: expect.stringContaining('partner refuses it') },
      });
      await waitFor(() => all.some((e) => e.type === 'queue.depth' && e.connection === 'partner' && e.resource === partnerQueue), {
        what: "a queue.depth event of the partner's queue",
      });
      await waitFor(() => all.some((e) => e.type === 'queue.depth' && e.connection === 'default' && e.resource === homeQueue), {
        what: "a queue.depth event of the default connection's queue",
      });
      const byConnection = (type: string) =>
        all
          .filter((e) => e.type === type)
          .map((e) => [e.connection, e.resource])
          .sort();
      expect(byConnection('message.published')).toEqual([
        ['default', homeTopic],
        ['partner', partnerTopic],
      ]);
      expect(all.filter((e) => e.type === 'queue.depth' && e.connection === 'default').every((e) => e.resource === homeQueue)).toBe(true);
      await waitFor(async () => (await admin.queueInfo(`${partnerQueue}-dlq`, { connection: 'partner' })).messages === 1, {
        what: "the dead letter in the partner's dead-letter queue",
      });
    } finally {
      subscription.unsubscribe();
    }
    await admin.purge(`${partnerQueue}-dlq`, { connection: 'partner' }); // the dashboard test counts its own dead letter
  });
  it("adds a connection's delivery and publish listeners (message.rates) only while that connection's events are observed", async () => {
    // the hooks the metrics use, per connection; no metrics here, so only the admin monitor adds listeners
    const server = http.app.get(MessagingServer) as unknown as {
      observers: { items: unknown[] };
      namedObservers: Map<string, { items: unknown[] }>;
    };
    const clientListeners = (client: MessagingClient) =>
      (client as unknown as { publishListeners: { items: unknown[] } }).publishListeners.items.length;
    const listeners = () => ({
      default: [server.observers.items.length, clientListeners(http.app.get(MessagingClient))],
      partner: [server.namedObservers.get('partner')?.items.length ?? 0, clientListeners(http.app.get(getMessagingClientToken('partner')))],
    });
    expect(listeners()).toEqual({ default: [0, 0], partner: [0, 0] });
    const partnerEvents = admin.eventsOf('partner').subscribe();
    try {
      expect(listeners()).toEqual({ default: [0, 0], partner: [1, 1] });
      const everyEvent = admin.events$.subscribe();
      expect(listeners()).toEqual({ default: [1, 1], partner: [1, 1] });
      everyEvent.unsubscribe();
      expect(listeners()).toEqual({ default: [0, 0], partner: [1, 1] });
    } finally {
      partnerEvents.unsubscribe();
    }
    expect(listeners()).toEqual({ default: [0, 0], partner: [0, 0] });
  });
});

describe('the dashboard of an app with two connections (headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
  });

  const rowsOf = (page: Page) => page.locator('#queues tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-queue')));

  async function waitForRows(page: Page, expected: string[]): Promise<void> {
    await waitFor(async () => JSON.stringify(await rowsOf(page)) === JSON.stringify(expected), {
      what: `the queue rows ${expected.join(', ')}`,
      intervalMs: 100,
    });
  }

  it('switches every view with the connection selector, keeps the choice across a reload, and acts on the chosen connection', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      await waitForRows(page, [homeQueue]);
      expect(await page.locator('#connection-choice').isVisible()).toBe(true);
      expect(await page.locator('#connection option').evaluateAll((options) => options.map((o) => o.textContent))).toEqual([
        'default (sns-sqs)',
        'partner (sns-sqs)',
      ]);
      await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: 'the event stream' });

      await page.selectOption('#connection', 'partner');
      await waitForRows(page, [partnerQueue]);
      expect(new URL(page.url()).searchParams.get('connection')).toBe('partner');
      await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: "the partner's event stream" });
      // the partner's dead letters, as its event stream reports them
      await admin.publish(partnerTopic, { n: 3 }, { connection: 'partner' });
      await waitFor(
        async () => (await page.locator(`tr[data-queue="${partnerQueue}"] td[data-field="dlq-messages"]`).textContent()) === '1',
        { what: "the partner queue's dead letter on the page", intervalMs: 100 },
      );
      await waitFor(async () => (await page.locator('#events li[data-type="message.dead-lettered"]').count()) === 1, {
        what: "the partner's message.dead-lettered in the page log",
      });
      // a change on the default connection is not in the partner's log
      await admin.createQueue(`${prefix}-home-extra`, { deadLetterQueue: false });
      await admin.deleteQueue(`${prefix}-home-extra`);
      await admin.createQueue(`${prefix}-partner-extra`, { deadLetterQueue: false, connection: 'partner' });
      await waitFor(async () => (await page.locator('#events li[data-type="queue.created"]').count()) === 1, {
        what: "the partner's queue.created in the page log",
      });
      expect(await page.locator('#events li[data-type="queue.created"] span:last-child').textContent()).toContain(
        `${prefix}-partner-extra`,
      );
      expect(await page.locator('#events li[data-type="queue.deleted"]').count()).toBe(0);

      await page.reload();
      await waitForRows(page, [partnerQueue, `${prefix}-partner-extra`]);
      expect(await page.locator('#connection').inputValue()).toBe('partner');

      // Peek DLQ on the partner row peeks the partner's dead-letter queue
      await page.click(`tr[data-queue="${partnerQueue}"] button[data-action="peek-dlq"]`);
      await waitFor(async () => (await page.locator('#peek-messages article.message').count()) === 1, {
        what: "the partner's dead letter",
      });
      expect(await page.locator('#peek-messages dd[data-field="Dead-letter reason"]').textContent()).toContain('partner refuses it');
      // Purge on the partner's extra queue acts there (the dialog asks first)
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click(`tr[data-queue="${prefix}-partner-extra"] button[data-action="purge"]`);
      await waitFor(async () => (await page.locator('#status').textContent()) === `Purged ${prefix}-partner-extra.`, {
        what: 'the purge on the page',
      });

      await page.selectOption('#connection', 'default');
      await waitForRows(page, [homeQueue]);
      expect(new URL(page.url()).searchParams.has('connection')).toBe(false);
    } finally {
      await page.close(); // the queues it made go in afterAll
    }
  });

  it('shows the default connection, saying so, when the URL names a connection the app does not have', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      await page.goto(`${http.url}/messaging?connection=gone`);
      await waitForRows(page, [homeQueue]);
      expect(await page.locator('#status').textContent()).toBe('This app has no connection "gone": showing default.');
      expect(await page.locator('#connection').inputValue()).toBe('default');
      expect(new URL(page.url()).searchParams.has('connection')).toBe(false);
    } finally {
      await page.close();
    }
  });
});
