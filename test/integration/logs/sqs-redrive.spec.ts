import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../../lib/index.js';
import { startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsOptions } from '../../support/fauxqs.js';
import { fauxqsSuite } from '../../support/fauxqs-suite.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/**
 * Issue 21: a queue-only handler's queue is dead-lettered by its owner's RedrivePolicy, not by the library: the
 * library keeps retrying and SQS moves the message at the receive after the last allowed one. The last failed attempt
 * is the one ERROR saying so, naming the queue, the dead-letter queue and the reason; the attempts before are WARNs.
 */
describe.each(SNS_SQS_EMULATORS)("dead-lettering by an existing queue's RedrivePolicy in the log (%s)", (_emulator, start) => {
  const suite = fauxqsSuite(start);

  async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await suite.fauxqs.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    suite.queues.push(QueueUrl!);
    const { Attributes } = await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  }

  it('attempt 1: a WARN "of 2"; attempt 2: one ERROR "SQS moves it to <dlq>", and SQS does', async () => {
    const name = uniqueName('owned-elsewhere');
    const deadLetter = await createQueue(`${name}-dead`);
    await createQueue(name, { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetter.arn, maxReceiveCount: 2 }) });
    const logger = new CaptureLogger();
    const topic = uniqueName('invoice');
    const app = await startTestApp(
      fauxqsOptions(suite.fauxqs, { serviceName: uniqueName('svc'), retryBackoff: 0.1 }),
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queue: name },
            handle: () => {
              throw new Error('invoice service down');
            },
          },
        ]),
      ],
      { logger },
    );
    suite.apps.push(app);
    expect(logger.lines.filter((l) => l.startsWith('LOG') && l.includes(`existing queue ${name} looked up`))).toEqual([
      expect.stringContaining(`its RedrivePolicy moves a message to ${name}-dead after 2 receives`),
    ]);
    await lastValueFrom(app.get(MessagingClient).sendToQueue(name, { id: 'i-1' }), { defaultValue: undefined });

    const moved = await waitFor(
      async () =>
        (await suite.fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetter.url, WaitTimeSeconds: 1 }))).Messages?.length,
      { what: 'SQS to move the message to the dead-letter queue', timeoutMs: 30_000 },
    );
    expect(moved).toBe(1);
    const about = logger.lines.filter((l) => l.includes(`in ${name} `));
    expect(about.filter((l) => l.startsWith('WARN'))).toEqual([expect.stringContaining('failed on attempt 1 of 2; retried in')]);
    const errors = about.filter((l) => l.startsWith('ERROR'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`failed its last attempt (2 of 2): SQS moves it to ${name}-dead at its next receive`);
    expect(errors[0]).toContain('invoice service down');
  }, 45_000);
});
