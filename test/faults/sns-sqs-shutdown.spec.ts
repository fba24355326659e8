import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../lib/index.js';
import { queueUrl } from './support/apps.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { readNumbers } from './support/child.js';
import { fauxqsWithChildren } from './support/fauxqs-children.js';
import { scratchFile } from './support/paths.js';
import { SNS_SQS_EMULATORS } from '../support/emulators.js';

/**
 * How long a SIGTERM takes, measured in a child process (compiled JS, enableShutdownHooks) from SIGTERM to exit. A stop
 * lets its open long poll end rather than strand what SQS would hand to it (sns-sqs-restart.spec.ts), so the bound is
 * the longer of the running handler and what is left of the poll (at most waitTimeSeconds), plus a second.
 */
const WAIT_TIME_SECONDS = 5;

describe.each(SNS_SQS_EMULATORS)(
  'faults: SNS+SQS shutdown time is bounded by the running handler and the open long poll (%s)',
  (_emulator, start) => {
    const suite = fauxqsWithChildren(start);
    const { logger, apps, spawn } = suite;

    const snsSqs = () => suite.snsSqs({ waitTimeSeconds: WAIT_TIME_SECONDS });
    const exitedCleanly = (exit: { code: number | null; signal: NodeJS.Signals | null }) => exit.code === 0 || exit.signal === 'SIGTERM';
    const queueCounts = async (name: string) => {
      const { Attributes = {} } = await suite.fauxqs.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: await queueUrl(suite.fauxqs.sqs, name),
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible);
    };

    it('a 3 s handler, SIGTERM as soon as it starts: exits within the 5 s poll + 1 s, the message deleted and not redelivered', async () => {
      const topic = uniqueName('f-shut-busy');
      const serviceName = uniqueName('svc');
      const handledFile = scratchFile(`${topic}.handled`);
      const startedFile = scratchFile(`${topic}.started`);
      const child = spawn({
        module: { transport: 'sns-sqs', serviceName, drainTimeout: 10_000, snsSqs: snsSqs() },
        topic,
        extras: { queueName: topic, visibilityTimeout: 60 },
        handledFile,
        startedFile,
        delayMs: 3000,
      });
      await child.ready;
      const publisher = await startTestApp({ transport: 'sns-sqs', serviceName, snsSqs: snsSqs() }, [], { logger, listen: false });
      apps.push(publisher);
      await lastValueFrom(publisher.get(MessagingClient).emit(topic, { n: 7 }), { defaultValue: undefined });
      await waitFor(() => readNumbers(startedFile).includes(7), { timeoutMs: 20_000, intervalMs: 5, what: 'the handler to start' });
      const termAt = Date.now();
      child.process.kill('SIGTERM');
      const exit = await child.exited;
      const stopMs = Date.now() - termAt;
      process.stderr.write(`[shutdown ${_emulator}] busy: exit ${stopMs} ms after SIGTERM (3 s handler)\n`);
      expect(exitedCleanly(exit)).toBe(true);
      expect(readNumbers(handledFile)).toEqual([7]);
      expect(stopMs).toBeGreaterThanOrEqual(2500); // the handler finished: the stop waited for it
      expect(stopMs).toBeLessThan(WAIT_TIME_SECONDS * 1000 + 1000);
      // deleted: neither visible nor in flight, and the dead-letter queue is empty
      expect(await queueCounts(topic)).toBe(0);
      expect(await queueCounts(`${topic}-dlq`)).toBe(0);
    }, 60_000);

    it('an idle consumer exits within what is left of its long poll plus 1 s of SIGTERM', async () => {
      const topic = uniqueName('f-shut-idle');
      const child = spawn({
        module: { transport: 'sns-sqs', serviceName: uniqueName('svc'), snsSqs: snsSqs() },
        topic,
        extras: { queueName: topic },
        handledFile: scratchFile(`${topic}.handled`),
      });
      await child.ready;
      const termAt = Date.now();
      child.process.kill('SIGTERM');
      const exit = await child.exited;
      const stopMs = Date.now() - termAt;
      process.stderr.write(`[shutdown ${_emulator}] idle: exit ${stopMs} ms after SIGTERM\n`);
      expect(exitedCleanly(exit)).toBe(true);
      expect(stopMs).toBeLessThan(WAIT_TIME_SECONDS * 1000 + 1000);
    }, 60_000);
  },
);
