import { ProvisioningError } from '../errors.js';
import { describeError } from '../error-text.js';
import { TopologyStepError } from './declare.js';

/** What to check for the broker's refusal codes (AMQP 0-9-1 reply codes, as RabbitMQ words them). */
function hintFor(detail: string): string | undefined {
  const argument = inequivalentArgument(detail);
  if (argument?.name === 'x-queue-type') {
    return (
      `Queue "${argument.queue}" exists as a ${queueType(argument.current)} queue, but is declared as a ${queueType(argument.received)} one, ` +
      "and RabbitMQ cannot change a queue's type: set amqp.queueType to the existing queue's type, or migrate the queue " +
      '(stop its consumers, move or drain its messages, delete it) and start again so that it is declared as configured'
    );
  }
  if (argument?.name === 'x-expires') {
    const wanted = argument.current === 'none' ? '0 (no x-expires)' : argument.current;
    return (
      `Queue "${argument.queue}" exists with x-expires ${argument.current === 'none' ? 'unset' : argument.current}, but is declared with ` +
      `${argument.received === 'none' ? 'none' : argument.received}: amqp.queueExpires sets it (a competing queue's x-expires in ms; 0 for none; ` +
      `queueNaming 'tomodachi' defaults it to 86400000, what tomodachi declares), amqp.perProcessQueueExpires for a competing: false queue; ` +
      `set it to ${wanted} to use the queue as it is`
    );
  }
  if (/PRECONDITION_FAILED|\b406\b/.test(detail)) {
    return 'A queue or exchange of that name exists with other arguments (durable, auto-delete, x-expires, dead-letter settings): delete it, or choose another name';
  }
  if (/ACCESS_REFUSED|\b403\b/.test(detail)) {
    return 'The AMQP user lacks permission for this name on the vhost: check its configure/write/read patterns (rabbitmqctl list_permissions -p <vhost>)';
  }
  if (/NOT_FOUND - no queue\b/.test(detail))
    return 'The queue does not exist: create it, or correct the name (queueNamePrefix is added to it)';
  if (/NOT_FOUND|\b404\b/.test(detail)) return 'The exchange does not exist: declare it, or bind on an existing exchange';
  return undefined;
}

/**
 * RabbitMQ names one differing argument per refusal: "inequivalent arg 'x-queue-type' for queue 'q' in vhost '/':
 * received none but current is the value 'quorum' of type 'longstr'" (or "received 'classic' but current is 'quorum'").
 */
function inequivalentArgument(detail: string): { name: string; queue: string; received: string; current: string } | undefined {
  const match = /inequivalent arg '([^']+)' for queue '([^']*)' in vhost '[^']*': received (.+?) but current is (.+?)"?$/.exec(detail);
  if (!match) return undefined;
  return { name: match[1], queue: match[2], received: argumentValue(match[3]), current: argumentValue(match[4]) };
}

/** `none`, `'quorum'`, `the value '600000' of type 'signedint'` → none, quorum, 600000. */
function argumentValue(text: string): string {
  return /'([^']*)'/.exec(text)?.[1] ?? text;
}

function queueType(value: string): string {
  return value === 'none' ? 'classic (no x-queue-type)' : value;
}

/** The declaration the broker refused as a ProvisioningError: URL (password redacted), operation, reason, what to check. */
export function provisioningError(safeUrl: string, error: unknown, channelError?: Error): ProvisioningError {
  const operation = error instanceof TopologyStepError ? error.operation : 'declare topology';
  const cause = error instanceof TopologyStepError ? error.cause : error;
  const detail = channelError?.message ?? describeError(cause);
  return new ProvisioningError('amqp', safeUrl, operation, detail, hintFor(detail), { cause: channelError ?? cause });
}
