import { checkNonEmpty } from '../../transport/admin-names.js';
import { AdminInvalidArgumentError } from '../../transport/admin.errors.js';

const AMQP_NAME_MAX_BYTES = 255;

/** A queue or exchange name RabbitMQ accepts (not empty, at most 255 bytes, not `amq.*`). */
export function checkAmqpName(name: unknown, argument: string): asserts name is string {
  checkNonEmpty(name, argument);
  if (Buffer.byteLength(name) > AMQP_NAME_MAX_BYTES)
    throw new AdminInvalidArgumentError(argument, `AMQP names are at most ${AMQP_NAME_MAX_BYTES} bytes`, name);
  if (name.startsWith('amq.')) throw new AdminInvalidArgumentError(argument, 'RabbitMQ reserves names starting with "amq."', name);
}
