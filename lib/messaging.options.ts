import type { EnvelopeSetting, ProtoClass } from './envelopes/message-envelope.js';
import { defaultsOf } from './options/option-record.js';
import { OPTIONS } from './options/option-records.js';

export type TransportName = 'sns-sqs' | 'amqp';

/**
 * What startup does with topics, queues, subscriptions and bindings: `create` them (and set differing attributes),
 * `verify` them with read calls only (failing with a list of every difference), or nothing at all (`off`: only
 * look up URLs/ARNs; the infrastructure is owned elsewhere, e.g. CloudFormation or Terraform).
 */
export type ProvisioningMode = 'create' | 'verify' | 'off';

/** Generated queue names: `readable` (service--topic) or exactly as tomodachi computes them (sha256 of the topic). */
export type QueueNaming = 'readable' | 'tomodachi';

/** RabbitMQ queue type of the queues the AMQP transport declares: `classic` or replicated `quorum` (RabbitMQ 3.10+). */
export type AmqpQueueType = 'classic' | 'quorum';

/** SQS FIFO queue DeduplicationScope. */
export type FifoDeduplicationScope = 'queue' | 'messageGroup';
/** SQS FIFO queue FifoThroughputLimit. */
export type FifoThroughputLimit = 'perQueue' | 'perMessageGroupId';

/** undefined/null: leave the attribute as it is; '' or false: disable encryption; a string: the key id or alias. */
export type KmsKeySetting = string | false | null | undefined;

/** Static AWS credentials, as the AWS SDK takes them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** A function the AWS SDK calls for (fresh) credentials, such as one from @aws-sdk/credential-providers. */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface SnsSqsOptions {
  /** Unset means the AWS SDK's own resolution: AWS_REGION, then the profile (AWS_PROFILE, ~/.aws/config). */
  region?: string;
  /** An emulator or LocalStack endpoint; unset means real AWS. */
  endpoint?: string;
  /** Unset means the AWS SDK default provider chain. */
  credentials?: AwsCredentials | AwsCredentialsProvider;
  snsKmsMasterKeyId?: KmsKeySetting;
  sqsKmsMasterKeyId?: KmsKeySetting;
  /** Seconds (60-86400) SQS may reuse a data key; only applied together with an sqsKmsMasterKeyId string. */
  sqsKmsDataKeyReusePeriod?: number;
  /** Seconds of long polling for ReceiveMessage (0-20, default 20). */
  waitTimeSeconds?: number;
  /**
   * AWS SDK max attempts per call (default 3, the SDK's standard retry strategy). When they all fail with throttling or
   * a 5xx, an emit / sendToQueue gets two more rounds of maxAttempts attempts, after 0.5-1 s and 2-4 s (the SDK's own
   * backoff for a 5xx is tens of milliseconds), then rejects with a PublishError saying what to change.
   */
  maxAttempts?: number;
  /** Milliseconds to establish a TCP (and TLS) connection to SNS/SQS, per attempt (default 3000). */
  connectTimeout?: number;
  /**
   * Milliseconds an SNS/SQS request may wait for its response, per attempt (default 5000); a ReceiveMessage long poll
   * gets waitTimeSeconds on top. A call gives up after maxAttempts attempts: at most about
   * maxAttempts × (connectTimeout + requestTimeout) plus the SDK's retry delays.
   */
  requestTimeout?: number;
  /**
   * Milliseconds after which a `competing: false` queue whose process is gone (killed, crashed) counts as an orphan:
   * the next startup of the same service deletes it, its subscriptions and its empty dead-letter queue. A live process
   * renews its queues' tag every quarter of this. Default 3600000; 0 turns the sweep and the renewal off.
   */
  perProcessQueueExpires?: number;
  /**
   * Tags set on every topic and queue this library creates (dead-letter queues included), and kept in sync on an
   * existing one like the other attributes (tags it did not set are left alone). At most 50; keys 1-128 and values
   * 0-256 characters, not starting with `aws:`.
   */
  tags?: Record<string, string>;
  /**
   * S3 claim check for bodies over the SNS/SQS size limit, in the AWS extended clients' format (needs
   * @aws-sdk/client-s3). Unset: such a body fails the emit with MessageTooLargeError. Incoming S3 pointers are
   * resolved only when this is set.
   */
  largePayload?: LargePayloadOptions;
  /**
   * ContentBasedDeduplication of the FIFO topics and FIFO queues this library creates or checks (a subscription's
   * `contentBasedDeduplication` overrides it for its queue). true also sends a FIFO emit without a deduplicationId
   * without one (SNS deduplicates by a hash of the body) and gives a FIFO sendToQueue without one the SHA-256 of its
   * envelope; false or unset: each such message gets a random deduplication id. Unset leaves the attribute of existing
   * topics and queues as it is.
   */
  contentBasedDeduplication?: boolean;
  /**
   * Milliseconds between listings of the SNS topics that subscribe topics created after startup to the wildcard
   * patterns (`@EventPattern('order.*')`) matching them. Off by default (wildcards are resolved at startup only);
   * needs provisioning 'create'.
   */
  wildcardRescanMs?: number;
}

