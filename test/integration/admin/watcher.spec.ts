import { CreateQueueCommand, DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { MessagingAdminModule, MessagingAdminService, MessagingOptionsError, type AdminEvent } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';

let fauxqs: Fauxqs;
let http: AdminHttpApp | undefined;
beforeAll(async () => {
  fauxqs = await startFauxqs();
});
afterAll(async () => {
  await http?.close();
  await fauxqs?.stop();
});

describe('MessagingAdminModule watch', () => {
  it('reports queues that appear and disappear outside the service on events$', async () => {
    const prefix = uniqueName('watched');
    http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'watcher' }), {
      guard: TokenGuard,
      watch: { intervalMs: 100, prefix },
    });
    const events: AdminEvent[] = [];
    const subscription = http.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    try {
      const name = `${prefix}-q`;
      const { QueueUrl } = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name }));
      const appeared = await waitFor(() => events.find((e) => e.type === 'resource.appeared'), { what: 'resource.appeared' });
      expect(appeared).toMatchObject({ kind: 'queue', resource: name, transport: 'sns-sqs' });
      await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl }));
      const gone = await waitFor(() => events.find((e) => e.type === 'resource.disappeared'), { what: 'resource.disappeared' });
      expect(gone).toMatchObject({ kind: 'queue', resource: name });
      expect(events.filter((e) => e.type.startsWith('resource.'))).toHaveLength(2);
    } finally {
      subscription.unsubscribe();
    }
  });

  it("without watch.prefix, watches only the queues under MessagingModule's queueNamePrefix", async () => {
    const queueNamePrefix = `${uniqueName('mine')}-`;
    const app = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'watcher', queueNamePrefix }), {
      guard: TokenGuard,
      watch: { intervalMs: 100 },
    });
    const events: AdminEvent[] = [];
    const subscription = app.app.get(MessagingAdminService).events$.subscribe((e) => events.push(e));
    const urls: string[] = [];
    try {
      const other = uniqueName('not-mine');
      for (const name of [other, `${queueNamePrefix}q`])
        urls.push((await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl!);
      await waitFor(() => events.find((e) => e.type === 'resource.appeared' && e.resource === `${queueNamePrefix}q`), {
        what: 'resource.appeared of the prefixed queue',
      });
      // one more full look after it: the other queue would have appeared by now
      const looks = events.length;
      await waitFor(
        async () => (await app.call('GET', '/overview')).json.queues.some((q: { name: string }) => q.name === `${queueNamePrefix}q`),
        {
          what: 'the prefixed queue in the overview',
        },
      );
      expect(events.slice(0, looks).filter((e) => e.resource === other)).toEqual([]);
      expect((await app.call('GET', '/overview')).json.queues.map((q: { name: string }) => q.name)).not.toContain(other);
    } finally {
      subscription.unsubscribe();
      for (const QueueUrl of urls) await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await app.close();
    }
  });

  it('refuses an interval below 100 ms', () => {
    expect(() => MessagingAdminModule.forRoot({ guard: TokenGuard, watch: { intervalMs: 5 } })).toThrow(MessagingOptionsError);
  });
});
