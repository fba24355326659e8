import type { AmqpOptions, BatchOptions, LargePayloadOptions, MetricsOptions, SnsSqsOptions } from '../messaging.options.js';
import { checkConnectionChoice, checkConnectionName } from './connection-names.js';
import { checkTopicArn } from '../naming/topic-arn.js';
import { extraSectionRecords, sectionRecords, topLevelRecords } from './option-record.js';
import { boolean, custom, integer, nonEmptyString, number, object, oneOf, string, zeroOr } from './rules.js';
import {
  checkAmqpUrl,
  checkBucket,
  checkCredentials,
  checkDeadLetterQueueName,
  checkEndpoint,
  checkEnvelope,
  checkKeyPrefix,
  checkKms,
  checkManagementUrl,
  checkMetrics,
  checkMetricsRegistry,
  checkProtoClass,
  checkTags,
  checkTransportSection,
} from './value-checks.js';

/**
 * Every option, one record each: where it is set, its default, its rule, the transports that read it and its README
 * row. The key lists, the defaults (and so the resolved options' type), the startup checks, the admin API's ranges
 * and the README's options table all follow from these records. To add an option, add its record here (and its
 * property to the interface in messaging.options.ts: the compiler insists) and write the code that reads it.
 */

const BOTH = ['sns-sqs', 'amqp'] as const;
const SNS_SQS = ['sns-sqs'] as const;
const AMQP = ['amqp'] as const;

const NO_FIFO_ON_AMQP = 'FIFO queues are an SNS/SQS feature; an AMQP queue keeps its order without it: remove it';
const USE_PREFETCH =
  'AMQP bounds the handlers running at once per queue by amqp.prefetch: set that instead, or the concurrency extra per handler';
const MAX_TIMER_MS = 2 ** 31 - 1;

function fifoOnly(extras: Record<string, unknown>): string | undefined {
  return extras.fifo === true ? undefined : 'is a FIFO queue setting: set fifo: true as well, or remove it';
}

const BATCH_OPTIONS = extraSectionRecords<BatchOptions>()({
  maxSize: {
    scope: 'subscription',
    required: true,
    rule: integer(1, 1000),
    transports: BOTH,
    doc: {
      default: '—',
      meaning:
        'most messages per handler call; the queue runs at least this many deliveries at once (`concurrency` is raised to it, AMQP: the prefetch) so that a batch can fill',
    },
  },
  maxWaitMs: {
    scope: 'subscription',
    default: 200,
    rule: integer(0, 60_000),
    transports: BOTH,
    doc: { unit: 'ms', meaning: 'how long after the first message of a batch the handler is called with fewer than `maxSize`' },
  },
});

const METRICS_OPTIONS = sectionRecords<MetricsOptions>()({
  registry: {
    scope: 'module',
    rule: custom(checkMetricsRegistry),
    transports: BOTH,
    doc: { default: "prom-client's default", meaning: 'the prom-client `Registry` the `messaging_*` metrics register on' },
  },
  queueDepth: {
    scope: 'module',
    rule: boolean,
    transports: BOTH,
    doc: {
      default: '`false`',
      meaning:
        '`messaging_queue_depth`: at each scrape, the messages waiting in every consumed queue and its dead-letter queue (one `GetQueueAttributes` per queue on SQS, one passive declare on AMQP)',
    },
  },
});

