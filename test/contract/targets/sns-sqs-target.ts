import { ListTopicsCommand, PublishCommand } from '@aws-sdk/client-sns';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { StartEmulator } from '../../support/emulators.js';
import { fauxqsOptions, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName } from '../../support/wait-for.js';
import type { ContractTarget, DeadLetter } from './contract-target.js';

/**
 * SNS+SQS on an emulator `start` brings up in setUp and tearDown stops: e.g. `snsSqsTarget('sns-sqs (fauxqs)',
 * startFauxqs)` (in-process) or `snsSqsTarget('sns-sqs (moto)', startMoto)` (moto's server, by PID).
 */
export function snsSqsTarget(name: string, start: StartEmulator): ContractTarget {
  let emulator: Fauxqs;
  const queueNamePrefix = `${uniqueName('ct')}-`;
  const queueUrl = async (queue: string) => (await emulator.sqs.send(new GetQueueUrlCommand({ QueueName: queue }))).QueueUrl!;
  const topicArn = async (topic: string) => {
    const { Topics = [] } = await emulator.sns.send(new ListTopicsCommand({}));
    return Topics.map((t) => t.TopicArn!).find((arn) => arn.endsWith(`:${topic}`))!;
  };

  return {
    name,
    queueNamePrefix,
    async setUp() {
      emulator = await start();
    },
    async tearDown() {
      await emulator?.stop();
    },
    moduleOptions: (options) => fauxqsOptions(emulator, { ...options, queueNamePrefix }),
    queue: (queueName) => `${queueNamePrefix}${queueName}`,

    async pendingMessages(queue) {
      const { Attributes = {} } = await emulator.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: await queueUrl(queue),
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      );
      return (
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
      );
    },

    async takeDeadLetters(queue) {
      const { Messages = [] } = await emulator.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: await queueUrl(queue),
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: 600,
          MessageAttributeNames: ['All'],
        }),
      );
      return Messages.map((m): DeadLetter => ({
        body: m.Body ?? '',
        reason: m.MessageAttributes?.dead_letter_reason?.StringValue ?? '',
        ...notificationParts(m.Body ?? ''),
      }));
    },

    async queueExists(queue) {
      return queueUrl(queue).then(
        () => true,
        () => false,
      );
    },

    async listQueues(prefix) {
      const { QueueUrls = [] } = await emulator.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
      return QueueUrls.map((url) => url.slice(url.lastIndexOf('/') + 1));
    },

    undecodableBodies: [
      {
        what: 'an SQS body that is not an SNS notification',
        reason: /not JSON, so not an SNS notification/,
        async send({ queue }) {
          const marker = `garbage {${uniqueName('raw')}`;
          await emulator.sqs.send(new SendMessageCommand({ QueueUrl: await queueUrl(queue), MessageBody: marker }));
          return marker;
        },
      },
      {
        what: 'an SNS message that is not an envelope',
        reason: /cannot decode message/,
        async send({ topic }) {
          const marker = `not an envelope ${uniqueName('sns')}`;
          await emulator.sns.send(new PublishCommand({ TopicArn: await topicArn(topic), Message: marker }));
          return marker;
        },
      },
    ],
  };
}

/** The topic and envelope data inside an SNS notification body, where there are any. */
function notificationParts(body: string): Pick<DeadLetter, 'data' | 'topic'> {
  try {
    const notification = JSON.parse(body) as { TopicArn?: string; Message?: string };
    const topic = notification.TopicArn?.slice(notification.TopicArn.lastIndexOf(':') + 1);
    try {
      return { topic, data: (JSON.parse(notification.Message ?? '') as { data?: unknown }).data };
    } catch {
      return { topic };
    }
  } catch {
    return {};
  }
}
