import type { LoggerService } from '@nestjs/common';
import type { MessagingModuleOptions, ResolvedMessagingOptions, TransportName } from '../messaging.options.js';
import type { OptionalPackage } from '../optional-package.js';
import type { MessagingTopology } from '../topology/topology.types.js';
import type { AdminBackend } from './admin-backend.js';
import type { Broker, QueuePlan } from './broker.js';

/** What queueNaming 'tomodachi' hashes into a generated queue name. */
export interface TomodachiNameInput {
  /** The @EventPattern topic, without topicPrefix. */
  topic: string;
  queueNamePrefix: string;
  competing: boolean;
  fifo: boolean;
  /** The handler method's name; known whenever `competing` is false. */
  funcName?: string;
  serviceUuid: string;
}

/** How a transport names queues, as far as the transport-neutral planner needs to know. */
export interface QueueNameRules {
  /** The longest queue name the planner generates, the library's `-dlq` included, before the broker adds its own suffixes. */
  readonly generatedNameMax: number;
  /** tomodachi's generated queue name (queueNaming 'tomodachi'), without any suffix the broker adds itself (`.fifo`). */
  tomodachiQueueName(input: TomodachiNameInput): string;
  /** The dead-letter queue the library names for a queue (deadLetterQueueName: `<queue>-dlq`, where the transport's names allow it). */
  deadLetterQueueName(queue: string): string;
  /** Whether an existing queue of this name is FIFO (a queue-only handler's plan). */
  isFifoQueueName(name: string): boolean;
}

/** The transport's parts of a span (OpenTelemetry messaging conventions). */
export interface TransportTracing {
  /** `messaging.system`. */
  readonly system: string;
  /** The span attribute that carries a delivery's topic as the broker routed it, where the conventions name one. */
  readonly deliveryTopicAttribute?: string;
}

/** What the transport-neutral planner needs to know about a transport. */
export type QueuePlanRules = Pick<TransportDefinition, 'queueNames' | 'defaultConcurrency'>;

/** An admin backend and the translation of its broker's errors into the admin errors the HTTP API answers with. */
export interface AdminBackendParts {
  backend: AdminBackend;
  translateError(operation: string, error: unknown): unknown;
}

/**
 * Everything the transport-neutral core knows about one transport; lib/transport/load-transport.ts picks one by name.
 * A definition module itself needs none of the transport's optional packages: `createBroker` and `createAdminBackend`
 * load them, after the caller checked `packages`.
 */
export interface TransportDefinition {
  readonly name: TransportName;
  /** The optional peer packages its broker and admin backend need. */
  readonly packages: readonly OptionalPackage[];
  readonly queueNames: QueueNameRules;
  /**
   * The handlers running at once per queue when a handler sets no `concurrency`: SNS+SQS the module's `concurrency`,
   * AMQP `amqp.prefetch`.
   */
  defaultConcurrency(options: ResolvedMessagingOptions): number;
  readonly tracing: TransportTracing;
  createBroker(options: ResolvedMessagingOptions, logger: LoggerService): Promise<Broker>;
  createAdminBackend(options: ResolvedMessagingOptions, broker: Broker): Promise<AdminBackendParts>;
  /** The topology of the queue plans, with the broker's name checks, for describeTopology() and IaC. No I/O. */
  describeTopology(plans: readonly QueuePlan[], options: ResolvedMessagingOptions): MessagingTopology;
  /** The connection options of the standalone admin server, from its environment variables. */
  connectionOptionsFromEnv(env: Record<string, string | undefined>): Partial<MessagingModuleOptions>;
}