const LARGE_PAYLOAD_OPTIONS = sectionRecords<LargePayloadOptions>()({
  bucket: {
    scope: 'module',
    required: true,
    rule: custom(checkBucket),
    transports: SNS_SQS,
    doc: { default: '—', meaning: 'the S3 bucket (it must exist; producers need `s3:PutObject`, consumers `s3:GetObject`)' },
  },
  thresholdBytes: {
    scope: 'module',
    default: 262_144,
    rule: integer(0, 262_144),
    transports: SNS_SQS,
    doc: { meaning: 'a body with its attributes over this many bytes goes to S3 (the SNS/SQS limit; `0`: every body)' },
  },
  keyPrefix: {
    scope: 'module',
    default: '',
    rule: custom(checkKeyPrefix),
    transports: SNS_SQS,
    doc: { meaning: "prepended to the S3 key (a UUID), e.g. `'messages/'`" },
  },
  deleteAfterHandled: {
    scope: 'module',
    default: false,
    rule: boolean,
    transports: SNS_SQS,
    doc: { meaning: 'delete the S3 object once a handler resolved; leave it off when one topic feeds several queues (they share it)' },
  },
  forcePathStyle: {
    scope: 'module',
    rule: boolean,
    transports: SNS_SQS,
    doc: { default: '`true` with `snsSqs.endpoint`', meaning: 'path-style S3 URLs (bucket in the path), as emulators need' },
  },
});

const SNS_SQS_OPTIONS = sectionRecords<SnsSqsOptions>()({
  region: {
    scope: 'module',
    rule: nonEmptyString,
    transports: SNS_SQS,
    doc: { default: 'SDK chain', meaning: 'unset: `AWS_REGION`, then the AWS profile, as the SDK resolves it' },
  },
  endpoint: {
    scope: 'module',
    rule: custom(checkEndpoint),
    transports: SNS_SQS,
    doc: { default: 'AWS', meaning: 'an emulator or LocalStack URL' },
  },
  credentials: {
    scope: 'module',
    rule: custom(checkCredentials),
    transports: SNS_SQS,
    doc: {
      default: 'SDK chain',
      meaning: "`{ accessKeyId, secretAccessKey, sessionToken? }` or a provider function; unset: the SDK's default provider chain",
    },
  },
  snsKmsMasterKeyId: {
    scope: 'module',
    rule: custom(checkKms),
    transports: SNS_SQS,
    doc: { default: 'untouched', meaning: "topics' KMS key: `undefined`/`null`: leave as is; `''`/`false`: disable; `'alias/x'`: set" },
  },
  sqsKmsMasterKeyId: {
    scope: 'module',
    rule: custom(checkKms),
    transports: SNS_SQS,
    doc: { default: 'untouched', meaning: "queues' KMS key: `undefined`/`null`: leave as is; `''`/`false`: disable; `'alias/x'`: set" },
  },
  sqsKmsDataKeyReusePeriod: {
    scope: 'module',
    rule: integer(60, 86_400),
    transports: SNS_SQS,
    doc: { default: '—', meaning: 'seconds, with an `sqsKmsMasterKeyId`' },
  },
  waitTimeSeconds: {
    scope: 'module',
    default: 20,
    rule: integer(0, 20),
    transports: SNS_SQS,
    doc: {
      meaning:
        'SQS long polling; also how long an idle stop can take (see [Shutdown](#shutdown-on-snssqs)): shorter means faster stops and more empty receives',
    },
  },
  maxAttempts: {
    scope: 'module',
    default: 3,
    rule: integer(1, 20),
    transports: SNS_SQS,
    doc: { meaning: "attempts per AWS call (the SDK's standard retry strategy)" },
  },
  connectTimeout: {
    scope: 'module',
    default: 3000,
    rule: integer(1, 600_000),
    transports: SNS_SQS,
    doc: { unit: 'ms', meaning: 'TCP/TLS connect timeout per attempt' },
  },
  requestTimeout: {
    scope: 'module',
    default: 5000,
    rule: integer(1, 600_000),
    transports: SNS_SQS,
    doc: {
      unit: 'ms',
      meaning:
        'response timeout per attempt (a long poll gets `waitTimeSeconds` on top); a call gives up after about `maxAttempts × (connectTimeout + requestTimeout)`',
    },
  },
  perProcessQueueExpires: {
    scope: 'module',
    default: 3_600_000,
    rule: zeroOr(integer(1000, MAX_TIMER_MS)),
    transports: SNS_SQS,
    doc: {
      unit: 'ms',
      meaning:
        "a `competing: false` queue not renewed for this long is an orphan (its process died); the service's next startup deletes it with its subscriptions and empty DLQ; `0` turns the sweep off",
    },
  },
  tags: {
    scope: 'module',
    rule: custom(checkTags),
    transports: SNS_SQS,
    doc: {
      default: '—',
      meaning:
        '`Record<string, string>` set on every topic and queue the library creates (DLQs included) and set again when missing or changed; tags you add yourself are left alone (at most 50; keys not starting with `aws:` or `nestjs-messaging:`)',
    },
  },
  largePayload: {
    scope: 'module',
    rule: object("an object such as { bucket: 'my-bucket' }"),
    section: LARGE_PAYLOAD_OPTIONS,
    transports: SNS_SQS,
    doc: {
      default: 'off',
      meaning:
        "S3 claim check in the AWS extended clients' pointer format for bodies over the threshold (needs `@aws-sdk/client-s3`); see [large payloads](#snssqs-large-payloads-attributes-fifo-wildcard-topics)",
    },
  },
  contentBasedDeduplication: {
    scope: 'module',
    rule: boolean,
    transports: SNS_SQS,
    doc: {
      default: '`false`',
      meaning: 'FIFO topics and queues deduplicate by content; a FIFO emit without `deduplicationId` leaves the id to SNS',
    },
  },
  wildcardRescanMs: {
    scope: 'module',
    rule: integer(1000, MAX_TIMER_MS),
    alongside: (_snsSqs, module) =>
      (module.provisioning ?? 'create') === 'create'
        ? undefined
        : `subscribes topics created later, which only provisioning 'create' may do (provisioning is '${module.provisioning}'); remove it or use provisioning 'create'`,
    transports: SNS_SQS,
    doc: {
      default: 'off',
      meaning: "how often wildcard patterns (`order.*`) look for new matching topics (`provisioning: 'create'` only)",
    },
  },
});

