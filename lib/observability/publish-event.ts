/**
 * One emit's result, on MessagingClient.published$: `success` once the broker accepted it, `failure` when it
 * refused it or it could not be encoded, `unknown` when the broker's answer never came (PublishOutcomeUnknownError).
 */
export interface PublishEvent {
  topic: string;
  outcome: 'success' | 'failure' | 'unknown';
  durationMs: number;
  error?: unknown;
}

/** Told of each emit's result with plain arguments (no event object per emit): MessagingMetrics listens this way. */
export interface PublishListener {
  published(topic: string, outcome: PublishEvent['outcome'], durationMs: number): void;
}
