import { DeleteTopicCommand, ListTopicsCommand } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { startFauxqs, type Fauxqs } from './fauxqs.js';
import { startMoto } from './moto.js';

/** Starts an SNS+SQS emulator of its own (stop() ends it). */
export type StartEmulator = () => Promise<Fauxqs>;

/**
 * The SNS+SQS emulators a spec can run on, for `describe.each(SNS_SQS_EMULATORS)('... (%s)', (_name, start) => ...)`:
 * fauxqs in-process, and moto's server (closer to AWS in places: several messages of one FIFO group per receive, empty
 * attribute values refused, a cancelled long poll strands the message it takes).
 */
export const SNS_SQS_EMULATORS: ReadonlyArray<readonly [name: string, start: StartEmulator]> = [
  ['fauxqs', startFauxqs],
  ['moto', startMoto],
];

/** Deletes the queues named `<prefix>…` and the topics whose ARN contains `prefix` that a spec created on `emulator`. */
export async function deleteSnsSqsResources(emulator: Pick<Fauxqs, 'sns' | 'sqs'>, prefix: string): Promise<void> {
  const { QueueUrls = [] } = await emulator.sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix }));
  for (const QueueUrl of QueueUrls) await emulator.sqs.send(new DeleteQueueCommand({ QueueUrl }));
  const { Topics = [] } = await emulator.sns.send(new ListTopicsCommand({}));
  for (const { TopicArn } of Topics) if (TopicArn?.includes(prefix)) await emulator.sns.send(new DeleteTopicCommand({ TopicArn }));
}
