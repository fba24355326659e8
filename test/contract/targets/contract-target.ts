import type { MessagingModuleOptions } from '../../../lib/index.js';

/** A message found in a dead-letter queue, as far as the broker shows it. */
export interface DeadLetter {
  /** The body as the broker holds it (SQS: the SNS notification or raw body; AMQP: the envelope or raw body). */
  body: string;
  /** The reason the transport stored with it. */
  reason: string;
  /** The envelope's `data`, when the body is a decodable envelope. */
  data?: unknown;
  /** The topic it was published on, when the broker kept it. */
  topic?: string;
}

/** One way to put a body the envelope cannot decode onto a queue, and the reason it must be dead-lettered for. */
export interface UndecodableBody {
  what: string;
  reason: RegExp;
  /** Sends it to `queue` (fed by `topic`); returns a marker the dead-lettered body must contain. */
  send(target: { queue: string; topic: string }): Promise<string>;
}

/**
 * One broker behind the port, as the contract suite drives it: module options pointing at it, and the few
 * broker-specific looks the suite needs. Queue names passed in and returned are final names (prefix included).
 */
export interface ContractTarget {
  readonly name: string;
  setUp(): Promise<void>;
  /** Removes what the suite created on a shared broker; stops an emulator. */
  tearDown(): Promise<void>;
  /** Module options for an app on this broker, with this target's queue-name prefix. */
  moduleOptions(options: Omit<MessagingModuleOptions, 'transport' | 'queueNamePrefix'>): MessagingModuleOptions;
  /** The final name of a queue given as `queueName` in @EventPattern extras. */
  queue(queueName: string): string;
  /** The queue-name prefix every app of this target gets (generated names start with it too). */
  readonly queueNamePrefix: string;
  /** Messages the broker still holds for the queue: waiting, being handled, or waiting out a retry backoff. */
  pendingMessages(queue: string): Promise<number>;
  /** Takes what is now in a dead-letter queue. */
  takeDeadLetters(queue: string): Promise<DeadLetter[]>;
  queueExists(queue: string): Promise<boolean>;
  /** Names of the queues starting with `prefix`. */
  listQueues(prefix: string): Promise<string[]>;
  /** The undecodable bodies this broker can carry, each with its dead-letter reason. */
  readonly undecodableBodies: readonly UndecodableBody[];
}
