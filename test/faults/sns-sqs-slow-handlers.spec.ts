import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { MessagingServer } from '../../lib/index.js';
import { startTestApp } from '../support/apps.js';
import type { Fauxqs } from '../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../support/emulators.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { account } from './support/accounting.js';
import { drainSqsQueue, numberIn, numbers, publishNumbered } from './support/apps.js';
import { slowController } from './support/controllers.js';
import { AWS_CREDENTIALS, CaptureLogger, linesWithSecrets } from './support/logs.js';

/**
 * Slow handlers on SNS+SQS (fauxqs in-process, and moto's server): SQS-only, since only SQS has a visibility timeout for the
 * heartbeat to extend. The scenarios both transports share are in handler-faults.spec.ts.
 */
describe.each(SNS_SQS_EMULATORS)('faults: SNS+SQS slow handlers (%s)', (_emulator, start) => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    fauxqs = await start();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(async () => {
    await fauxqs?.stop();
    expect(linesWithSecrets(logger.lines, [AWS_CREDENTIALS.secretAccessKey])).toEqual([]);
  });

  const snsSqs = () => ({ region: 'us-east-1', endpoint: fauxqs.endpoint, credentials: AWS_CREDENTIALS, waitTimeSeconds: 1 });

  it('7. slow handlers longer than the visibility timeout: the heartbeat keeps them invisible, each handled once', async () => {
    const topic = uniqueName('f-slow');
    const invocations: number[] = [];
    const handled: number[] = [];
    const slowCount = 50;
    const app = await startTestApp(
      { transport: 'sns-sqs', serviceName: uniqueName('svc'), concurrency: slowCount, snsSqs: snsSqs() },
      [slowController(topic, { queueName: topic, visibilityTimeout: 2 }, 5000, invocations, handled)],
      { logger },
    );
    apps.push(app);
    const { confirmed, rejected } = await publishNumbered(app, topic, numbers(slowCount), { concurrency: 10 });
    await waitFor(() => handled.length >= slowCount, { timeoutMs: 60_000, intervalMs: 200, what: 'all slow messages handled' }).catch(
      () => undefined,
    );
    await new Promise((r) => setTimeout(r, 3000)); // a lost heartbeat would show as a redelivery within one more visibility timeout
    await app.get(MessagingServer).close();
    const dead = (await drainSqsQueue(fauxqs.sqs, `${topic}-dlq`)).map((m) => numberIn(m.Body ?? '')!);
    const result = account('sns-sqs 7 slow handlers', {
      published: slowCount,
      confirmed,
      handled,
      deadLettered: dead,
      rejected: rejected.size,
      note: `${slowCount} slow messages (not 2,000): 5 s handlers, visibilityTimeout 2 s, ${invocations.length} invocations`,
    });
    expect(result.lost).toEqual([]);
    expect(invocations.length).toBe(slowCount);
    expect(result.duplicates).toBe(0);
  }, 120_000);
});
