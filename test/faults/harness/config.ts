import type { MessagingModuleOptions, SubscriptionExtras } from '../../../lib/index.js';

/** What the parent hands the child consumer (JSON in the FAULTS_CONFIG environment variable). */
export interface HarnessConfig {
  module: MessagingModuleOptions;
  topic: string;
  extras: SubscriptionExtras;
  /** Each handled message number is appended here (one per line) synchronously before the handler returns. */
  handledFile: string;
  /** Each handled message number and its receive count are appended here ("<n> <count>", one per line) when set. */
  receiveCountFile?: string;
  /** Each started message number is appended here when the handler starts. */
  startedFile?: string;
  /** Milliseconds every handler takes. */
  delayMs?: number;
  /** Message numbers divisible by slowEvery take slowMs instead. */
  slowEvery?: number;
  slowMs?: number;
}
