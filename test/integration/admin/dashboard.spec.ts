import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { DeadLetterError, MessagingAdminService } from '../../../lib/index.js';
import { launchChromium, signIn } from './chromium.js';
import { emit } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

// The README's screenshot: rewritten only on request (UPDATE_SCREENSHOT=1), so that a test run leaves the tree as it was.
// Then the app also gets a minute of steady traffic first, for charts with data (TRAFFIC_MS).
const TRAFFIC_MS = process.env.UPDATE_SCREENSHOT ? 60_000 : 0;
const SCREENSHOT = process.env.UPDATE_SCREENSHOT
  ? join(process.cwd(), 'docs', 'dashboard.png')
  : join(tmpdir(), `nestjs-messaging-dashboard-${process.pid}.png`);

let fauxqs: Fauxqs;
let http: AdminHttpApp;
let browser: Browser;
const prefix = uniqueName('dash');
const consumed = `${prefix}-billing`;
const watched = `${prefix}-audit`;
const topic = `${prefix}-order-paid`;
const deadLettered = new Set<number>();
const handled: number[] = [];
const retried = new Set<number>();
/** The screenshot's traffic: numbered from here, handled at once except every 7th, which fails once (a retry). */
const TRAFFIC_FROM = 1000;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  // The first delivery of each message is dead-lettered; once redriven it is handled.
  const controller = controllerFor([
    {
      pattern: topic,
      extras: { queueName: consumed },
      handle: (data: { n: number }) => {
        if (data.n >= TRAFFIC_FROM) {
          if (data.n % 7 === 0 && !retried.has(data.n)) {
            retried.add(data.n);
            throw new Error('payment provider timed out');
          }
          return;
        }
        if (!deadLettered.has(data.n)) {
          deadLettered.add(data.n);
          throw new DeadLetterError('payment declined: card expired');
        }
        handled.push(data.n);
      },
    },
  ]);
  http = await startAdminApp(
    fauxqsOptions(fauxqs, { serviceName: 'dashboard' }),
    { guard: TokenGuard, watch: { intervalMs: 200, prefix }, monitor: { intervalMs: 250 } },
    { controllers: [controller] },
  );
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await fauxqs?.stop();
});

const cell = (page: Page, queue: string, field: string) =>
  page.locator(`tr[data-queue="${queue}"] td[data-field="${field}"]`).textContent({ timeout: 2000 });

async function waitForCell(page: Page, queue: string, field: string, expected: string): Promise<void> {
  await waitFor(async () => (await cell(page, queue, field).catch(() => undefined)) === expected, {
    what: `${field} of ${queue} to read ${expected} on the page`,
    intervalMs: 100,
  });
}

describe('the live dashboard in a browser (fauxqs, headless Chromium)', () => {
  it(
    'signs in, shows depths live from the event stream, and redrives a dead-letter queue from the page',
    async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      try {
        await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
        await waitForCell(page, consumed, 'consumer', 'receiving');
        expect(page.url()).toBe(`${http.url}/messaging`); // no token in the address bar
        // one connection: no connection selector (the rows came after the page read the app's connections)
        expect(await page.locator('#connection option').count()).toBe(1);
        expect(await page.locator('#connection-choice').isVisible()).toBe(false);
        // the page holds no token: nothing in its storage, and no token field
        expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
        expect(await page.locator('input[type="password"], #token').count()).toBe(0);
        await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: 'the event stream' });

        const admin = http.app.get(MessagingAdminService);
        await admin.createQueue(watched, { deadLetterQueue: false });
        await admin.createTopic(`${prefix}-audit-log`);
        await admin.subscribe(`${prefix}-audit-log`, watched);
        await waitForCell(page, watched, 'consumer', 'watched');
        for (const n of [1, 2, 3]) await admin.publish(`${prefix}-audit-log`, { n, note: 'kept for the audit' });
        await waitForCell(page, watched, 'messages', '3');

        for (const n of [1, 2, 3]) await admin.publish(topic, { n, orderId: `order-${n}` });
        await waitForCell(page, consumed, 'dlq-messages', '3');
        await waitFor(async () => (await page.locator('#events li[data-type="message.dead-lettered"]').count()) === 3, {
          what: 'three message.dead-lettered events in the page log',
        });
        // the consumed queue's dead-letter queue is on the consumed queue's row, not a row of its own
        expect(await page.locator(`tr[data-queue="${consumed}-dlq"]`).count()).toBe(0);
        for (let n = TRAFFIC_FROM, until = Date.now() + TRAFFIC_MS; Date.now() < until; n++) {
          await emit(http.app, topic, { n, orderId: `order-${n}` });
          if (n % 5 === 0) await admin.publish(`${prefix}-audit-log`, { n, note: 'kept for the audit' });
          await new Promise((resolve) => setTimeout(resolve, 150 + (n % 4) * 60)); // a steady trickle, not a test condition
        }
        // the screenshot's state: three dead letters peeked (reason first), the charts with data
        await page.click(`tr[data-queue="${consumed}"] button[data-action="peek-dlq"]`);
        await waitFor(async () => (await page.locator('#peek-messages article.message').count()) === 3, {
          what: 'the peeked dead letters',
        });
        await waitForCell(page, consumed, 'dlq-messages', '3'); // peeking moved none (a depth read during the peek may show them held)
        await waitFor(async () => Number(await page.locator('#chart-rates').getAttribute('data-points')) >= 4, {
          what: 'the rates drawn',
        });
        mkdirSync(dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
        expect(statSync(SCREENSHOT).size).toBeGreaterThan(10_000);

        const waiting = await cell(page, watched, 'messages');
        await page.click(`tr[data-queue="${watched}"] button[data-action="peek"]`);
        await waitFor(async () => (await page.locator('#peek-messages').textContent())?.includes('kept for the audit'), {
          what: 'peeked messages',
        });
        await waitForCell(page, watched, 'messages', waiting!); // peek leaves them

        page.once('dialog', (dialog) => void dialog.accept()); // the redrive's confirmation
        await page.click(`tr[data-queue="${consumed}"] button[data-action="redrive"]`);
        await waitFor(async () => (await page.locator('#status').textContent())?.includes(`Moved 3 message(s) from ${consumed}-dlq`), {
          what: 'the redrive result on the page',
        });
        await waitForCell(page, consumed, 'dlq-messages', '0');
        await waitFor(() => handled.length === 3, { what: 'the redriven messages to be handled' });
        expect(handled.sort()).toEqual([1, 2, 3]);
      } finally {
        await page.close();
      }
    },
    60_000 + TRAFFIC_MS,
  );
});
