import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { MessagingAdminModule, MessagingOptionsError } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

let fauxqs: Fauxqs;
let http: AdminHttpApp | undefined;
beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterEach(async () => {
  await http?.close();
  http = undefined;
});
afterAll(async () => {
  await fauxqs?.stop();
});

describe('MessagingAdminModule protection', () => {
  it('refuses to start without a guard unless unprotected: true, naming the option', () => {
    expect(() => MessagingAdminModule.forRoot({})).toThrow(MessagingOptionsError);
    expect(() => MessagingAdminModule.forRoot({ path: 'ops' })).toThrow(/MessagingAdminModule\.guard.*unprotected: true/);
    expect(() => MessagingAdminModule.forRootAsync({ useFactory: () => ({}) })).toThrow(MessagingOptionsError);
    expect(() => MessagingAdminModule.forRoot({ guard: 'yes' as never })).toThrow(/CanActivate/);
  });

  it('answers 401 without the token and 403 with a wrong one, and nothing changes', async () => {
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'guarded' }), { path: '/ops/messaging/', guard: TokenGuard });
    const name = uniqueName('guarded');
    const anonymous = await http.call('POST', '/queues', { name }, null);
    expect(anonymous.status).toBe(401);
    const wrong = await http.call('POST', '/queues', { name }, 'not-the-token');
    expect(wrong.status).toBe(403);
    expect((await http.call('GET', '/queues', undefined, null)).status).toBe(401);
    await expect(fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).rejects.toThrow();

    const allowed = await http.call('POST', '/queues', { name, deadLetterQueue: false });
    expect(allowed.status).toBe(201);
    expect((await http.call('DELETE', `/queues/${name}`)).status).toBe(204);
  });

  it('guards the dashboard, its event stream and overview like the API; a browser gets a sign-in page', async () => {
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'guarded-pages' }));
    const open = (path: string, headers: Record<string, string> = {}) =>
      fetch(`${http!.url}/messaging${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    const html = { accept: 'text/html,application/xhtml+xml' };

    const anonymous = await open('', html);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('text/html');
    const signInPage = await anonymous.text();
    expect(signInPage).toContain('<form method="post" action="/messaging/sign-in">');
    expect(signInPage).toContain('name="token"');
    expect(signInPage).not.toContain('/overview');
    const session = (token: string) => ({ ...html, cookie: `messaging_admin_token=${token}` });
    const wrong = await open('', session('not-the-token'));
    expect(wrong.status).toBe(403);
    const page = await open('', session(ADMIN_TOKEN));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/events');
    expect((await open(`?access_token=${ADMIN_TOKEN}`, html)).status).toBe(401); // tokens never travel in URLs

    expect((await open('/events')).status).toBe(401);
    expect((await open('/events', { authorization: 'Bearer not-the-token' })).status).toBe(403);
    const stream = new AbortController();
    const events = await fetch(`${http.url}/messaging/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: stream.signal,
    });
    expect(events.status).toBe(200);
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    stream.abort();

    expect((await open('/overview')).status).toBe(401);
    expect((await open(`/queues?access_token=${ADMIN_TOKEN}`)).status).toBe(401);
    expect((await open('/overview', { cookie: `messaging_admin_token=${ADMIN_TOKEN}` })).status).toBe(200);
    const overview = await open('/overview', { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(await overview.json()).toMatchObject({ transport: 'sns-sqs', queues: [] });
  });

  it('serves without a guard when unprotected: true is given explicitly', async () => {
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'open' }), { unprotected: true });
    const listed = await http.call('GET', '/queues', undefined, null);
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.json)).toBe(true);
  });
});
