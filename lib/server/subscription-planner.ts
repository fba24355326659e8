import type { MessageHandler } from '@nestjs/microservices';
import { MessagingOptionsError } from '../errors.js';
import type { EnvelopeSetting, ProtoClass } from '../envelopes/message-envelope.js';
import {
  BATCH_DEFAULTS,
  SUBSCRIPTION_DEFAULTS,
  type BatchOptions,
  type ResolvedMessagingOptions,
  type SubscriptionExtras,
} from '../messaging.options.js';
import { DEAD_LETTER_SUFFIX, encodeName, fitName } from '../naming.js';
import { checkExtrasHonoured, checkSubscriptionExtras } from '../options/resolve-options.js';
import { queueOnlyPlan } from './queue-only-plan.js';
import type { QueuePlan } from '../transport/broker.js';
import type { QueueNameRules, QueuePlanRules } from '../transport/transport-definition.js';

export interface HandlerRoute {
  pattern: string;
  handler: MessageHandler;
  envelope?: EnvelopeSetting;
  protoClass?: ProtoClass;
  /** A batch handler's `batch` extra, maxWaitMs filled in. */
  batch?: Required<BatchOptions>;
}

interface PlannedQueue {
  plan: QueuePlan;
  routes: HandlerRoute[];
}

interface QueueInPlanning extends PlannedQueue {
  /** A handler of the queue set `concurrency` itself (a batch handler's maxSize then does not raise it). */
  concurrencySet: boolean;
}

/** The handler method's name for a pattern (tomodachi's `func_name` in non-competing queue names). */
export type HandlerNameOf = (pattern: string) => string | undefined;

/** Groups the @EventPattern handlers into queues, applying defaults and checking that handlers sharing a queue agree. */
export function planQueues(
  handlers: Map<string, MessageHandler>,
  options: ResolvedMessagingOptions,
  rules: QueuePlanRules,
  instanceId: string,
  handlerNameOf: HandlerNameOf = () => undefined,
): PlannedQueue[] {
  const queues = new Map<string, QueueInPlanning>();
  for (const [pattern, handler] of handlers) {
    if (!handler.isEventHandler) {
      throw new MessagingOptionsError(
        `@MessagePattern('${pattern}')`,
        'request-response handlers are not supported by the messaging transport; use @EventPattern',
      );
    }
    const extras = checkSubscriptionExtras(handler.extras ?? {}, pattern);
    checkExtrasHonoured(extras as Record<string, unknown>, pattern, options.transport);
    const plan = queuePlanFor(pattern, extras, options, rules, instanceId, handlerNameOf);
    const route: HandlerRoute = { pattern, handler, envelope: extras.envelope, protoClass: extras.protoClass };
    if (extras.batch) route.batch = { maxSize: extras.batch.maxSize, maxWaitMs: extras.batch.maxWaitMs ?? BATCH_DEFAULTS.maxWaitMs };
    const existing = queues.get(plan.name);
    if (existing) {
      assertCompatible(existing.plan, plan, pattern);
      existing.plan.subscriptions.push(...plan.subscriptions);
      existing.routes.push(route);
      existing.concurrencySet ||= extras.concurrency !== undefined;
    } else {
      queues.set(plan.name, { plan, routes: [route], concurrencySet: extras.concurrency !== undefined });
    }
  }
  for (const queue of queues.values()) fitBatches(queue);
  return [...queues.values()].map(({ plan, routes }) => ({ plan, routes }));
}

/**
 * A batch fills only when the consumer holds maxSize deliveries at once (SQS: concurrency; AMQP: the channel's
 * prefetch): a queue with a batch handler runs at least that many, unless a handler set a lower concurrency itself,
 * which fails naming both.
 */
function fitBatches({ plan, routes, concurrencySet }: QueueInPlanning): void {
  for (const route of routes) {
    const maxSize = route.batch?.maxSize;
    if (maxSize === undefined || plan.concurrency >= maxSize) continue;
    if (concurrencySet) {
      throw new MessagingOptionsError(
        `@EventPattern('${route.pattern}').batch.maxSize`,
        `is over the concurrency of queue "${plan.name}" (${plan.concurrency}), so a batch could never fill: set concurrency to at least ${maxSize}, or leave it unset (a batch handler's queue then runs maxSize deliveries at once)`,
        maxSize,
      );
    }
    plan.concurrency = maxSize;
  }
}

