import type { INestApplication } from '@nestjs/common';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MessagingServer } from '../../../lib/index.js';
import { countCalls } from '../../faults/support/call-counter.js';
import { type Fauxqs, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import { startTestApp } from '../../support/apps.js';
import { CaptureLogger } from '../../faults/support/logs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/** Issue 9, finding 2: snsSqs.requestTimeout bounds each request, but a ReceiveMessage long poll gets waitTimeSeconds on top. */
describe('SNS+SQS long polls and snsSqs.requestTimeout (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  const logger = new CaptureLogger();
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await fauxqs.stop();
  });

  it('a 3 s long poll with requestTimeout 1000 ms runs its full wait, without an error', async () => {
    const queueName = uniqueName('long-poll');
    const app = await startTestApp(
      {
        transport: 'sns-sqs',
        serviceName: uniqueName('svc'),
        concurrency: 10,
        snsSqs: { ...fauxqs.snsSqs, waitTimeSeconds: 3, requestTimeout: 1000 },
      },
      [controllerFor([{ pattern: queueName, extras: { queueName }, handle: () => undefined }])],
      { logger },
    );
    apps.push(app);
    const log = countCalls([app.get(MessagingServer).unwrap<{ sqs: SQSClient }>().sqs]);
    await waitFor(() => log.count('ReceiveMessage') >= 2, { timeoutMs: 15_000, what: 'a second poll' });
    const [first, second] = log.calls.filter((c) => c.name === 'ReceiveMessage');
    expect(second.at - first.at).toBeGreaterThanOrEqual(2900);
    expect(logger.lines.filter((l) => /Receiving from .* failed|TimeoutError/.test(l))).toEqual([]);
  }, 30_000);
});