const RECONNECT_DELAY_OPTIONS = sectionRecords<NonNullable<AmqpOptions['reconnectDelay']>>()({
  initial: {
    scope: 'module',
    default: 500,
    rule: integer(1, 3_600_000),
    transports: AMQP,
    doc: { unit: 'ms', meaning: 'first delay between reconnect attempts, doubled per attempt' },
  },
  max: {
    scope: 'module',
    default: 30_000,
    rule: integer(1, 3_600_000),
    transports: AMQP,
    doc: { unit: 'ms', meaning: 'longest delay between reconnect attempts' },
  },
});

const AMQP_OPTIONS = sectionRecords<AmqpOptions>()({
  url: {
    scope: 'module',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    rule: custom(checkAmqpUrl),
    transports: AMQP,
    doc: { meaning: 'broker URL (the password is redacted in logs and errors)' },
  },
  exchange: {
    scope: 'module',
    default: 'amq.topic',
    rule: nonEmptyString,
    transports: AMQP,
    doc: { meaning: 'default exchange for publishing and subscriptions' },
  },
  prefetch: {
    scope: 'module',
    default: 100,
    rule: integer(1, 65_535),
    transports: AMQP,
    doc: {
      meaning:
        'unacknowledged deliveries per consumer channel (one per queue): the handlers running at once per queue, for handlers without a `concurrency` extra',
    },
  },
  heartbeat: {
    scope: 'module',
    default: 30,
    rule: integer(0, 3600),
    transports: AMQP,
    doc: { unit: 's', meaning: 'connection heartbeat' },
  },
  publishTimeout: {
    scope: 'module',
    default: 10_000,
    rule: integer(1, 3_600_000),
    transports: AMQP,
    doc: { unit: 'ms', meaning: "how long an emit waits for a connection and the broker's confirm" },
  },
  queueExpires: {
    scope: 'module',
    // tomodachi's `options.amqp.queue_ttl` default, 86400 s, declared as x-expires in milliseconds
    tomodachiDefault: 86_400 * 1000,
    rule: integer(0, MAX_TIMER_MS),
    transports: AMQP,
    doc: {
      default: "off; `86400000` with `queueNaming: 'tomodachi'`",
      meaning:
        "ms an unused competing queue lives (`x-expires`; `0`: none). With `queueNaming: 'tomodachi'` the default is what tomodachi declares (its `queue_ttl`, 86400 s), so its queues are taken over in place and tomodachi can still declare the library's; a queue that exists with another `x-expires` fails startup with a `ProvisioningError` naming the argument and this option",
    },
  },
  connectTimeout: {
    scope: 'module',
    default: 10_000,
    rule: integer(1, 3_600_000),
    transports: AMQP,
    doc: {
      unit: 'ms',
      meaning:
        "how long startup waits for a connection before `BrokerConnectionError` (also each attempt's socket timeout); a failed start stops every timer and socket",
    },
  },
  perProcessQueueExpires: {
    scope: 'module',
    default: 3_600_000,
    rule: integer(1000, MAX_TIMER_MS),
    transports: AMQP,
    doc: {
      unit: 'ms',
      meaning:
        '`x-expires` of a `competing: false` queue, its `-retry` and `-dlq`: they vanish this long after their process is gone (the live process renews them)',
    },
  },
  reconnectDelay: {
    scope: 'module',
    rule: object('{ initial?, max? } in milliseconds'),
    section: RECONNECT_DELAY_OPTIONS,
    transports: AMQP,
    doc: { default: '—', meaning: 'backoff between reconnect attempts (below)' },
  },
  managementUrl: {
    scope: 'module',
    rule: custom(checkManagementUrl),
    transports: AMQP,
    doc: {
      default: '—',
      meaning:
        "RabbitMQ management API (e.g. `http://guest:guest@127.0.0.1:15672`), for the admin module's listings of queues, exchanges and bindings",
    },
  },
  queueType: {
    scope: 'module',
    default: 'classic',
    rule: oneOf(['classic', 'quorum']),
    transports: AMQP,
    doc: {
      meaning:
        "`'quorum'`: competing queues, their `-retry` and `-dlq` are replicated quorum queues (RabbitMQ 3.10+); see [AMQP queue types, exchanges](#amqp-queue-types-exchanges)",
    },
  },
});

