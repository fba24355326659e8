import type { INestApplication } from '@nestjs/common';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MessagingServer } from '../../../lib/index.js';
import { countCalls, type CallLog } from '../../faults/support/call-counter.js';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

/**
 * Issue 9, finding 11: free slots are coalesced into receives of up to 10, at most ceil(concurrency / 10) long polls
 * per queue, so that after a trickle of messages an idle consumer polls no more than a fresh one.
 * waitTimeSeconds 1, so that a poll cycles every second and idle receives can be counted in a short window.
 */
describe('SNS+SQS receive coalescing (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  const WINDOW_MS = 3000;
  const receivesIn = async (log: CallLog) => {
    const from = Date.now();
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS)); // a measurement window, not a wait for a condition
    return log.count('ReceiveMessage', from);
  };

  it.each([10, 50])(
    'concurrency %i: after a trickle of 30 messages an idle consumer has no more polls than a fresh one',
    async (concurrency) => {
      const queueName = uniqueName('coalesce');
      const polls = Math.ceil(concurrency / 10);
      const handled: number[] = [];
      const app = await startTestApp(fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), concurrency }), [
        controllerFor([
          {
            pattern: queueName,
            extras: { queueName },
            handle: (d: { n: number }) => {
              handled.push(d.n);
            },
          },
        ]),
      ]);
      apps.push(app);
      const log = countCalls([app.get(MessagingServer).unwrap<{ sqs: SQSClient }>().sqs]);
      await waitFor(() => log.count('ReceiveMessage') >= polls, { what: 'the first polls' });
      const fresh = await receivesIn(log);
      for (let n = 0; n < 30; n++) {
        await emit(app, queueName, { n });
        await waitFor(() => handled.length === n + 1, { what: `message ${n} handled` });
      }
      const idle = await receivesIn(log);
      process.stderr.write(
        `[finding 11] concurrency ${concurrency}: receives in ${WINDOW_MS} ms fresh ${fresh}, idle after a trickle ${idle}; peak outstanding ${log.peakReceives}\n`,
      );
      expect(log.peakReceives).toBeLessThanOrEqual(polls);
      // each poll cycles once per second (waitTimeSeconds 1), plus one cycle per poll at the edges of the window
      expect(idle).toBeLessThanOrEqual(polls * (WINDOW_MS / 1000 + 1));
    },
    60_000,
  );
});
