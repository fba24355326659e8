import type { INestApplication } from '@nestjs/common';
import type { SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingServer } from '../../lib/index.js';
import { controllerFor } from '../support/controllers.js';
import { deferred } from '../support/deferred.js';
import type { Fauxqs } from '../support/fauxqs.js';
import { SNS_SQS_EMULATORS } from '../support/emulators.js';
import { queueUrl } from './support/apps.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { countCalls } from './support/call-counter.js';
import { AWS_CREDENTIALS, CaptureLogger } from './support/logs.js';

/**
 * Issue 9, finding 6: the visibility heartbeat of a hung handler's message must stop when the message is released at
 * the drain deadline; after close() resolved, no SNS/SQS call at all.
 */
describe.each(SNS_SQS_EMULATORS)('faults: SNS+SQS visibility heartbeat stops at release and close (%s)', (_emulator, start) => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const apps: INestApplication[] = [];
  const hung = deferred();

  beforeAll(async () => {
    fauxqs = await start();
  });
  afterAll(async () => {
    hung.resolve();
    await Promise.all(apps.splice(0).map((a) => a.close()));
    await fauxqs?.stop();
  });

  it('a hung handler released at the drain deadline: zero calls after close() resolved, the message visible again', async () => {
    const topic = uniqueName('f-heartbeat');
    const started = deferred();
    const visibilityTimeout = 2; // heartbeat every second
    const app = await startTestApp(
      {
        transport: 'sns-sqs',
        serviceName: uniqueName('svc'),
        drainTimeout: 1500,
        snsSqs: { region: 'us-east-1', endpoint: fauxqs.endpoint, credentials: AWS_CREDENTIALS, waitTimeSeconds: 1 },
      },
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName: topic, visibilityTimeout },
            handle: async () => {
              started.resolve();
              await hung.promise;
            },
          },
        ]),
      ],
      { logger },
    );
    apps.push(app);
    const server = app.get(MessagingServer).unwrap<{ sns: SNSClient; sqs: SQSClient }>();
    const client = app.get(MessagingClient).unwrap<{ sns: SNSClient; sqs: SQSClient }>();
    const log = countCalls([server.sns, server.sqs, client.sns, client.sqs]);
    await lastValueFrom(app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
    await started.promise;
    // the heartbeat runs while the handler hangs
    await waitFor(() => log.count('ChangeMessageVisibilityBatch') >= 2, { timeoutMs: 10_000, what: 'two heartbeat extensions' });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    const closedAt = Date.now();
    // watch three heartbeat periods: a leftover timer would extend (or receive) again within this window
    const windowMs = (3 * (visibilityTimeout * 1000)) / 2;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    const after = log.calls.filter((c) => c.at >= closedAt);
    process.stderr.write(
      `[finding 6] calls in ${windowMs} ms after close(): ${after.length} (${after.map((c) => c.name).join(', ') || 'none'})\n`,
    );
    expect(after).toEqual([]);
    // released with visibility 0, not kept invisible by a heartbeat
    const { Attributes = {} } = await fauxqs.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: await queueUrl(fauxqs.sqs, topic), AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Number(Attributes.ApproximateNumberOfMessages)).toBe(1);
  }, 30_000);
});