export const OPTIONS = topLevelRecords({
  name: {
    scope: 'module',
    rule: custom(checkConnectionName),
    transports: BOTH,
    doc: {
      default: 'the default connection',
      meaning:
        'a further connection beside the unnamed one, with its own options, broker, client, provisioning and consumers: handlers choose it with the `connection` extra, `@InjectMessagingClient(name)` publishes through it; see [Several connections](#several-connections)',
    },
  },
  transport: {
    scope: 'module',
    required: true,
    rule: oneOf(['sns-sqs', 'amqp']),
    transports: BOTH,
    doc: { default: '—', meaning: "`'sns-sqs'` or `'amqp'`" },
  },
  serviceName: {
    scope: 'module',
    required: true,
    rule: nonEmptyString,
    transports: BOTH,
    doc: { default: '—', meaning: 'envelope `service.name`; part of generated queue names' },
  },
  topicPrefix: {
    scope: 'module',
    default: '',
    rule: string,
    transports: BOTH,
    doc: { meaning: 'prepended to every topic (AMQP: routing key)' },
  },
  queueNamePrefix: {
    scope: 'module',
    default: '',
    rule: string,
    transports: BOTH,
    doc: { meaning: 'prepended to every queue name' },
  },
  envelope: {
    scope: 'both',
    rule: custom(checkEnvelope),
    transports: BOTH,
    doc: {
      default: "`JsonEnvelope`; extra: the module's",
      meaning:
        '`JsonEnvelope`, `RawEnvelope`, `ProtobufEnvelope` or your own `MessageEnvelope` class (resolved through DI); as an extra, for that handler',
    },
  },
  drainTimeout: {
    scope: 'module',
    default: 30_000,
    rule: integer(0, 3_600_000),
    transports: BOTH,
    doc: {
      unit: 'ms',
      meaning:
        'how long shutdown waits for in-flight handlers; unfinished messages are then released for redelivery (on SQS keep it above `snsSqs.waitTimeSeconds`, see [Shutdown](#shutdown-on-snssqs))',
    },
  },
  maxDecodedBytes: {
    scope: 'module',
    default: 8 * 1024 * 1024,
    rule: integer(1024, 1024 * 1024 * 1024),
    transports: BOTH,
    doc: {
      default: '`8388608` (8 MiB)',
      meaning:
        'largest message data, after decompression, handed to a handler; a bigger one (say a gzip bomb) goes to the dead-letter queue',
    },
  },
  concurrency: {
    scope: 'both',
    default: 10,
    rule: integer(1, 10_000),
    transports: BOTH,
    moduleTransports: SNS_SQS,
    instead: { amqp: USE_PREFETCH },
    doc: {
      default: "`10`; extra: the module's (AMQP: `amqp.prefetch`)",
      meaning: "handlers running at once per queue (AMQP: the prefetch of the queue's own consumer channel)",
    },
  },
  maxReceiveCount: {
    scope: 'both',
    default: 5,
    rule: integer(1, 1000),
    transports: BOTH,
    notWithQueue: true,
    doc: { default: "`5`; extra: the module's", meaning: 'attempts before a message goes to the dead-letter queue' },
  },
  deadLetterQueue: {
    scope: 'module',
    default: true,
    rule: boolean,
    transports: BOTH,
    doc: { meaning: 'give every queue a `<queue>-dlq`' },
  },
  retryBackoff: {
    scope: 'module',
    default: 1,
    rule: number(0, 900),
    transports: BOTH,
    doc: { unit: 's', meaning: 'first retry delay, doubled per attempt (max 900 s)' },
  },
  provisioning: {
    scope: 'module',
    default: 'create',
    rule: oneOf(['create', 'verify', 'off']),
    transports: BOTH,
    doc: {
      meaning:
        "`'create'`: create topics, queues, DLQs, queue policies, subscriptions and AMQP exchanges/bindings, setting only attributes that differ; `'verify'`: read calls only (AMQP: passive declares), and startup fails with one `TopologyVerificationError` listing every missing resource or differing attribute with what was expected and what was found; `'off'`: trust your infrastructure, only look up URLs/ARNs. Use `verify`/`off` when CloudFormation, CDK or Terraform owns the resources (`competing: false` handlers need `create`; on AMQP, `off` still checks passively that each queue, its `-retry` and `-dlq` exist, since retries and dead letters are published to them, and fails with a `TopologyVerificationError` listing the missing ones)",
    },
  },
  queueNaming: {
    scope: 'module',
    default: 'readable',
    rule: oneOf(['readable', 'tomodachi']),
    transports: BOTH,
    doc: {
      meaning:
        "generated queue names: `'readable'` is `<queueNamePrefix><service>--<topic>`; `'tomodachi'` is exactly what tomodachi computes (`queueNamePrefix` + sha256 of the encoded topic or routing key, `.fifo` for FIFO; for `competing: false` the hash also covers the handler's method name and the instance uuid), so a Nest service can take over a tomodachi service's queues in place (64 characters: keep `queueNamePrefix` short enough for `-dlq`/`.fifo` within SQS's 80)",
    },
  },
  metrics: {
    scope: 'module',
    default: false,
    rule: custom(checkMetrics),
    section: METRICS_OPTIONS,
    transports: BOTH,
    doc: { meaning: "`true` (prom-client's default registry) or `{ registry, queueDepth }`: see [Metrics](#metrics)" },
  },
  tracing: {
    scope: 'module',
    default: false,
    rule: boolean,
    transports: BOTH,
    doc: { meaning: 'OpenTelemetry spans and W3C trace context on every message: see [Tracing](#tracing)' },
  },
  queueName: {
    scope: 'subscription',
    rule: nonEmptyString,
    transports: BOTH,
    notWithQueue: true,
    doc: {
      default: 'generated',
      meaning: 'explicit queue name (`queueNamePrefix` is added); handlers with the same `queueName` share a queue and are routed by topic',
    },
  },
  competing: {
    scope: 'subscription',
    default: true,
    rule: boolean,
    transports: BOTH,
    notWithQueue: 'unless default',
    doc: { meaning: 'replicas share one queue; `false`: a queue per process, removed on shutdown' },
  },
  filterPolicy: {
    scope: 'subscription',
    rule: object('an object such as { currency: ["EUR"] }'),
    transports: BOTH,
    notWithQueue: true,
    doc: { default: 'none', meaning: 'SNS subscription filter policy (AMQP: evaluated on headers with SNS semantics)' },
  },
  filterPolicyScope: {
    scope: 'subscription',
    rule: oneOf(['MessageAttributes', 'MessageBody'], "must be 'MessageAttributes' or 'MessageBody'"),
    transports: BOTH,
    notWithQueue: true,
    doc: { default: '`MessageAttributes`', meaning: "what the filter policy matches; AMQP has headers only (`'MessageAttributes'`)" },
  },
  visibilityTimeout: {
    scope: 'subscription',
    default: 30,
    rule: integer(0, 43_200),
    transports: SNS_SQS,
    instead: {
      amqp: 'an AMQP message stays with its consumer until it is acked, so there is no visibility timeout to set: remove it',
    },
    notWithQueue: true,
    doc: { unit: 's', meaning: 'SQS visibility timeout (a heartbeat extends it for longer handlers)' },
  },
  deadLetterQueueName: {
    scope: 'subscription',
    rule: custom(checkDeadLetterQueueName),
    transports: BOTH,
    notWithQueue: true,
    doc: { default: '`<queue>-dlq` (SNS+SQS FIFO: `<queue>-dlq.fifo`)', meaning: 'or `false` for none' },
  },
  fifo: {
    scope: 'subscription',
    default: false,
    rule: boolean,
    transports: SNS_SQS,
    instead: { amqp: NO_FIFO_ON_AMQP },
    notWithQueue: true,
    doc: { meaning: 'SNS/SQS FIFO topic and queue (`.fifo`); ordered per message group' },
  },
  contentBasedDeduplication: {
    scope: 'subscription',
    rule: boolean,
    alongside: fifoOnly,
    transports: SNS_SQS,
    instead: { amqp: NO_FIFO_ON_AMQP },
    notWithQueue: true,
    doc: { default: '`snsSqs.contentBasedDeduplication`', meaning: "the FIFO queue's `ContentBasedDeduplication` (needs `fifo: true`)" },
  },
  deduplicationScope: {
    scope: 'subscription',
    rule: oneOf(['queue', 'messageGroup']),
    alongside: fifoOnly,
    transports: SNS_SQS,
    instead: { amqp: NO_FIFO_ON_AMQP },
    notWithQueue: true,
    doc: { default: 'untouched', meaning: "the FIFO queue's `DeduplicationScope` (needs `fifo: true`)" },
  },
  fifoThroughputLimit: {
    scope: 'subscription',
    rule: oneOf(['perQueue', 'perMessageGroupId']),
    alongside: (extras) =>
      fifoOnly(extras) ??
      (extras.fifoThroughputLimit === 'perMessageGroupId' && extras.deduplicationScope !== 'messageGroup'
        ? "'perMessageGroupId' needs deduplicationScope: 'messageGroup' (an SQS rule; both together make a high-throughput FIFO queue)"
        : undefined),
    transports: SNS_SQS,
    instead: { amqp: NO_FIFO_ON_AMQP },
    notWithQueue: true,
    doc: {
      default: 'untouched',
      meaning:
        "the FIFO queue's `FifoThroughputLimit`; `'perMessageGroupId'` (with `deduplicationScope: 'messageGroup'`) is high-throughput FIFO",
    },
  },
  protoClass: {
    scope: 'subscription',
    rule: custom(checkProtoClass),
    transports: BOTH,
    doc: { default: '—', meaning: 'the protobuf class for `ProtobufEnvelope`' },
  },
  exchange: {
    scope: 'subscription',
    rule: nonEmptyString,
    transports: AMQP,
    instead: { 'sns-sqs': 'SNS+SQS has no exchanges: a subscription is to the topic topicPrefix + pattern; remove it' },
    notWithQueue: true,
    doc: { default: '`amqp.exchange`', meaning: 'AMQP exchange of this subscription' },
  },
  connection: {
    scope: 'subscription',
    rule: custom(checkConnectionChoice),
    transports: BOTH,
    doc: {
      default: "`'default'`",
      meaning:
        'the connection (`MessagingModule.forRoot({ name })`) this handler consumes through; one that the app does not have fails at startup',
    },
  },
  topicArn: {
    scope: 'subscription',
    rule: custom(checkTopicArn),
    alongside: (extras) => {
      const fifoTopic = String(extras.topicArn).endsWith('.fifo');
      if (fifoTopic !== (extras.fifo === true))
        return fifoTopic
          ? 'names a FIFO topic (.fifo): set fifo: true as well, so that the queue is a FIFO queue'
          : 'names a standard topic: SNS does not deliver a standard topic to a FIFO queue; remove fifo: true';
      if (extras.competing === false)
        return "cannot be used with competing: false: the orphan sweep could not remove a dead process's subscription to another account's topic; use a competing queue";
      return undefined;
    },
    transports: SNS_SQS,
    instead: { amqp: 'AMQP has no topic ARNs: bind on an exchange of the connection (exchange), or add a connection to that broker' },
    notWithQueue: true,
    doc: {
      default: '—',
      meaning:
        "subscribe the handler's queue to this SNS topic of another account or region instead of topicPrefix + pattern: the queue is made in the handler's connection, its policy lets only this topic send, the topic itself is never created or changed; see [Cross-account and cross-region topics](#cross-account-and-cross-region-topics)",
    },
  },
  batch: {
    scope: 'subscription',
    rule: object('{ maxSize, maxWaitMs? } such as { maxSize: 50, maxWaitMs: 200 }'),
    section: BATCH_OPTIONS,
    transports: BOTH,
    doc: {
      default: '—',
      meaning:
        'a batch handler: it gets an array of payloads and a `MessagingBatchContext`, each message settled on its own; see [Batch handlers](#batch-handlers)',
    },
  },
  queue: {
    scope: 'subscription',
    rule: nonEmptyString,
    transports: BOTH,
    doc: {
      default: '—',
      meaning:
        'consume this existing queue as it is (a name, or on SQS a queue URL or ARN): nothing is created or changed; see [Consuming an existing queue](#consuming-an-existing-queue)',
    },
  },
  snsSqs: {
    scope: 'module',
    rule: custom(checkTransportSection),
    section: SNS_SQS_OPTIONS,
    transportSection: true,
    transports: SNS_SQS,
    doc: { default: '—', meaning: "the SNS+SQS settings below, read with `transport: 'sns-sqs'` only" },
  },
  amqp: {
    scope: 'module',
    rule: custom(checkTransportSection),
    section: AMQP_OPTIONS,
    transportSection: true,
    transports: AMQP,
    doc: { default: '—', meaning: "the AMQP settings below, read with `transport: 'amqp'` only" },
  },
});
