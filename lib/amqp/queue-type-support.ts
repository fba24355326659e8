import { ProvisioningError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { AmqpModel } from './connection.js';

/**
 * amqp.queueType 'quorum' needs RabbitMQ 3.10+: older quorum queues ignore per-message TTLs, so a retried message
 * would wait in `<queue>-retry` for ever, and they cannot dead-letter at least once. Brokers that are not RabbitMQ,
 * or do not say their version, are trusted.
 */
export function checkQueueTypeSupport(model: AmqpModel, options: ResolvedMessagingOptions, safeUrl: string): void {
  if (options.amqp.queueType !== 'quorum') return;
  const server = model.connection.serverProperties;
  if (server?.product !== 'RabbitMQ' || supportsQuorumRetries(server.version)) return;
  throw new ProvisioningError(
    'amqp',
    safeUrl,
    'amqp.queueType quorum',
    `RabbitMQ ${server.version} has no per-message TTL or at-least-once dead-lettering in quorum queues, which retries through <queue>-retry need`,
    "Upgrade RabbitMQ to 3.10 or later, or use amqp.queueType 'classic'",
  );
}

/** False for a RabbitMQ version before 3.10; true for 3.10+ and for a version it cannot read. */
export function supportsQuorumRetries(version: string | undefined): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return true;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 3 || (major === 3 && minor >= 10);
}