function queuePlanFor(
  pattern: string,
  extras: SubscriptionExtras,
  options: ResolvedMessagingOptions,
  rules: QueuePlanRules,
  instanceId: string,
  handlerNameOf: HandlerNameOf,
): QueuePlan {
  if (extras.queue !== undefined) return queueOnlyPlan(pattern, { ...extras, queue: extras.queue }, options, rules);
  const names = rules.queueNames;
  const competing = extras.competing ?? SUBSCRIPTION_DEFAULTS.competing;
  const fifo = extras.fifo ?? SUBSCRIPTION_DEFAULTS.fifo;
  if (!competing && options.provisioning !== 'create') {
    throw new MessagingOptionsError(
      `@EventPattern('${pattern}').competing`,
      `competing: false needs a queue unique to this process, which only provisioning 'create' can make (provisioning is '${options.provisioning}'); use a competing queue or provisioning 'create'`,
      false,
    );
  }
  const name =
    extras.queueName !== undefined
      ? `${options.queueNamePrefix}${extras.queueName}`
      : generatedQueueName({ pattern, competing, fifo, options, names, instanceId, handlerName: handlerNameOf(pattern) });
  const deadLetterName = extras.deadLetterQueueName;
  const deadLetter =
    deadLetterName === false || (deadLetterName === undefined && !options.deadLetterQueue)
      ? null
      : { name: deadLetterName !== undefined ? `${options.queueNamePrefix}${deadLetterName}` : names.deadLetterQueueName(name) };
  return {
    name,
    competing,
    fifo,
    visibilityTimeout: extras.visibilityTimeout ?? SUBSCRIPTION_DEFAULTS.visibilityTimeout,
    deadLetter,
    maxReceiveCount: extras.maxReceiveCount ?? options.maxReceiveCount,
    retryBackoff: options.retryBackoff,
    concurrency: extras.concurrency ?? rules.defaultConcurrency(options),
    ...(fifo ? fifoSettings(extras) : {}),
    subscriptions: [
      {
        pattern,
        filterPolicy: extras.filterPolicy,
        filterPolicyScope: extras.filterPolicyScope,
        exchange: extras.exchange,
        ...(extras.topicArn !== undefined ? { topicArn: extras.topicArn } : {}),
      },
    ],
  };
}

interface NameInput {
  pattern: string;
  competing: boolean;
  fifo: boolean;
  options: ResolvedMessagingOptions;
  names: QueueNameRules;
  instanceId: string;
  handlerName?: string;
}

/** The queue name for a handler without `queueName`, as `options.queueNaming` says. */
function generatedQueueName(input: NameInput): string {
  return input.options.queueNaming === 'tomodachi' ? tomodachiQueueName(input) : readableQueueName(input);
}

/**
 * tomodachi's name: queueNamePrefix + sha256 of the encoded topic (plus handler name and instance uuid when not
 * competing), as the transport computes it.
 */
function tomodachiQueueName({ pattern, competing, fifo, options, names, instanceId, handlerName }: NameInput): string {
  if (!competing && handlerName === undefined) {
    throw new MessagingOptionsError(
      `@EventPattern('${pattern}').competing`,
      "queueNaming 'tomodachi' names a competing: false queue after its handler method, which is not known for this handler; give it a queueName",
    );
  }
  return names.tomodachiQueueName({
    topic: pattern,
    queueNamePrefix: options.queueNamePrefix,
    competing,
    fifo,
    funcName: handlerName,
    serviceUuid: instanceId,
  });
}

/** Readable and stable for a competing queue (service + topic); unique to this process otherwise. */
function readableQueueName({ pattern, competing, options, names, instanceId }: NameInput): string {
  const readable = `${options.queueNamePrefix}${encodeName(options.serviceName)}--${encodeName(pattern)}`;
  const max = names.generatedNameMax - DEAD_LETTER_SUFFIX.length;
  if (competing) return fitName(readable, max);
  const suffix = `--${instanceId.replace(/-/g, '').slice(0, 12)}`;
  return `${fitName(readable, max - suffix.length)}${suffix}`;
}

/** The FIFO queue settings the extras set (absent ones stay absent: the queue's attribute is left as it is). */
function fifoSettings(
  extras: SubscriptionExtras,
): Pick<QueuePlan, 'contentBasedDeduplication' | 'deduplicationScope' | 'fifoThroughputLimit'> {
  const { contentBasedDeduplication, deduplicationScope, fifoThroughputLimit } = extras;
  return Object.fromEntries(
    Object.entries({ contentBasedDeduplication, deduplicationScope, fifoThroughputLimit }).filter(([, v]) => v !== undefined),
  );
}

const QUEUE_LEVEL_SETTINGS = [
  'existingQueue',
  'competing',
  'fifo',
  'visibilityTimeout',
  'maxReceiveCount',
  'concurrency',
  'contentBasedDeduplication',
  'deduplicationScope',
  'fifoThroughputLimit',
] as const;

function assertCompatible(existing: QueuePlan, added: QueuePlan, pattern: string): void {
  for (const key of QUEUE_LEVEL_SETTINGS) {
    if (existing[key] !== added[key]) {
      throw new MessagingOptionsError(
        `@EventPattern('${pattern}').${key}`,
        `handlers sharing queue "${existing.name}" must agree on ${key} (another handler uses ${JSON.stringify(existing[key])}); set the same value on each or use separate queues`,
        added[key],
      );
    }
  }
  if (existing.deadLetter?.name !== added.deadLetter?.name) {
    throw new MessagingOptionsError(
      `@EventPattern('${pattern}').deadLetterQueueName`,
      `handlers sharing queue "${existing.name}" must use the same dead-letter queue`,
      added.deadLetter?.name ?? false,
    );
  }
  const topicArn = added.subscriptions[0].topicArn;
  const fed = existing.subscriptions.find((s) => topicArn !== undefined && s.topicArn === topicArn);
  if (fed) {
    throw new MessagingOptionsError(
      `@EventPattern('${pattern}').topicArn`,
      `already feeds queue "${existing.name}" through @EventPattern('${fed.pattern}'): a topic named by ARN routes to one handler per queue; use separate queues`,
      topicArn,
    );
  }
  if (existing.subscriptions.some((s) => s.pattern === pattern && s.exchange === added.subscriptions[0].exchange)) {
    throw new MessagingOptionsError(`@EventPattern('${pattern}')`, `is subscribed twice on queue "${existing.name}"`);
  }
}
