import { Injectable, Logger, type CanActivate, type ExecutionContext, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { startAdminServer } from '../../../lib/bin/admin-server.js';
import { FailureThrottle } from '../../../lib/admin/http/admin-token.guard.js';
import {
  ADMIN_GUARD_TOKEN,
  AdminTokenGuard,
  MessagingAdminModule,
  MessagingModule,
  MessagingOptionsError,
  type MessagingModuleOptions,
} from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, type AdminHttpApp } from './admin-app.js';
import { launchChromium, signIn } from './chromium.js';

const STRONG_TOKEN = createHash('sha256').update(`hardening-${process.pid}`).digest('hex');
const SESSION = 'session=valid-session';

/** A session-cookie guard, the kind the README says works unchanged: what protects it from cross-site requests. */
@Injectable()
class SessionCookieGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const cookie = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.cookie ?? '';
    return cookie.split(';').some((pair) => pair.trim() === SESSION);
  }
}

let fauxqs: Fauxqs;
let http: AdminHttpApp;
let browser: Browser | undefined;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'hardening' }));
});
afterAll(async () => {
  await browser?.close();
  await http?.close();
  await fauxqs?.stop();
});

const fetchAdmin = (app: AdminHttpApp, path: string, init: RequestInit = {}) =>
  fetch(`${app.url}/messaging${path}`, { redirect: 'manual', ...init, signal: init.signal ?? AbortSignal.timeout(10_000) });
const bearer = { authorization: `Bearer ${ADMIN_TOKEN}` };

const messageOf = async (response: Response) => ((await response.json()) as { message: string }).message;

