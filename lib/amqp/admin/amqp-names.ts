import { checkNonEmpty } from '../../transport/admin-names.js';
import { AdminInvalidArgumentError } from '../../transport/admin.errors.js';
import { MAX_NAME_BYTES } from '../rabbitmq-limits.js';

/** A queue or exchange name RabbitMQ accepts (not empty, at most 255 bytes, not `amq.*`). */
export function checkAmqpName(name: unknown, argument: string): asserts name is string {
  checkNonEmpty(name, argument);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw new AdminInvalidArgumentError(argument, `AMQP names are at most ${MAX_NAME_BYTES} bytes`, name);
  if (name.startsWith('amq.')) throw new AdminInvalidArgumentError(argument, 'RabbitMQ reserves names starting with "amq."', name);
}
