import { checkNonEmpty } from '../../transport/admin-names.js';
import { AdminInvalidArgumentError } from '../../transport/admin.errors.js';
import { QUEUE_NAME_MAX, TOPIC_NAME_MAX } from '../naming.js';

const SQS_NAME = /^[A-Za-z0-9_-]+$/;

/** A queue name SQS accepts: 1-80 characters of [A-Za-z0-9_-], `.fifo` at the end only for a FIFO queue. */
export function checkSqsQueueName(name: unknown, argument = 'queue name'): asserts name is string {
  checkNonEmpty(name, argument);
  const fifo = name.endsWith('.fifo');
  if (!SQS_NAME.test(fifo ? name.slice(0, -'.fifo'.length) : name))
    throw new AdminInvalidArgumentError(argument, "SQS queue names may contain only A-Z, a-z, 0-9, _ and - (and end in '.fifo')", name);
  if (name.length > QUEUE_NAME_MAX)
    throw new AdminInvalidArgumentError(argument, `SQS queue names are at most ${QUEUE_NAME_MAX} characters; it has ${name.length}`, name);
}

/** An SNS topic name (after topicPrefix and encoding) within the SNS length limit. */
export function checkSnsTopicName(encoded: string, topic: string): void {
  if (encoded.length > TOPIC_NAME_MAX)
    throw new AdminInvalidArgumentError(
      'topic',
      `SNS topic names (topicPrefix + topic, encoded) are at most ${TOPIC_NAME_MAX} characters; "${encoded}" has ${encoded.length}`,
      topic,
    );
}
