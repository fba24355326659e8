import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import type { Browser, Dialog, Page } from 'playwright-core';
import { DeadLetterError, MessagingAdminService } from '../../../lib/index.js';
import { emit } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';
import { launchChromium, signIn } from './chromium.js';

/**
 * What an on-call engineer needs from the dashboard at 3 a.m., in headless Chromium against an app on fauxqs: the
 * dead letters of a consumed queue, decoded; confirmations that say what an action does; long names that leave the
 * actions on screen; charts; only the app's own queues; the broker's state in the header (last: it stops fauxqs).
 */
let fauxqs: Fauxqs;
let fauxqsStopped = false;
let http: AdminHttpApp;
let browser: Browser;
let admin: MessagingAdminService;
const queueNamePrefix = `${uniqueName('oc')}-`;
// SQS allows 80 characters: the consumed queue gets 76, its dead-letter queue (`-dlq`) the other 4
const consumedBare = `billing-payment-captured-for-the-european-subsidiary-of-the-company`.slice(0, 76 - queueNamePrefix.length);
const consumed = `${queueNamePrefix}${consumedBare}`;
const deadLetters = `${consumed}-dlq`;
const topic = uniqueName('oc-payment-captured');
const REASON = 'card expired: the payment provider declined it';
const firstDeliveries = new Set<number>();
const handled: number[] = [];
const outsider = uniqueName('someone-elses'); // a queue of another app on the same broker

beforeAll(async () => {
  fauxqs = await startFauxqs();
  await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: outsider }));
  // The first delivery of each message is dead-lettered with REASON; once redriven it is handled.
  const controller = controllerFor([
    {
      pattern: topic,
      extras: { queueName: consumedBare },
      handle: (data: { n: number }) => {
        if (!firstDeliveries.has(data.n)) {
          firstDeliveries.add(data.n);
          throw new DeadLetterError(REASON);
        }
        handled.push(data.n);
      },
    },
  ]);
  http = await startAdminApp(
    fauxqsOptions(fauxqs, { serviceName: 'oncall', queueNamePrefix }),
    // no watch.prefix: the module's queueNamePrefix is the default
    { guard: TokenGuard, watch: { intervalMs: 200 }, monitor: { intervalMs: 250 } },
    { controllers: [controller] },
  );
  admin = http.app.get(MessagingAdminService);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  if (!fauxqsStopped) await fauxqs?.stop();
});

async function openDashboard(width = 1280, height = 800): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => violations.push(String(error)));
  (page as Page & { violations: string[] }).violations = violations;
  await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
  await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: 'the dashboard to go live' });
  return page;
}

/** DOM objects in page functions: this project has no DOM lib. */
type Dom = any;

const violationsOf = (page: Page) => (page as Page & { violations: string[] }).violations;

const field = (page: Page, queue: string, name: string) => page.locator(`tr[data-queue="${queue}"] [data-field="${name}"]`);

async function waitForCell(page: Page, queue: string, name: string, expected: string): Promise<void> {
  await waitFor(
    async () =>
      (await field(page, queue, name)
        .textContent({ timeout: 1000 })
        .catch(() => undefined)) === expected,
    {
      what: `${name} of ${queue} to read ${expected}`,
      intervalMs: 100,
    },
  );
}

/** Answers the next dialog with `accept` and returns its text. */
function nextDialog(page: Page, accept: boolean): Promise<string> {
  return new Promise((resolve) => {
    page.once('dialog', (dialog: Dialog) => {
      resolve(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    });
  });
}

/** Fails the test on any dialog (an action that should not ask). */
function refuseDialogs(page: Page): string[] {
  const asked: string[] = [];
  page.on('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  return asked;
}

/** The JSON bodies the page posts to `path` (under the admin path). */
function posts(page: Page, path: RegExp): Array<Record<string, unknown>> {
  const seen: Array<Record<string, unknown>> = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && path.test(new URL(request.url()).pathname)) seen.push(JSON.parse(request.postData() || '{}'));
  });
  return seen;
}

