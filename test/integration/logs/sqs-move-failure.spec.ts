import { GetQueueUrlCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessagingServer } from '../../../lib/index.js';
import { emit, startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/**
 * Issue 21: when the library's own move to the dead-letter queue fails on the last attempt, the queue's RedrivePolicy
 * (same maxReceiveCount) moves the message at its next receive. That attempt is the one ERROR, saying so.
 */
describe.each(SNS_SQS_EMULATORS)('a failed move to the dead-letter queue, left to SQS, in the log (%s)', (_emulator, start) => {
  const suite = fauxqsSuite(start);

  it('one ERROR "Could not move … SQS moves it to <dlq>", no WARN for the last attempt, and SQS does move it', async () => {
    const logger = new CaptureLogger();
    const [topic, queueName] = [uniqueName('refund'), uniqueName('q')];
    const app = await startTestApp(
      fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 0.1, maxReceiveCount: 2 }),
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName },
            handle: () => {
              throw new Error('refund ledger down');
            },
          },
        ]),
      ],
      { logger },
    );
    suite.apps.push(app);
    const { QueueUrl: deadLetterUrl } = await suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: `${queueName}-dlq` }));
    // the app's own SendMessage to its dead-letter queue fails, as it would while SQS refuses it
    const sqs = app.get(MessagingServer).unwrap<{ sqs: SQSClient }>().sqs;
    const send = sqs.send.bind(sqs) as (command: unknown, options?: unknown) => Promise<unknown>;
    (sqs as unknown as { send: typeof send }).send = (command, options) =>
      command instanceof SendMessageCommand && command.input.QueueUrl === deadLetterUrl
        ? Promise.reject(new Error('SendMessage refused by the test'))
        : send(command, options);
    await emit(app, topic, { id: 'r-1' });

    const moved = await waitFor(
      async () =>
        (await suite.fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterUrl, WaitTimeSeconds: 1 }))).Messages?.length,
      { what: "SQS's redrive to move the message", timeoutMs: 30_000 },
    );
    expect(moved).toBe(1);
    const about = logger.lines.filter((l) => l.includes(queueName) && (l.startsWith('WARN') || l.startsWith('ERROR')));
    expect(about).toEqual([
      expect.stringMatching(/^WARN .* failed on attempt 1 of 2; retried in/),
      expect.stringMatching(
        new RegExp(
          `^ERROR Could not move message \\S+ of ${queueName} to ${queueName}-dlq \\(SendMessage refused by the test\\); Message .* failed its last attempt \\(2 of 2\\): SQS moves it to ${queueName}-dlq at its next receive .*refund ledger down`,
        ),
      ),
    ]);
  }, 45_000);
});