/** The sha256 CSP sources of a served page's inline <script> and <style> blocks. */
function inlineHashes(html: string): string[] {
  return [...html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)].map(
    ([, , body]) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`,
  );
}

function expectSecurityHeaders(response: Response, what: string): void {
  const headers = Object.fromEntries(response.headers);
  expect({ what, csp: headers['content-security-policy'] }).toEqual({
    what,
    csp: expect.stringMatching(/^default-src 'none'; script-src 'self'( 'sha256-[^']+')*; style-src 'self'( 'sha256-[^']+')*; /),
  });
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['content-security-policy']).toContain("form-action 'self'");
  expect(headers['content-security-policy']).toContain("base-uri 'none'");
  expect(headers['content-security-policy']).not.toContain('unsafe');
  expect({ what, headers }).toMatchObject({
    what,
    headers: { 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' },
  });
  expect({ what, cache: headers['cache-control'] }).toEqual({ what, cache: expect.stringContaining('no-store') });
  expect({ what, poweredBy: headers['x-powered-by'] }).toEqual({ what, poweredBy: undefined });
}

async function createQueueWithMessages(count: number): Promise<{ name: string; url: string; depth(): Promise<number> }> {
  const name = uniqueName('hardening');
  const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name }));
  for (let n = 0; n < count; n++) await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `{"n":${n}}` }));
  return {
    name,
    url: QueueUrl!,
    async depth() {
      const { Attributes } = await fauxqs.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(Attributes?.ApproximateNumberOfMessages);
    },
  };
}

describe('admin security headers', () => {
  it('sets CSP, nosniff, X-Frame-Options, Referrer-Policy and no-store without X-Powered-By on JSON, pages, errors and the event stream', async () => {
    const json = await fetchAdmin(http, '/queues', { headers: bearer });
    expect(json.status).toBe(200);
    expectSecurityHeaders(json, 'JSON');
    const dashboard = await fetchAdmin(http, '', { headers: { ...bearer, accept: 'text/html' } });
    expectSecurityHeaders(dashboard, 'dashboard');
    const docs = await fetchAdmin(http, '/docs', { headers: { ...bearer, accept: 'text/html' } });
    expectSecurityHeaders(docs, 'Swagger UI page');
    const login = await fetchAdmin(http, '', { headers: { accept: 'text/html' } });
    expect(login.status).toBe(401);
    expectSecurityHeaders(login, 'sign-in page');
    expectSecurityHeaders(await fetchAdmin(http, '/queues', { headers: { authorization: 'Bearer wrong' } }), '403');
    expectSecurityHeaders(await fetchAdmin(http, '/no-such-route', { headers: bearer }), '404');
    expectSecurityHeaders(await fetchAdmin(http, '/queues/no-such-queue', { headers: bearer }), 'admin error');

    const stream = new AbortController();
    const events = await fetchAdmin(http, '/events', { headers: bearer, signal: stream.signal });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    expectSecurityHeaders(events, 'event stream');
    stream.abort();

    // the policy allows exactly the inline blocks the pages carry, by hash
    const csp = json.headers.get('content-security-policy')!;
    for (const page of [await dashboard.text(), await docs.text(), await login.text()])
      for (const hash of inlineHashes(page)) expect(csp).toContain(hash);
    // outside its path the module leaves the app's responses alone
    const outside = await fetch(`${http.url}/elsewhere`, { signal: AbortSignal.timeout(10_000) });
    expect(outside.headers.get('x-powered-by')).toBe('Express');
    expect(outside.headers.get('content-security-policy')).toBeNull();
  });
});

describe('cross-site requests', () => {
  it('refuses a cross-site urlencoded POST purge with a session-cookie guard, and the queue keeps its messages', async () => {
    const app = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'hardening-cookie' }), { guard: SessionCookieGuard });
    const queue = await createQueueWithMessages(2);
    try {
      const attack = (headers: Record<string, string>) =>
        fetchAdmin(app, `/queues/${queue.name}/purge`, {
          method: 'POST',
          headers: { cookie: SESSION, 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: 'x=1',
        });
      const fromOtherSite = await attack({ origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' });
      expect(fromOtherSite.status).toBe(403);
      expect(await messageOf(fromOtherSite)).toMatch(/Sec-Fetch-Site.*cross-site/);
      const oldBrowser = await attack({ origin: 'https://attacker.example' });
      expect(oldBrowser.status).toBe(403);
      expect(await messageOf(oldBrowser)).toMatch(/Origin "https:\/\/attacker\.example" does not match Host/);
      const noOrigin = await attack({});
      expect(noOrigin.status).toBe(415);
      expect(await queue.depth()).toBe(2);

      // the same guard lets the same-origin JSON call of the dashboard through
      const own = await fetchAdmin(app, `/queues/${queue.name}/purge`, {
        method: 'POST',
        headers: { cookie: SESSION, origin: app.url, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' },
        body: '{}',
      });
      expect(own.status).toBe(204);
      await waitFor(async () => (await queue.depth()) === 0, { what: 'the purge' });
    } finally {
      await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url }));
      await app.close();
    }
  });

  it('accepts changes with Sec-Fetch-Site same-origin or none, or without Origin (curl); refuses same-site, cross-site and a foreign Origin, naming the header', async () => {
    const create = (headers: Record<string, string>) =>
      fetchAdmin(http, '/topics', {
        method: 'POST',
        headers: { ...bearer, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: uniqueName('hardening-topic') }),
      });
    const created: string[] = [];
    try {
      const accepted: Array<Record<string, string>> = [
        {},
        { 'sec-fetch-site': 'same-origin', origin: http.url },
        { 'sec-fetch-site': 'none' },
      ];
      for (const headers of accepted) {
        const response = await create(headers);
        expect({ headers, status: response.status }).toEqual({ headers, status: 201 });
        created.push(((await response.json()) as { name: string }).name);
      }
      for (const site of ['same-site', 'cross-site']) {
        const refused = await create({ 'sec-fetch-site': site });
        expect(refused.status).toBe(403);
        expect(await messageOf(refused)).toContain(`Sec-Fetch-Site is "${site}"`);
      }
      for (const origin of ['http://127.0.0.1:1', 'null', 'https://attacker.example']) {
        const refused = await create({ origin });
        expect({ origin, status: refused.status }).toEqual({ origin, status: 403 });
        expect(await messageOf(refused)).toContain(`Origin "${origin}" does not match Host`);
      }
    } finally {
      for (const name of created) await http.call('DELETE', `/topics/${name}`);
    }
  });

  it('answers 415 naming Content-Type to a change sent as a form or text', async () => {
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain;charset=UTF-8']) {
      const response = await fetchAdmin(http, '/queues', { method: 'POST', headers: { ...bearer, 'content-type': type }, body: 'name=x' });
      expect({ type, status: response.status }).toEqual({ type, status: 415 });
      expect(await messageOf(response)).toMatch(/Content-Type ".*" is refused.*send application\/json/);
    }
  });

  it('refuses the same checks over AMQP (RabbitMQ)', async () => {
    const app = await startAdminApp(rabbitMqOptions({ serviceName: 'hardening-amqp' }), { guard: SessionCookieGuard });
    try {
      const refused = await fetchAdmin(app, `/queues/${uniqueName('hardening-amqp')}/purge`, {
        method: 'POST',
        headers: { cookie: SESSION, origin: 'https://attacker.example', 'content-type': 'application/x-www-form-urlencoded' },
        body: 'x=1',
      });
      expect(refused.status).toBe(403);
      expectSecurityHeaders(refused, 'AMQP refusal');
      const overview = await fetchAdmin(app, '/overview', { headers: { cookie: SESSION } });
      expect(overview.status).toBe(200);
      expectSecurityHeaders(overview, 'AMQP overview');
    } finally {
      await app.close();
    }
  });
});

describe('sign-in by POST', () => {
  it('sets an HttpOnly SameSite=Strict cookie scoped to the path (Secure over https) that authorizes the API and the event stream; sign-out clears it', async () => {
    const signedIn = await fetchAdmin(http, '/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: http.url, 'sec-fetch-site': 'same-origin' },
      body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
    });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/messaging');
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie.split('; ').sort()).toEqual(
      ['HttpOnly', 'Path=/messaging', 'SameSite=Strict', `messaging_admin_token=${ADMIN_TOKEN}`].sort(),
    );
    const session = { cookie: cookie.split(';')[0] };
    expect((await fetchAdmin(http, '/queues', { headers: session })).status).toBe(200);
    const stream = new AbortController();
    const events = await fetchAdmin(http, '/events', { headers: session, signal: stream.signal });
    expect(events.status).toBe(200);
    stream.abort();
    // an Authorization header of the request itself wins over the cookie
    expect((await fetchAdmin(http, '/queues', { headers: { ...session, authorization: 'Bearer wrong' } })).status).toBe(403);

    const signedOut = await fetchAdmin(http, '/sign-out', { method: 'POST', headers: session });
    expect(signedOut.status).toBe(303);
    expect(signedOut.headers.get('set-cookie')).toMatch(/^messaging_admin_token=; Path=\/messaging; .*Max-Age=0/);

    http.app.getHttpAdapter().getInstance().set('trust proxy', 'loopback');
    try {
      const overHttps = await fetchAdmin(http, '/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
        body: `token=${ADMIN_TOKEN}`,
      });
      expect(overHttps.headers.get('set-cookie')).toContain('; Secure');
    } finally {
      http.app.getHttpAdapter().getInstance().set('trust proxy', false);
    }
  });

  it('refuses a sign-in or sign-out from another site (login CSRF) and a missing token', async () => {
    for (const route of ['/sign-in', '/sign-out']) {
      const refused = await fetchAdmin(http, route, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://attacker.example',
          'sec-fetch-site': 'cross-site',
        },
        body: `token=${ADMIN_TOKEN}`,
      });
      expect({ route, status: refused.status, cookie: refused.headers.get('set-cookie') }).toEqual({ route, status: 403, cookie: null });
    }
    const empty = await fetchAdmin(http, '/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    expect(empty.status).toBe(400);
    expect(await messageOf(empty)).toContain('token');
  });

  it('signs a browser in through the page form: no token in any URL, nothing in storage, and ?access_token= opens nothing', async () => {
    browser ??= await launchChromium();
    const page = await browser.newPage();
    try {
      const urls: string[] = [];
      page.on('request', (request) => urls.push(request.url()));
      await page.goto(`${http.url}/messaging`);
      expect(await page.locator('form').getAttribute('method')).toBe('post');
      expect(await page.locator('form').getAttribute('action')).toBe('/messaging/sign-in');
      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      expect(page.url()).toBe(`${http.url}/messaging`);
      await waitFor(async () => urls.some((url) => url.endsWith('/overview')), { what: 'the dashboard to call the API' });
      expect(urls.filter((url) => url.includes(ADMIN_TOKEN))).toEqual([]);
      expect(await page.evaluate('document.cookie')).toBe(''); // HttpOnly: no script reads it
      expect(await page.evaluate('sessionStorage.length + localStorage.length')).toBe(0);
    } finally {
      await page.close();
    }
    const viaQuery = await fetchAdmin(http, `?access_token=${ADMIN_TOKEN}`, { headers: { accept: 'text/html' } });
    expect(viaQuery.status).toBe(401);
  });
});

/** GET from a given local address, so that one test is several clients. */
function getFrom(localAddress: string, url: string, token: string): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { localAddress, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode!, retryAfter: response.headers['retry-after'] as string | undefined }),
      );
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
    request.end();
  });
}

describe('AdminTokenGuard', () => {
  it('throttles wrong tokens per client address with 429 and a growing Retry-After; the right token from another address passes', async () => {
    const app = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'hardening-throttle' }), {
      guard: new AdminTokenGuard(STRONG_TOKEN),
    });
    try {
      const queues = `${app.url}/messaging/queues`;
      expect((await getFrom('127.0.0.1', queues, STRONG_TOKEN)).status).toBe(200);
      const statuses: number[] = [];
      for (let n = 0; n < 5; n++) statuses.push((await getFrom('127.0.0.1', queues, 'wrong')).status);
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
      expect(await getFrom('127.0.0.1', queues, 'wrong')).toEqual({ status: 403, retryAfter: undefined }); // 6th: counted
      const blocked = await getFrom('127.0.0.1', queues, 'wrong');
      expect(blocked).toEqual({ status: 429, retryAfter: '1' });
      // while it waits, even the right token from that address is not compared (else the guessing went on)
      expect((await getFrom('127.0.0.1', queues, STRONG_TOKEN)).status).toBe(429);
      // another client is not affected
      expect((await getFrom('127.0.0.2', queues, STRONG_TOKEN)).status).toBe(200);
      expect((await getFrom('127.0.0.2', queues, 'wrong')).status).toBe(403);

      await waitFor(async () => (await getFrom('127.0.0.1', queues, 'wrong')).status === 403, {
        what: 'the first wait to end',
        intervalMs: 200,
      });
      expect(await getFrom('127.0.0.1', queues, 'wrong')).toEqual({ status: 429, retryAfter: '2' });
    } finally {
      await app.close();
    }
  });

  it('tracks a bounded number of clients, forgets failures after the window, and forgets them on the right token', () => {
    let now = 0;
    const throttle = new FailureThrottle({ freeFailures: 2, baseDelayMs: 1000, windowMs: 60_000, maxClients: 100 }, () => now);
    for (let n = 0; n < 10_000; n++) throttle.failed(`10.0.${n >> 8}.${n & 255}`);
    expect(throttle.trackedClients).toBe(100);
    for (let n = 0; n < 3; n++) throttle.failed('client');
    expect(throttle.retryAfterSeconds('client')).toBe(1);
    throttle.failed('client');
    expect(throttle.retryAfterSeconds('client')).toBe(2);
    for (let n = 0; n < 20; n++) throttle.failed('client');
    expect(throttle.retryAfterSeconds('client')).toBe(60); // capped by the window
    now += 60_001;
    expect(throttle.retryAfterSeconds('client')).toBe(0);
    for (let n = 0; n < 3; n++) throttle.failed('other');
    throttle.succeeded('other');
    expect(throttle.retryAfterSeconds('other')).toBe(0);
  });

  it('refuses a missing, short, whitespace or repetitive token at startup, naming where it came from and how to make one', async () => {
    for (const weak of ['a', 'changeme', ' '.repeat(40), `${STRONG_TOKEN}\n`, 'a'.repeat(64), 'changeme'.repeat(8), '01'.repeat(32)])
      expect(() => new AdminTokenGuard(weak)).toThrow(/AdminTokenGuard token.*openssl rand -hex 32/);
    expect(() => new AdminTokenGuard(STRONG_TOKEN)).not.toThrow();
    expect(() => new AdminTokenGuard(crypto.randomUUID())).not.toThrow();

    const env = (token: string | undefined) => ({
      MESSAGING_TRANSPORT: 'sns-sqs',
      MESSAGING_ADMIN_TOKEN: token,
      PORT: '0',
      HOST: '127.0.0.1',
    });
    await expect(startAdminServer(env('changeme'), false)).rejects.toThrow(/MESSAGING_ADMIN_TOKEN.*at least 32.*openssl rand -hex 32/);
    await expect(startAdminServer(env(' '.repeat(40)), false)).rejects.toThrow(/MESSAGING_ADMIN_TOKEN.*whitespace/);
    await expect(startAdminServer(env('x'.repeat(40)), false)).rejects.toThrow(MessagingOptionsError);
  });

  it('resolves through DI from an ADMIN_GUARD_TOKEN provider or MESSAGING_ADMIN_TOKEN, and fails the startup without one', async () => {
    const messaging = fauxqsOptions(fauxqs, { serviceName: 'hardening-di' });
    const start = async (providers: Array<{ provide: symbol; useValue: string }>) => {
      const imports = providers.length ? [providerModule(providers)] : [];
      return startAdminApp(messaging, { guard: AdminTokenGuard, imports });
    };
    const saved = process.env.MESSAGING_ADMIN_TOKEN;
    try {
      delete process.env.MESSAGING_ADMIN_TOKEN;
      await expect(start([])).rejects.toThrow(/MESSAGING_ADMIN_TOKEN.*required.*openssl rand -hex 32/);
      process.env.MESSAGING_ADMIN_TOKEN = 'short';
      await expect(start([])).rejects.toThrow(/MESSAGING_ADMIN_TOKEN.*at least 32/);
      process.env.MESSAGING_ADMIN_TOKEN = STRONG_TOKEN;
      const fromEnv = await start([]);
      try {
        expect((await fromEnv.call('GET', '/queues', undefined, STRONG_TOKEN)).status).toBe(200);
        expect((await fromEnv.call('GET', '/queues', undefined, ADMIN_TOKEN)).status).toBe(403);
      } finally {
        await fromEnv.close();
      }
      const provided = `${STRONG_TOKEN.slice(0, 40)}-provided`;
      const fromProvider = await start([{ provide: ADMIN_GUARD_TOKEN, useValue: provided }]);
      try {
        expect((await fromProvider.call('GET', '/queues', undefined, provided)).status).toBe(200);
        expect((await fromProvider.call('GET', '/queues', undefined, STRONG_TOKEN)).status).toBe(403);
      } finally {
        await fromProvider.close();
      }
    } finally {
      if (saved === undefined) delete process.env.MESSAGING_ADMIN_TOKEN;
      else process.env.MESSAGING_ADMIN_TOKEN = saved;
    }
  });
});

function providerModule(providers: Array<{ provide: symbol; useValue: string }>) {
  return { module: class AdminTokenModule {}, providers, exports: providers.map((p) => p.provide) };
}

describe('unprotected: true', () => {
  it('logs a warning at startup naming the path and saying nothing protects it', async () => {
    const warnings: string[] = [];
    const capture: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => void warnings.push(String(message)),
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        MessagingModule.forRoot(fauxqsOptions(fauxqs, { serviceName: 'hardening-open' }) as MessagingModuleOptions),
        MessagingAdminModule.forRoot({ path: 'open-ops', unprotected: true }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: capture });
    try {
      await app.init();
      expect(warnings.filter((w) => w.includes('/open-ops'))).toEqual([expect.stringMatching(/unprotected.*nothing .* checks who calls/)]);
    } finally {
      await app.close();
      Logger.overrideLogger(false);
    }
  });
});

describe('the pages under the Content-Security-Policy (headless Chromium)', () => {
  /** Every CSP violation of the page: the DOM event and Chromium's console report. */
  async function watchViolations(page: Page): Promise<string[]> {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Refused to|Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.exposeFunction('reportViolation', (text: string) => void violations.push(text));
    await page.addInitScript(
      "document.addEventListener('securitypolicyviolation', (e) => reportViolation(e.violatedDirective + ': ' + e.blockedURI))",
    );
    return violations;
  }

  it('runs the dashboard and Swagger UI without a policy violation', async () => {
    browser ??= await launchChromium();
    const page = await browser.newPage();
    try {
      const violations = await watchViolations(page);
      await signIn(page, `${http.url}/messaging`, ADMIN_TOKEN);
      await waitFor(async () => (await page.locator('#live').textContent()) === 'live', { what: 'the dashboard event stream' });
      await page.goto(`${http.url}/messaging/docs`);
      await waitFor(async () => (await page.locator('.opblock').count()) >= 17, { what: 'Swagger UI to list the operations' });
      await page.locator('.opblock').first().click(); // expands an operation (its styles and icons)
      await waitFor(async () => (await page.locator('.opblock-body').count()) >= 1, { what: 'the expanded operation' });
      expect(violations).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
