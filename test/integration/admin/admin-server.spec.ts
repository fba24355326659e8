import { CreateQueueCommand, DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { readFileSync } from 'node:fs';
import { startAdminServer, type AdminServer } from '../../../lib/bin/admin-server.js';
import { MessagingOptionsError } from '../../../lib/index.js';
import { FAUXQS_CREDENTIALS, FAUXQS_REGION, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const TOKEN = 'c2f5e3a91b7d4e06a8f1d2c3b4a59687e0f1a2b3';
let fauxqs: Fauxqs;
let server: AdminServer | undefined;

beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  await server?.close();
  await fauxqs?.stop();
});

const get = (url: string, token?: string) =>
  fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });

describe('nestjs-messaging-admin (the standalone server)', () => {
  it('serves the guarded API, dashboard and watcher from environment variables', async () => {
    const prefix = uniqueName('standalone');
    server = await startAdminServer(
      {
        MESSAGING_TRANSPORT: 'sns-sqs',
        AWS_ENDPOINT_URL: fauxqs.endpoint,
        AWS_REGION: FAUXQS_REGION,
        AWS_ACCESS_KEY_ID: FAUXQS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: FAUXQS_CREDENTIALS.secretAccessKey,
        MESSAGING_PREFIX: prefix,
        MESSAGING_ADMIN_TOKEN: TOKEN,
        MESSAGING_ADMIN_WATCH_MS: '200',
        PORT: '0',
        HOST: '127.0.0.1',
      },
      false,
    );
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/messaging$/);
    expect((await get(`${server.url}/queues`)).status).toBe(401);
    expect((await get(`${server.url}/queues`, 'wrong')).status).toBe(403);
    expect((await get(`${server.url}/queues`, TOKEN)).status).toBe(200);
    const page = await fetch(server.url, {
      headers: { cookie: `messaging_admin_token=${TOKEN}`, accept: 'text/html' },
      signal: AbortSignal.timeout(10_000),
    });
    expect(page.status).toBe(200);

    const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `${prefix}-orders` }));
    try {
      await waitFor(
        async () => {
          const overview = (await (await get(`${server!.url}/overview`, TOKEN)).json()) as { queues: Array<{ name: string }> };
          return overview.queues.some((q) => q.name === `${prefix}-orders`);
        },
        { what: 'the watched queue in the overview' },
      );
      const created = await fetch(`${server.url}/queues`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `${prefix}-made`, deadLetterQueue: false }),
        signal: AbortSignal.timeout(10_000),
      });
      expect(created.status).toBe(201);
      // (the right token since the wrong one above cleared it) five wrong tokens are free, the sixth starts a wait
      const statuses: number[] = [];
      for (let n = 0; n < 8; n++) statuses.push((await get(`${server.url}/queues`, 'wrong')).status);
      expect(statuses).toEqual([403, 403, 403, 403, 403, 403, 429, 429]);
    } finally {
      await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl }));
      const made = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${prefix}-made` })).catch(() => undefined);
      if (made) await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl: made.QueueUrl }));
    }
  });

  it('refuses to start without a token or a transport, naming the variable', async () => {
    await expect(startAdminServer({ MESSAGING_TRANSPORT: 'sns-sqs' }, false)).rejects.toThrow(/MESSAGING_ADMIN_TOKEN.*required/);
    await expect(startAdminServer({ MESSAGING_ADMIN_TOKEN: TOKEN }, false)).rejects.toThrow(MessagingOptionsError);
    await expect(startAdminServer({ MESSAGING_TRANSPORT: 'kafka', MESSAGING_ADMIN_TOKEN: TOKEN }, false)).rejects.toThrow(
      /MESSAGING_TRANSPORT.*sns-sqs or amqp/,
    );
    await expect(startAdminServer({ MESSAGING_TRANSPORT: 'amqp', MESSAGING_ADMIN_TOKEN: TOKEN, PORT: 'eighty' }, false)).rejects.toThrow(
      /PORT/,
    );
  });

  it('is the package bin nestjs-messaging-admin, built from lib/bin', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin['nestjs-messaging-admin']).toBe('./dist/esm/bin/nestjs-messaging-admin.js');
    expect(readFileSync('lib/bin/nestjs-messaging-admin.ts', 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});