/** `snsSqs.largePayload`: where bodies over the threshold go, and what happens to them once handled. */
export interface LargePayloadOptions {
  /** The S3 bucket (it must exist; producers need s3:PutObject, consumers s3:GetObject, and s3:DeleteObject to delete). */
  bucket: string;
  /** A body (with its attributes) over this many bytes is stored in S3 (default 262144, the SNS/SQS limit; 0: every body). */
  thresholdBytes?: number;
  /** Prepended to the S3 key (a UUID), e.g. 'messages/'. Letters, digits, '/', '_', '-' and '.'; default ''. */
  keyPrefix?: string;
  /**
   * Delete the S3 object once a handler resolved (default false). Leave it off when one topic feeds several queues:
   * they share the object.
   */
  deleteAfterHandled?: boolean;
  /** Path-style S3 URLs (bucket in the path); default true when snsSqs.endpoint is set (emulators), else false. */
  forcePathStyle?: boolean;
}

export interface AmqpOptions {
  url?: string;
  /** Default exchange for publishing and subscriptions (default amq.topic). */
  exchange?: string;
  /** Unacknowledged deliveries per consumer channel (default 100). */
  prefetch?: number;
  /** Heartbeat interval in seconds (default 30). */
  heartbeat?: number;
  /** Milliseconds an emit may wait for a connection and the broker's confirm before it fails (default 10000). */
  publishTimeout?: number;
  /**
   * Milliseconds an unused competing queue lives (x-expires); 0 declares none. Off by default; with
   * `queueNaming: 'tomodachi'` 86400000, what tomodachi declares (its default `queue_ttl`, 86400 s), so that its
   * queues are taken over in place (RabbitMQ refuses a declaration whose arguments differ from the queue's).
   */
  queueExpires?: number;
  /** Milliseconds startup (topology, consumers) waits for a connection before it fails with BrokerConnectionError (default 10000). */
  connectTimeout?: number;
  /**
   * Milliseconds a `competing: false` queue, its -retry queue and its -dlq live once their process is gone (x-expires;
   * the live process keeps renewing them). Default 3600000.
   */
  perProcessQueueExpires?: number;
  /** First and longest delay in milliseconds between reconnect attempts (defaults 500 and 30000). */
  reconnectDelay?: { initial?: number; max?: number };
  /**
   * The RabbitMQ management HTTP API, with credentials (e.g. http://guest:guest@127.0.0.1:15672): MessagingAdminService
   * lists queues, exchanges and bindings through it (AMQP 0-9-1 cannot list). Unset: listing fails with a clear error.
   */
  managementUrl?: string;
  /**
   * Type of the competing queues this library declares, with their -retry and -dlq (default 'classic'). 'quorum' needs
   * RabbitMQ 3.10 or later; `competing: false` queues stay classic (a quorum queue cannot be auto-delete).
   */
  queueType?: AmqpQueueType;
}

/**
 * A prom-client Registry, structurally (so that these types do not need prom-client): `new Registry()` or
 * `register` from prom-client.
 */
export interface MetricsRegistry {
  registerMetric(metric: any): void;
  getSingleMetric(name: string): any;
  metrics(): Promise<string>;
}

