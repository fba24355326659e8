import { MessagingError } from '../errors.js';

/** One resource that `provisioning: 'verify'` (or the look-ups of `'off'`) found missing or different. */
export interface TopologyMismatch {
  /** What kind of resource: `queue`, `dead-letter queue`, `topic`, `subscription`, `exchange`, ... */
  kind: string;
  /** Its name (queue, topic) or a description (`topic → queue`). */
  resource: string;
  /** The attribute that differs; absent when the resource itself is missing. */
  attribute?: string;
  expected: string;
  found: string;
}

/**
 * Startup refused: the topology the handlers need is not what the broker has (`provisioning: 'verify'` or `'off'`).
 * The message lists every mismatch, one per line, with what was expected and what was found.
 */
export class TopologyVerificationError extends MessagingError {
  constructor(
    readonly transport: 'sns-sqs' | 'amqp',
    readonly endpoint: string,
    readonly mismatches: readonly TopologyMismatch[],
    mode: 'verify' | 'off',
  ) {
    super(
      `${transport} topology at ${endpoint} does not match what the handlers need (provisioning '${mode}'; nothing was changed), ${mismatches.length} problem(s):\n` +
        mismatches.map((m) => `  - ${describeMismatch(m)}`).join('\n') +
        "\nCreate or fix these resources in your infrastructure code (CloudFormation, CDK, Terraform), or start once with provisioning 'create' to let the library create them.",
    );
  }
}

function describeMismatch(m: TopologyMismatch): string {
  if (m.attribute === undefined) return `${m.kind} ${m.resource}: missing (expected ${m.expected}; found ${m.found})`;
  return `${m.kind} ${m.resource}: ${m.attribute} differs (expected ${m.expected}; found ${m.found})`;
}
