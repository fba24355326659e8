import { ListSubscriptionsByTopicCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import type { HarnessConfig } from './harness/config.js';
import { encodeName } from '../../lib/naming.js';
import { controllerFor } from '../support/controllers.js';
import { startTestApp } from '../support/apps.js';
import { SNS_SQS_EMULATORS } from '../support/emulators.js';
import { uniqueName, waitFor } from '../support/wait-for.js';
import { fauxqsWithChildren } from './support/fauxqs-children.js';
import { scratchFile } from './support/paths.js';

/**
 * Issue 9, finding 12: a `competing: false` process killed with SIGKILL leaves its queue and subscription behind. The
 * queue is tagged as this service's per-process queue and renewed while its process lives; the next startup of the
 * same service removes it once it is older than snsSqs.perProcessQueueExpires, and touches nothing else.
 */
describe.each(SNS_SQS_EMULATORS)('faults: SNS+SQS orphaned per-process queues after SIGKILL (%s)', (_emulator, start) => {
  const suite = fauxqsWithChildren(start);
  const { logger, apps } = suite;

  const expires = 2000;
  const snsSqs = () => suite.snsSqs({ waitTimeSeconds: 1, perProcessQueueExpires: expires });
  const queuesStartingWith = async (prefix: string) =>
    (await suite.fauxqs.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }))).QueueUrls ?? [];
  const exists = (name: string) =>
    suite.fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: name })).then(
      () => true,
      () => false,
    );
  const nameOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
  const arnOf = async (url: string) =>
    (await suite.fauxqs.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const subscribers = async (topic: string) => {
    const { Topics = [] } = await suite.fauxqs.sns.send(new ListTopicsCommand({}));
    const topicArn = Topics.map((t) => t.TopicArn!).find((a) => a.endsWith(`:${encodeName(topic)}`))!;
    return ((await suite.fauxqs.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }))).Subscriptions ?? []).map(
      (s) => s.Endpoint,
    );
  };
  /** Starts a per-process consumer of `topic` for `serviceName` in a child, kills it with SIGKILL, returns its queue URL. */
  const orphan = async (serviceName: string, topic: string) => {
    const before = new Set(await queuesStartingWith(`${encodeName(serviceName)}--`));
    const config: HarnessConfig = {
      module: { transport: 'sns-sqs', serviceName, snsSqs: snsSqs() },
      topic,
      extras: { competing: false },
      handledFile: scratchFile(`${uniqueName('orphan')}.handled`),
    };
    const child = suite.spawn(config);
    await child.ready;
    child.process.kill('SIGKILL');
    await child.exited;
    const created = (await queuesStartingWith(`${encodeName(serviceName)}--`)).filter((u) => !before.has(u) && !u.endsWith('-dlq'));
    expect(created).toHaveLength(1);
    return created[0];
  };

  it('the next startup of the service removes its orphan (queue, subscription, empty DLQ) and nothing else', async () => {
    const serviceName = uniqueName('svc');
    const otherService = uniqueName('svc-other');
    const topic = uniqueName('f-orphan');
    const competingTopic = uniqueName('f-orphan-shared');

    const orphanUrl = await orphan(serviceName, topic);
    const orphanArn = await arnOf(orphanUrl);
    const othersOrphanUrl = await orphan(otherService, topic);
    const { Tags = {} } = await suite.fauxqs.sqs.send(new ListQueueTagsCommand({ QueueUrl: orphanUrl }));
    expect(Tags['nestjs-messaging:per-process-queue-of']).toBe(encodeName(serviceName));
    expect(await subscribers(topic)).toContain(orphanArn);

    // a live replica of the same service, with a per-process queue of its own and a competing queue under the same name prefix
    const live = await startTestApp(
      { transport: 'sns-sqs', serviceName, snsSqs: snsSqs() },
      [
        controllerFor([
          { pattern: topic, extras: { competing: false }, handle: () => undefined },
          { pattern: competingTopic, handle: () => undefined },
        ]),
      ],
      { logger },
    );
    apps.push(live);
    const liveQueues = (await queuesStartingWith(`${encodeName(serviceName)}--`)).filter(
      (u) => u !== orphanUrl && !u.startsWith(`${orphanUrl}-`),
    );

    const liveCreatedBy = Date.now();
    // the orphan's last renewal, and the live replica's queue creation, are now older than perProcessQueueExpires:
    // only its renewals keep the live replica's queue
    const aliveAt = Number(Tags['nestjs-messaging:alive-at']);
    await waitFor(() => Date.now() - Math.max(aliveAt, liveCreatedBy) > expires + 250, { timeoutMs: 10_000, what: 'the orphan to expire' });
    const next = await startTestApp(
      { transport: 'sns-sqs', serviceName, snsSqs: snsSqs() },
      [controllerFor([{ pattern: topic, extras: { competing: false }, handle: () => undefined }])],
      { logger },
    );
    apps.push(next);

    const left = {
      queue: await exists(nameOf(orphanUrl)),
      dlq: await exists(`${nameOf(orphanUrl)}-dlq`),
      subscribed: (await subscribers(topic)).includes(orphanArn),
    };
    process.stderr.write(
      `[finding 12] after the next startup, the SIGKILLed process left: queue ${left.queue}, dead-letter queue ${left.dlq}, subscription ${left.subscribed}\n`,
    );
    expect(left).toEqual({ queue: false, dlq: false, subscribed: false });
    expect(logger.lines.some((l) => l.includes(`Removed orphaned per-process queue ${nameOf(orphanUrl)}`))).toBe(true);
    // untouched: the live replica's queues (per-process and competing, with their DLQs) and the other service's orphan
    for (const url of liveQueues) expect(await exists(nameOf(url))).toBe(true);
    expect(liveQueues.map(nameOf)).toEqual(expect.arrayContaining([`${encodeName(serviceName)}--${encodeName(competingTopic)}`]));
    expect(await exists(nameOf(othersOrphanUrl))).toBe(true);
  }, 60_000);
});
