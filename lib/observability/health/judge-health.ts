import type { BrokerHealth, DeadLetterDepth } from '../../transport/broker.js';

export interface HealthCheckOptions {
  /** Down when a dead-letter queue holds more than this many messages (unset: dead-letter queues are not read). */
  deadLetterThreshold?: number;
  /** Down when an SQS queue's ReceiveMessage calls failed this many times in a row (default 3). */
  receiveFailureThreshold?: number;
}

const DEFAULT_RECEIVE_FAILURE_THRESHOLD = 3;

/** The verdict on what the broker reported: a reason when down, and details for the health response. */
export function judgeHealth(
  health: BrokerHealth,
  depths: readonly DeadLetterDepth[] | undefined,
  check: HealthCheckOptions,
): { reason?: string; details: Record<string, unknown> } {
  if (!health.connected) return { reason: health.problem ?? 'the broker connection is down', details: {} };
  const reasons: string[] = [];
  const detached = health.consumers.filter((c) => !c.attached).map((c) => c.queue);
  if (detached.length > 0) reasons.push(`no consumer attached on ${detached.join(', ')}`);
  const receiveLimit = check.receiveFailureThreshold ?? DEFAULT_RECEIVE_FAILURE_THRESHOLD;
  for (const c of health.consumers) {
    if ((c.receiveFailures ?? 0) >= receiveLimit)
      reasons.push(`receiving from ${c.queue} failed ${c.receiveFailures} times in a row${c.lastError ? ` (last: ${c.lastError})` : ''}`);
  }
  const details: Record<string, unknown> = {};
  if (depths && check.deadLetterThreshold !== undefined) {
    details.deadLetters = Object.fromEntries(depths.map((d) => [d.deadLetterQueue, d.messages]));
    for (const d of depths) {
      if (d.messages > check.deadLetterThreshold)
        reasons.push(`dead-letter queue ${d.deadLetterQueue} holds ${d.messages} messages (more than ${check.deadLetterThreshold})`);
    }
  }
  return { reason: reasons.length > 0 ? reasons.join('; ') : undefined, details };
}
