import { createHash } from 'node:crypto';
import { encodeRoutingKey, escapeCharacters } from '../naming.js';

/**
 * Queue and topic names as tomodachi (0.28) computes them, so that a Nest service can take over a tomodachi
 * service's queues in place. The rules (tomodachi/transport/aws_sns_sqs.py and amqp.py):
 *
 * - SNS topic: `encode_topic(topic_prefix + topic [+ '.fifo'])`: every character outside `[A-Za-z0-9_*#-]` becomes
 *   `___<utf-8 hex>_`, except the dot of a trailing `.fifo`. The library names its topics with topicName
 *   (lib/sns-sqs/naming.ts), which equals this for every topic SNS accepts (no `*` or `#`); encode_topic itself is
 *   kept here only as the input of the queue-name hash below.
 * - SQS queue: `queue_name_prefix + sha256(encode_topic(topic))` (the topic without its prefix), or for a
 *   non-competing consumer `sha256(encode_topic(topic) + func_name + service_uuid)`; `.fifo` appended for FIFO.
 * - AMQP queue: the same, over `encode_routing_key(routing_key)` (which keeps most printable ASCII) and without
 *   `.fifo`.
 */

/** The parts of a generated name: the topic or routing key as the handler names it, without any prefix. */
interface TomodachiQueueNameInput {
  /** SNS topic / AMQP routing key, without topicPrefix. */
  topic: string;
  queueNamePrefix: string;
  competing: boolean;
  /** The handler's function (method) name; needed when `competing` is false. */
  funcName?: string;
  /** The service instance uuid; needed when `competing` is false. */
  serviceUuid?: string;
}

const SNS_KEEP = /(?!\.fifo$)([^a-zA-Z0-9_*#-])/gu;

/** tomodachi's `AWSSNSSQSTransport.encode_topic`. */
export function encodeTomodachiTopic(topic: string): string {
  return escapeCharacters(topic, SNS_KEEP);
}

/** The SQS queue name tomodachi generates for a subscription without an explicit queue name. */
export function tomodachiSqsQueueName(input: TomodachiQueueNameInput & { fifo: boolean }): string {
  const name = prefixedHash(encodeTomodachiTopic(input.topic), input);
  return input.fifo && !name.endsWith('.fifo') ? `${name}.fifo` : name;
}

/** The AMQP queue name tomodachi generates for a subscription without an explicit queue name. */
export function tomodachiAmqpQueueName(input: TomodachiQueueNameInput): string {
  return prefixedHash(encodeRoutingKey(input.topic), input);
}

function prefixedHash(encodedTopic: string, input: TomodachiQueueNameInput): string {
  let hashed = encodedTopic;
  if (!input.competing) {
    if (input.funcName === undefined || input.serviceUuid === undefined) {
      throw new TypeError('a non-competing tomodachi queue name needs the handler function name and the service instance uuid');
    }
    hashed = `${encodedTopic}${input.funcName}${input.serviceUuid}`;
  }
  return `${input.queueNamePrefix}${createHash('sha256').update(hashed, 'utf8').digest('hex')}`;
}
