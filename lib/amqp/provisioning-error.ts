import { ProvisioningError } from '../errors.js';
import { describeError } from '../error-text.js';
import { TopologyStepError } from './topology.js';

/** What to check for the broker's refusal codes (AMQP 0-9-1 reply codes, as RabbitMQ words them). */
function hintFor(detail: string): string | undefined {
  if (/PRECONDITION_FAILED|\b406\b/.test(detail)) {
    return 'A queue or exchange of that name exists with other arguments (durable, auto-delete, x-expires, dead-letter settings): delete it, or choose another name';
  }
  if (/ACCESS_REFUSED|\b403\b/.test(detail)) {
    return 'The AMQP user lacks permission for this name on the vhost: check its configure/write/read patterns (rabbitmqctl list_permissions -p <vhost>)';
  }
  if (/NOT_FOUND|\b404\b/.test(detail)) return 'The exchange does not exist: declare it, or bind on an existing exchange';
  return undefined;
}

/** The declaration the broker refused as a ProvisioningError: URL (password redacted), operation, reason, what to check. */
export function provisioningError(safeUrl: string, error: unknown, channelError?: Error): ProvisioningError {
  const operation = error instanceof TopologyStepError ? error.operation : 'declare topology';
  const cause = error instanceof TopologyStepError ? error.cause : error;
  const detail = channelError?.message ?? describeError(cause);
  return new ProvisioningError('amqp', safeUrl, operation, detail, hintFor(detail), { cause: channelError ?? cause });
}
