import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { MessagingAdminModule, MessagingOptionsError } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName } from '../../support/wait-for.js';
import { startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

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

  it('serves without a guard when unprotected: true is given explicitly', async () => {
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'open' }), { unprotected: true });
    const listed = await http.call('GET', '/queues', undefined, null);
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.json)).toBe(true);
  });
});