export interface MetricsOptions {
  /** The registry the messaging_* metrics register on (default: prom-client's default registry). */
  registry?: MetricsRegistry;
  /**
   * messaging_queue_depth: when the registry is scraped, read how many messages wait in every consumed queue and its
   * dead-letter queue (one GetQueueAttributes per queue on SQS, one passive declare on AMQP). Default false.
   */
  queueDepth?: boolean;
}

export interface MessagingModuleOptions {
  /**
   * Names a further connection, beside the unnamed (default) one: handlers choose it with the `connection` extra and
   * `@InjectMessagingClient(name)` publishes through it. Set on `forRoot` / `forRootAsync` itself.
   */
  name?: string;
  transport: TransportName;
  /** Envelope "service.name" and part of generated queue names. */
  serviceName: string;
  topicPrefix?: string;
  queueNamePrefix?: string;
  /** Default envelope for publishing and consuming (JsonEnvelope). */
  envelope?: EnvelopeSetting;
  /** Milliseconds that in-flight handlers get to finish on shutdown (default 30000). */
  drainTimeout?: number;
  /**
   * Largest message data, in bytes after decompression, that is decoded and handed to a handler (default 8 MiB);
   * a bigger one goes to the dead-letter queue, so a small compressed body cannot exhaust memory.
   */
  maxDecodedBytes?: number;
  /** Handlers running at once per subscription queue (default 10). */
  concurrency?: number;
  /** Attempts before a message goes to the dead-letter queue (default 5). */
  maxReceiveCount?: number;
  /** Give every subscription a `<queue>-dlq` dead-letter queue (default true). */
  deadLetterQueue?: boolean;
  /** Base delay in seconds before a failed message is retried; doubles per attempt up to 900 (default 1). */
  retryBackoff?: number;
  /** 'create' (default), 'verify' or 'off': see ProvisioningMode. */
  provisioning?: ProvisioningMode;
  /** 'readable' (default) or 'tomodachi': how queue names are generated for handlers without a queueName. */
  queueNaming?: QueueNaming;
  snsSqs?: SnsSqsOptions;
  amqp?: AmqpOptions;
  /**
   * Prometheus metrics (MessagingMetrics, needs prom-client): true for prom-client's default registry, or
   * `{ registry }`. Default false.
   */
  metrics?: boolean | MetricsOptions;
  /**
   * OpenTelemetry spans (needs @opentelemetry/api): a PRODUCER span per emit with W3C `traceparent`/`tracestate`
   * attributes, a CONSUMER span per delivery continuing the trace. Default false.
   */
  tracing?: boolean;
}

/** The `batch` extra of an `@EventPattern` handler. */
export interface BatchOptions {
  /** Most messages per handler call (1-1000). */
  maxSize: number;
  /** Milliseconds after the first message that a batch smaller than maxSize is handled (0-60000, default 200). */
  maxWaitMs?: number;
}

