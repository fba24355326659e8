import { createServer, Socket, type Server } from 'node:net';
import type { Browser } from 'playwright-core';
import { controllerFor } from '../../support/controllers.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode } from '../../support/rabbitmq-node.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';
import { launchChromium, signIn } from './chromium.js';

/** The broker made unreachable through a TCP proxy this test starts and stops, in front of the run's own node. */
const rabbit = useRabbitNode();

/** Forwards connections to the node while open; close() drops them all and refuses new ones until reopen(). */
class OnOffProxy {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined); // the other side's close ends both
      }
      upstream.connect(this.target.port, this.target.host);
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
});

describe('the dashboard on AMQP (the run’s own RabbitMQ node behind a proxy, headless Chromium)', () => {
  it('asks before a peek in RabbitMQ terms, and says "broker reconnecting" instead of a green "live" while the broker cannot be reached, and "live" once it is back', async () => {
    const target = new URL(rabbit.node.url);
    const proxy = new OnOffProxy({ host: target.hostname, port: Number(target.port) });
    await proxy.open();
    const url = new URL(rabbit.node.url);
    url.port = String(proxy.port);
    const queue = uniqueName('dash-amqp-q');
    const topic = uniqueName('dash.amqp');
    let http: AdminHttpApp | undefined;
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      http = await startAdminApp(
        rabbitMqOptions({ serviceName: 'dash-amqp', amqp: { url: url.toString(), reconnectDelay: { initial: 100, max: 300 } } }),
        { guard: TokenGuard, monitor: { intervalMs: 200 } },
        { controllers: [controllerFor([{ pattern: topic, extras: { queueName: queue }, handle: () => undefined }])] },
      );
      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: 'the dashboard to go live' });
      await waitFor(async () => (await page.locator(`tr[data-queue="${queue}"] .tag`).textContent({ timeout: 1000 })) === 'receiving', {
        what: 'the consumed queue',
      });

      // the peek's question says what a peek costs on RabbitMQ, not on SQS
      const question = new Promise<string>((resolve) =>
        page.once('dialog', (dialog) => {
          resolve(dialog.message());
          void dialog.dismiss();
        }),
      );
      await page.click(`tr[data-queue="${queue}"] button[data-action="peek"]`);
      expect(await question).toContain(`RabbitMQ marks each message shown as redelivered, which your consumer counts as one more of its`);
      expect(await question).not.toContain('SQS');

      await proxy.close();
      await waitFor(
        async () => /^broker-(reconnecting|unreachable)$/.test((await page.locator('#live').getAttribute('data-state')) ?? ''),
        {
          what: 'the header to say the broker is not reachable',
        },
      );
      expect(await page.locator('#live').textContent()).toMatch(/^broker (reconnecting|unreachable)$/);
      // it stays so while the broker is away (the app keeps trying)
      await waitFor(async () => (await page.locator('#events li[data-type="consumer.disconnected"]').count()) >= 1, {
        what: 'consumer.disconnected in the log',
      });
      expect(await page.locator('#live').textContent()).not.toBe('live');

      await proxy.open(); // the same port
      await waitFor(async () => (await page.locator('#live').getAttribute('data-state')) === 'live', {
        what: 'the header to go back to live',
      });
    } finally {
      await page.close();
      await http?.close();
      await proxy.close();
      const raw = await rabbit.node.connect();
      const channel = await raw.createChannel();
      for (const name of [queue, `${queue}-retry`, `${queue}-dlq`]) await channel.deleteQueue(name);
      await raw.close();
    }
  }, 90_000);
});