async function deadLetterThree(page: Page): Promise<void> {
  for (const n of [1, 2, 3]) await admin.publish(topic, { n, orderId: `order-${n}`, amount: { value: 12.5 * n, currency: 'EUR' } });
  await waitForCell(page, consumed, 'dlq-messages', '3');
}

describe('the dashboard for on-call (fauxqs, headless Chromium)', () => {
  it('shows a consumed queue with its dead-letter queue on one row, and Peek DLQ peeks the DLQ (free, no question): reason and receives first, decoded data, the raw body on demand', async () => {
    const page = await openDashboard();
    try {
      const asked = refuseDialogs(page);
      await waitForCell(page, consumed, 'consumer', 'receiving');
      expect(await field(page, consumed, 'dlq').textContent()).toBe(`DLQ ${deadLetters}`);
      expect(await page.locator(`tr[data-queue="${deadLetters}"]`).count()).toBe(0);
      await deadLetterThree(page);

      await page.click(`tr[data-queue="${consumed}"] button[data-action="peek-dlq"]`);
      const first = page.locator('#peek-messages article.message').first();
      await waitFor(async () => (await page.locator('#peek-messages article.message').count()) === 3, {
        what: 'three peeked dead letters',
      });
      expect(await page.locator('#peek-what').textContent()).toContain(deadLetters);
      // the reason and the receive count come first, before the data
      const terms = await first.locator('dt').allTextContents();
      expect(terms.slice(0, 2)).toEqual(['Dead-letter reason', 'Receives']);
      expect(await first.locator('dd[data-field="Dead-letter reason"]').textContent()).toContain(REASON);
      expect(Number(await first.locator('dd[data-field="Receives"]').textContent())).toBeGreaterThanOrEqual(1);
      // the envelope unwrapped and pretty-printed, not the SNS notification
      const data = JSON.parse((await first.locator('pre.data').textContent()) ?? '');
      expect(data).toMatchObject({ orderId: expect.stringMatching(/^order-\d$/), amount: { currency: 'EUR' } });
      expect(await first.locator('pre.data').textContent()).toContain('\n  "orderId"');
      // the raw body only on demand
      expect(await first.locator('details.raw pre.body').isVisible()).toBe(false);
      await first.locator('details.raw summary').click();
      await waitFor(async () => (await first.locator('details.raw pre.body').textContent())?.includes('"TopicArn"'), {
        what: 'the raw SNS notification',
      });
      expect(asked).toEqual([]);
      await waitForCell(page, consumed, 'dlq-messages', '3'); // peeking moved nothing
      expect(violationsOf(page)).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('asks before redrive (source, target and count) and purge, does nothing when told no, and disables Redrive on an empty DLQ', async () => {
    const page = await openDashboard();
    try {
      const redriveButton = page.locator(`tr[data-queue="${consumed}"] button[data-action="redrive"]`);
      await waitForCell(page, consumed, 'dlq-messages', '3');
      expect(await redriveButton.isDisabled()).toBe(false);

      const declined = nextDialog(page, false);
      await redriveButton.click();
      const question = await declined;
      expect(question).toContain(`3 message(s) from ${deadLetters} to ${consumed}`);
      await waitFor(async () => (await page.locator('#status').textContent())?.includes('cancelled'), { what: 'the cancelled redrive' });
      expect((await admin.queueInfo(deadLetters)).messages).toBe(3);

      const accepted = nextDialog(page, true);
      await redriveButton.click();
      await accepted;
      await waitFor(async () => (await page.locator('#status').textContent())?.includes(`Moved 3 message(s) from ${deadLetters}`), {
        what: 'the redrive result',
      });
      await waitFor(() => handled.length === 3, { what: 'the redriven messages to be handled' });
      await waitForCell(page, consumed, 'dlq-messages', '0');
      await waitFor(() => redriveButton.isDisabled(), { what: 'Redrive disabled on the empty DLQ' });

      const purgeQuestion = nextDialog(page, false);
      await page.click(`tr[data-queue="${consumed}"] button[data-action="purge"]`);
      expect(await purgeQuestion).toMatch(new RegExp(`^Purge ${consumed}\\? This deletes all 0 message\\(s\\)`));
      await waitFor(async () => (await page.locator('#status').textContent()) === `Purge of ${consumed} cancelled.`, {
        what: 'the cancelled purge',
      });
    } finally {
      await page.close();
    }
  });

  it('says before the click that peeking a queue SQS dead-letters by receive count spends a receive, sends spendReceive only after yes', async () => {
    const spend = `${queueNamePrefix}spend`;
    await admin.createQueue(spend, { maxReceiveCount: 4 });
    const page = await openDashboard();
    try {
      await admin.sendToQueue(spend, { invoice: 'INV-7' });
      await waitForCell(page, spend, 'messages', '1');
      const peeks = posts(page, /\/queues\/[^/]+\/peek$/);

      const declined = nextDialog(page, false);
      await page.click(`tr[data-queue="${spend}"] button[data-action="peek"]`);
      const question = await declined;
      expect(question).toContain('each message shown spends one of its 4 receives');
      expect(question).toContain(`One already received 3 times reaches 4 with this peek, and SQS moves it to ${spend}-dlq`);
      expect(peeks).toEqual([]);

      const accepted = nextDialog(page, true);
      await page.click(`tr[data-queue="${spend}"] button[data-action="peek"]`);
      await accepted;
      await waitFor(async () => (await page.locator('#peek-messages pre.data').textContent())?.includes('INV-7'), {
        what: 'the peeked message',
      });
      expect(peeks).toEqual([{ max: 10, spendReceive: true }]);
      expect(await page.locator('#peek-messages dd[data-field="Dead-letter reason"]').textContent()).toBe('none given');
      expect(await page.locator('#status').textContent()).toContain(`they stay in ${spend}, each with one more receive counted`);

      // its dead-letter queue is free to peek: no question, no spendReceive
      const asked = refuseDialogs(page);
      await page.click(`tr[data-queue="${spend}"] button[data-action="peek-dlq"]`);
      await waitFor(async () => (await page.locator('#peek-what').textContent())?.startsWith(`0 message(s) of ${spend}-dlq`), {
        what: 'the empty DLQ peek',
      });
      expect(peeks[1]).toEqual({ max: 10 });
      expect(asked).toEqual([]);
    } finally {
      await page.close();
      await admin.deleteQueue(spend);
      await admin.deleteQueue(`${spend}-dlq`);
    }
  });

  it('lists only the queues under the module queueNamePrefix when watch has no prefix', async () => {
    const page = await openDashboard();
    const mine = `${queueNamePrefix}watched`;
    try {
      const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: mine }));
      await waitForCell(page, mine, 'consumer', 'watched');
      expect(await page.locator(`tr[data-queue="${outsider}"]`).count()).toBe(0);
      expect(await page.locator('#events li[data-type="resource.appeared"]').allTextContents()).not.toContainEqual(
        expect.stringContaining(outsider),
      );
      await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await waitFor(async () => (await page.locator(`tr[data-queue="${mine}"]`).count()) === 0, { what: 'the deleted queue to go' });
    } finally {
      await page.close();
    }
  });

  it.each([
    [1280, 800],
    [600, 800],
  ])(
    'truncates a long queue name with an ellipsis (full name on hover) and keeps every action on screen at %i px',
    async (width, height) => {
      const page = await openDashboard(width, height);
      try {
        await waitForCell(page, consumed, 'consumer', 'receiving');
        const name = page.locator(`tr[data-queue="${consumed}"] .qname`);
        expect(await name.getAttribute('title')).toBe(consumed);
        // a page function: the browser's DOM, which this project's TypeScript settings do not describe
        const { scrollWidth, clientWidth, overflow } = await name.evaluate((el: Dom) => ({
          scrollWidth: el.scrollWidth as number,
          clientWidth: el.clientWidth as number,
          overflow: (globalThis as Dom).getComputedStyle(el).textOverflow as string,
        }));
        expect(overflow).toBe('ellipsis');
        expect(scrollWidth).toBeGreaterThan(clientWidth);
        for (const action of ['peek', 'peek-dlq', 'purge', 'redrive']) {
          const box = await page.locator(`tr[data-queue="${consumed}"] button[data-action="${action}"]`).boundingBox();
          expect(box).not.toBeNull();
          expect(box!.x).toBeGreaterThanOrEqual(0);
          expect(box!.x + box!.width).toBeLessThanOrEqual(width);
        }
      } finally {
        await page.close();
      }
    },
  );

  it('charts published / handled / failed / dead-lettered per second and the depths of the queue and its DLQ', async () => {
    const page = await openDashboard();
    try {
      await waitForCell(page, consumed, 'consumer', 'receiving');
      for (const n of [11, 12]) await emit(http.app, topic, { n, orderId: `order-${n}` }); // the app's own MessagingClient
      const legendValue = (legend: string, series: string) =>
        page.locator(`#${legend} li[data-series="${series}"]`).getAttribute('data-value', { timeout: 1000 });
      const peak = async (series: string) =>
        Number(await page.locator(`#legend-rates li[data-series="${series}"]`).getAttribute('data-peak'));
      await waitFor(async () => (await peak('published')) > 0 && (await peak('deadLettered')) > 0, {
        what: 'published and dead-lettered rates in the chart',
      });
      expect(await page.locator('#legend-rates li').evaluateAll((items: Dom[]) => items.map((li) => li.dataset.series as string))).toEqual([
        'published',
        'handled',
        'failed',
        'deadLettered',
      ]);
      expect(await legendValue('legend-depth', `q:${consumed}`)).not.toBeNull();
      expect(await legendValue('legend-depth', `d:${deadLetters}`)).not.toBeNull();
      expect(Number(await page.locator('#chart-rates').getAttribute('data-points'))).toBeGreaterThanOrEqual(4); // a point per series
      expect(Number(await page.locator('#chart-depth').getAttribute('data-points'))).toBeGreaterThan(0);
      expect(violationsOf(page)).toEqual([]); // the swatch colours are set through el.style, which the CSP allows
    } finally {
      await page.close();
    }
  });

  it('signs out through a form, and shows "signed out" with a link to sign in again when the API refuses the browser', async () => {
    const page = await openDashboard();
    try {
      await page.context().clearCookies();
      await page.click(`tr[data-queue="${consumed}"] button[data-action="peek-dlq"]`);
      await waitFor(() => page.locator('#signed-out').isVisible(), { what: 'the signed-out notice' });
      expect(await page.locator('#live').textContent()).toBe('signed out');
      await page.click('#sign-in-again');
      await page.waitForSelector('form input[name="token"]', { timeout: 10_000 }); // the sign-in page

      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      await page.waitForSelector('#sign-out button');
      await Promise.all([page.waitForNavigation(), page.click('#sign-out button')]);
      await page.goto(`${http.url}/messaging`);
      expect(await page.locator('form input[name="token"]').count()).toBe(1);
    } finally {
      await page.close();
    }
  });

  it('shows the broker as unreachable in the header, not a green "live", once fauxqs is gone (runs last: it stops fauxqs)', async () => {
    const page = await openDashboard();
    try {
      expect(await page.locator('#live').getAttribute('data-state')).toBe('live');
      fauxqsStopped = true;
      await fauxqs.stop();
      await waitFor(async () => (await page.locator('#live').getAttribute('data-state')) === 'broker-unreachable', {
        what: 'the header to say the broker is unreachable',
      });
      expect(await page.locator('#live').textContent()).toBe('broker unreachable');
      expect(await page.locator('#live').getAttribute('title')).not.toBe('');
      await waitFor(async () => (await page.locator('#events li[data-type="broker.state"]').count()) >= 1, {
        what: 'the broker.state event',
      });
    } finally {
      await page.close();
    }
  });
});