/** The extras an `@EventPattern(topic, extras)` handler may carry. */
export interface SubscriptionExtras {
  /** Explicit queue name (queueNamePrefix is added); generated when absent. */
  queueName?: string;
  /** Replicas of this service share one queue (default true); false gives each process its own, deleted on shutdown. */
  competing?: boolean;
  /** SNS subscription filter policy. */
  filterPolicy?: Record<string, unknown>;
  filterPolicyScope?: 'MessageAttributes' | 'MessageBody';
  /** SQS visibility timeout in seconds (default 30). */
  visibilityTimeout?: number;
  /** Dead-letter queue name (queueNamePrefix is added), or false for none. Default `<queue>-dlq`. */
  deadLetterQueueName?: string | false;
  maxReceiveCount?: number;
  fifo?: boolean;
  /** FIFO queue ContentBasedDeduplication (default: snsSqs.contentBasedDeduplication; unset leaves it as it is). */
  contentBasedDeduplication?: boolean;
  /** FIFO queue DeduplicationScope; 'messageGroup' (with fifoThroughputLimit 'perMessageGroupId') is high-throughput FIFO. */
  deduplicationScope?: FifoDeduplicationScope;
  /** FIFO queue FifoThroughputLimit; 'perMessageGroupId' needs deduplicationScope 'messageGroup'. */
  fifoThroughputLimit?: FifoThroughputLimit;
  envelope?: EnvelopeSetting;
  protoClass?: ProtoClass;
  concurrency?: number;
  /** AMQP exchange for this subscription (default: the module's amqp.exchange). */
  exchange?: string;
  /** The connection (`MessagingModule.forRoot({ name })`) this handler consumes through; unset: the default one. */
  connection?: string;
  /**
   * Subscribe to this SNS topic of another account or region (`arn:aws:sns:<region>:<account>:<name>`) instead of
   * topicPrefix + pattern. The queue is created in the handler's connection; the topic is never created or changed,
   * so its owner must allow `sns:Subscribe` (see the README). The pattern still names the handler.
   */
  topicArn?: string;
  /**
   * A batch handler: called with an array of up to `maxSize` payloads, once `maxSize` messages are waiting or
   * `maxWaitMs` after the first; `@Ctx()` gives a MessagingBatchContext. Each message is settled on its own.
   */
  batch?: BatchOptions;
  /**
   * Consume this existing queue instead of subscribing: a name (queueNamePrefix is added), an SQS queue URL or an SQS
   * queue ARN (AMQP: a name). No topic, subscription or binding is created and none of the queue's attributes is
   * changed; bodies may be SNS notifications, tomodachi `sqs_send_message` bodies or bare envelopes. Excludes the
   * extras that would shape the queue (queueName, competing, filterPolicy, visibilityTimeout, dead-lettering, fifo,
   * exchange).
   */
  queue?: string;
}

/**
 * The default of every module option that has one, from the option records (lib/options/option-records.ts). The
 * resolved options' type follows from it: an option with a default here is required after resolution; a default for
 * an option that does not exist fails to compile.
 */
export const DEFAULTS = {
  ...defaultsOf(OPTIONS, 'module', 'both'),
  snsSqs: defaultsOf(OPTIONS.snsSqs.section, 'module'),
  amqp: {
    ...defaultsOf(OPTIONS.amqp.section, 'module'),
    reconnectDelay: defaultsOf(OPTIONS.amqp.section.reconnectDelay.section, 'module'),
  },
} as const satisfies DefaultsFor<MessagingModuleOptions>;

/**
 * The defaults `queueNaming: 'tomodachi'` changes, over DEFAULTS: the queue arguments tomodachi (0.28) declares, so
 * that a tomodachi service's queues are taken over in place and tomodachi can still declare the library's.
 */
export const TOMODACHI_NAMING_DEFAULTS = {
  amqp: { queueExpires: OPTIONS.amqp.section.queueExpires.tomodachiDefault },
} as const satisfies DefaultsFor<MessagingModuleOptions>;

/** The defaults of `snsSqs.largePayload` (set or unset as a whole, so not part of DEFAULTS). */
export const LARGE_PAYLOAD_DEFAULTS = defaultsOf(
  OPTIONS.snsSqs.section.largePayload.section,
  'module',
) satisfies DefaultsFor<LargePayloadOptions>;

/** The defaults of the `batch` extra. */
export const BATCH_DEFAULTS = defaultsOf(OPTIONS.batch.section, 'subscription') satisfies DefaultsFor<BatchOptions>;

/** The defaults of the `@EventPattern` extras that do not fall back to a module option. */
export const SUBSCRIPTION_DEFAULTS = defaultsOf(OPTIONS, 'subscription') satisfies DefaultsFor<SubscriptionExtras>;

/** The options after resolveModuleOptions: every option with a default is set. */
export type ResolvedMessagingOptions = WithDefaults<MessagingModuleOptions, typeof DEFAULTS>;
export type ResolvedSnsSqsOptions = ResolvedMessagingOptions['snsSqs'];
export type ResolvedAmqpOptions = ResolvedMessagingOptions['amqp'];

type DefaultsFor<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends object ? DefaultsFor<NonNullable<T[K]>> | NonNullable<T[K]> : NonNullable<T[K]>;
};

type WithDefaults<T, D> = Omit<T, keyof D> & {
  -readonly [K in keyof D & keyof T]-?: D[K] extends Record<string, unknown>
    ? WithDefaults<NonNullable<T[K]>, D[K]>
    : Exclude<T[K], undefined>;
};
