import { QUEUE_NAME_MAX, TOPIC_NAME_MAX } from '../sns-sqs/naming.js';
import { AdminInvalidArgumentError } from './admin.errors.js';

const SQS_NAME = /^[A-Za-z0-9_-]+$/;
const AMQP_NAME_MAX_BYTES = 255;

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

/** A queue or exchange name RabbitMQ accepts (not empty, at most 255 bytes, not `amq.*`). */
export function checkAmqpName(name: unknown, argument: string): asserts name is string {
  checkNonEmpty(name, argument);
  if (Buffer.byteLength(name) > AMQP_NAME_MAX_BYTES)
    throw new AdminInvalidArgumentError(argument, `AMQP names are at most ${AMQP_NAME_MAX_BYTES} bytes`, name);
  if (name.startsWith('amq.')) throw new AdminInvalidArgumentError(argument, 'RabbitMQ reserves names starting with "amq."', name);
}

export function checkNonEmpty(value: unknown, argument: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw new AdminInvalidArgumentError(argument, 'must be a non-empty string', value);
}
