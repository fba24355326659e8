import { MessagingOptionsError } from './errors.js';
import {
  DEFAULTS,
  TOMODACHI_NAMING_DEFAULTS,
  OPTION_NAMES,
  type AmqpOptions,
  type AmqpQueueType,
  type FifoDeduplicationScope,
  type FifoThroughputLimit,
  type LargePayloadOptions,
  type MessagingModuleOptions,
  type ProvisioningMode,
  type QueueNaming,
  type ResolvedMessagingOptions,
  type SnsSqsOptions,
  type SubscriptionExtras,
  type TransportName,
} from './messaging.options.js';

const TRANSPORTS: readonly TransportName[] = ['sns-sqs', 'amqp'];
const PROVISIONING_MODES: readonly ProvisioningMode[] = ['create', 'verify', 'off'];
const QUEUE_NAMINGS: readonly QueueNaming[] = ['readable', 'tomodachi'];
const AMQP_QUEUE_TYPES: readonly AmqpQueueType[] = ['classic', 'quorum'];
/** SQS and SNS tag limits. */
const MAX_TAGS = 50;

/** Checks module options and fills in defaults; throws MessagingOptionsError naming the option and the rule. */
export function resolveModuleOptions(options: MessagingModuleOptions): ResolvedMessagingOptions {
  if (!isPlainObject(options)) throw new MessagingOptionsError('options', 'must be an object', options);
  rejectUnknownKeys(options, OPTION_NAMES.module, '');
  if (!TRANSPORTS.includes(options.transport)) {
    throw new MessagingOptionsError('transport', `must be one of ${TRANSPORTS.map((t) => `'${t}'`).join(', ')}`, options.transport);
  }
  checkString(options.serviceName, 'serviceName', { required: true, nonEmpty: true });
  checkString(options.topicPrefix, 'topicPrefix');
  checkString(options.queueNamePrefix, 'queueNamePrefix');
  checkEnvelope(options.envelope, 'envelope');
  checkInteger(options.drainTimeout, 'drainTimeout', 0, 3_600_000);
  checkInteger(options.maxDecodedBytes, 'maxDecodedBytes', 1024, 1024 * 1024 * 1024);
  checkInteger(options.concurrency, 'concurrency', 1, 10_000);
  checkInteger(options.maxReceiveCount, 'maxReceiveCount', 1, 1000);
  checkBoolean(options.deadLetterQueue, 'deadLetterQueue');
  checkNumber(options.retryBackoff, 'retryBackoff', 0, 900);
  checkOneOf(options.provisioning, 'provisioning', PROVISIONING_MODES);
  checkOneOf(options.queueNaming, 'queueNaming', QUEUE_NAMINGS);
  checkMetrics(options.metrics);
  checkBoolean(options.tracing, 'tracing');
  const snsSqs = options.snsSqs ?? {};
  const amqp = options.amqp ?? {};
  if (!isPlainObject(snsSqs)) throw new MessagingOptionsError('snsSqs', 'must be an object', snsSqs);
  if (!isPlainObject(amqp)) throw new MessagingOptionsError('amqp', 'must be an object', amqp);
  rejectUnknownKeys(snsSqs, OPTION_NAMES.snsSqs, 'snsSqs.');
  rejectUnknownKeys(amqp, OPTION_NAMES.amqp, 'amqp.');
  checkSnsSqs(snsSqs);
  if (snsSqs.wildcardRescanMs !== undefined && (options.provisioning ?? DEFAULTS.provisioning) !== 'create')
    throw new MessagingOptionsError(
      'snsSqs.wildcardRescanMs',
      `subscribes topics created later, which only provisioning 'create' may do (provisioning is '${options.provisioning}'); remove it or use provisioning 'create'`,
      snsSqs.wildcardRescanMs,
    );
  checkAmqp(amqp);
  const { snsSqs: _snsSqs, amqp: _amqp, ...topLevel } = options;
  return {
    ...DEFAULTS,
    ...stripUndefined(topLevel),
    snsSqs: { ...DEFAULTS.snsSqs, ...stripUndefined(snsSqs) },
    amqp: {
      ...DEFAULTS.amqp,
      ...(options.queueNaming === 'tomodachi' ? TOMODACHI_NAMING_DEFAULTS.amqp : {}),
      ...stripUndefined(amqp),
      reconnectDelay: { ...DEFAULTS.amqp.reconnectDelay, ...stripUndefined(amqp.reconnectDelay ?? {}) },
    },
  } as ResolvedMessagingOptions;
}

/** Checks one handler's `@EventPattern` extras; `where` names the handler in the error. */
export function checkSubscriptionExtras(extras: Record<string, unknown>, where: string): SubscriptionExtras {
  const name = (key: string) => `@EventPattern('${where}').${key}`;
  for (const key of Object.keys(extras)) {
    if (!OPTION_NAMES.subscription.has(key))
      throw new MessagingOptionsError(
        name(key),
        `is not a known subscription option; use one of ${[...OPTION_NAMES.subscription].join(', ')}`,
      );
  }
  const e = extras as SubscriptionExtras;
  checkString(e.queueName, name('queueName'), { nonEmpty: true });
  checkBoolean(e.competing, name('competing'));
  if (e.filterPolicy !== undefined && !isPlainObject(e.filterPolicy)) {
    throw new MessagingOptionsError(name('filterPolicy'), 'must be an object such as { currency: ["EUR"] }', e.filterPolicy);
  }
  if (e.filterPolicyScope !== undefined && e.filterPolicyScope !== 'MessageAttributes' && e.filterPolicyScope !== 'MessageBody') {
    throw new MessagingOptionsError(name('filterPolicyScope'), "must be 'MessageAttributes' or 'MessageBody'", e.filterPolicyScope);
  }
  checkInteger(e.visibilityTimeout, name('visibilityTimeout'), 0, 43_200);
  if (e.deadLetterQueueName !== undefined && e.deadLetterQueueName !== false) {
    checkString(e.deadLetterQueueName, name('deadLetterQueueName'), { nonEmpty: true });
  }
  checkInteger(e.maxReceiveCount, name('maxReceiveCount'), 1, 1000);
  checkBoolean(e.fifo, name('fifo'));
  checkFifoExtras(e, name);
  checkEnvelope(e.envelope, name('envelope'));
  if (
    e.protoClass !== undefined &&
    (typeof (e.protoClass as { decode?: unknown }).decode !== 'function' ||
      typeof (e.protoClass as { encode?: unknown }).encode !== 'function')
  ) {
    throw new MessagingOptionsError(name('protoClass'), 'must be a protobuf message class with static encode() and decode()', e.protoClass);
  }
  checkInteger(e.concurrency, name('concurrency'), 1, 10_000);
  checkString(e.exchange, name('exchange'), { nonEmpty: true });
  checkQueueOnly(e, name);
  return e;
}

const DEDUPLICATION_SCOPES: readonly FifoDeduplicationScope[] = ['queue', 'messageGroup'];
const FIFO_THROUGHPUT_LIMITS: readonly FifoThroughputLimit[] = ['perQueue', 'perMessageGroupId'];

/** The FIFO queue settings: valid values, only on a FIFO subscription, and the combination SQS accepts. */
function checkFifoExtras(e: SubscriptionExtras, name: (key: string) => string): void {
  checkBoolean(e.contentBasedDeduplication, name('contentBasedDeduplication'));
  checkOneOf(e.deduplicationScope, name('deduplicationScope'), DEDUPLICATION_SCOPES);
  checkOneOf(e.fifoThroughputLimit, name('fifoThroughputLimit'), FIFO_THROUGHPUT_LIMITS);
  for (const key of ['contentBasedDeduplication', 'deduplicationScope', 'fifoThroughputLimit'] as const) {
    if (e[key] !== undefined && e.fifo !== true)
      throw new MessagingOptionsError(name(key), 'is a FIFO queue setting: set fifo: true as well, or remove it', e[key]);
  }
  if (e.fifoThroughputLimit === 'perMessageGroupId' && e.deduplicationScope !== 'messageGroup')
    throw new MessagingOptionsError(
      name('fifoThroughputLimit'),
      "'perMessageGroupId' needs deduplicationScope: 'messageGroup' (an SQS rule; both together make a high-throughput FIFO queue)",
      e.fifoThroughputLimit,
    );
}

/** Extras that shape a queue the library owns; a queue-only handler (`queue`) owns nothing. */
const NOT_WITH_QUEUE = [
  'queueName',
  'competing',
  'filterPolicy',
  'filterPolicyScope',
  'visibilityTimeout',
  'deadLetterQueueName',
  'maxReceiveCount',
  'fifo',
  'contentBasedDeduplication',
  'deduplicationScope',
  'fifoThroughputLimit',
  'exchange',
] as const;

function checkQueueOnly(e: SubscriptionExtras, name: (key: string) => string): void {
  if (e.queue === undefined) return;
  checkString(e.queue, name('queue'), { nonEmpty: true });
  for (const key of NOT_WITH_QUEUE) {
    if (e[key] === undefined || (key === 'competing' && e.competing === true)) continue;
    throw new MessagingOptionsError(
      name(key),
      `cannot be combined with queue ('${e.queue}'): a queue-only handler consumes an existing queue as it is and changes none of its settings; remove ${key}, or drop queue to let the library create and subscribe a queue`,
      e[key],
    );
  }
}

function checkSnsSqs(o: SnsSqsOptions): void {
  checkString(o.region, 'snsSqs.region', { nonEmpty: true });
  if (o.endpoint !== undefined) {
    checkString(o.endpoint, 'snsSqs.endpoint', { nonEmpty: true });
    if (!/^https?:\/\/[^\s/]+/.test(o.endpoint))
      throw new MessagingOptionsError('snsSqs.endpoint', 'must be an http(s) URL such as http://127.0.0.1:4566', o.endpoint);
  }
  if (o.credentials !== undefined && typeof o.credentials !== 'function' && !isCredentials(o.credentials)) {
    throw new MessagingOptionsError(
      'snsSqs.credentials',
      'must be { accessKeyId, secretAccessKey[, sessionToken] } or a credential provider function; leave unset for the SDK default chain',
    );
  }
  checkKms(o.snsKmsMasterKeyId, 'snsSqs.snsKmsMasterKeyId');
  checkKms(o.sqsKmsMasterKeyId, 'snsSqs.sqsKmsMasterKeyId');
  checkInteger(o.sqsKmsDataKeyReusePeriod, 'snsSqs.sqsKmsDataKeyReusePeriod', 60, 86_400);
  checkInteger(o.waitTimeSeconds, 'snsSqs.waitTimeSeconds', 0, 20);
  checkInteger(o.maxAttempts, 'snsSqs.maxAttempts', 1, 20);
  checkInteger(o.connectTimeout, 'snsSqs.connectTimeout', 1, 600_000);
  checkInteger(o.requestTimeout, 'snsSqs.requestTimeout', 1, 600_000);
  if (o.perProcessQueueExpires !== 0) checkInteger(o.perProcessQueueExpires, 'snsSqs.perProcessQueueExpires', 1000, 2 ** 31 - 1);
  checkTags(o.tags, 'snsSqs.tags');
  checkLargePayload(o.largePayload);
  checkBoolean(o.contentBasedDeduplication, 'snsSqs.contentBasedDeduplication');
  checkInteger(o.wildcardRescanMs, 'snsSqs.wildcardRescanMs', 1000, 2 ** 31 - 1);
}

/** S3 bucket names: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit. */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The extended clients' key prefix rule: at most 1024 - 36 (the UUID) characters of [A-Za-z0-9./_-]. */
const S3_KEY_PREFIX = /^[A-Za-z0-9./_-]{0,988}$/;

function checkLargePayload(value: unknown): void {
  if (value === undefined) return;
  const option = 'snsSqs.largePayload';
  if (!isPlainObject(value)) throw new MessagingOptionsError(option, "must be an object such as { bucket: 'my-bucket' }", value);
  rejectUnknownKeys(value, OPTION_NAMES.largePayload, `${option}.`);
  const o = value as LargePayloadOptions;
  checkString(o.bucket, `${option}.bucket`, { required: true, nonEmpty: true });
  if (!S3_BUCKET.test(o.bucket) || o.bucket.includes('..'))
    throw new MessagingOptionsError(
      `${option}.bucket`,
      "must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
      o.bucket,
    );
  checkInteger(o.thresholdBytes, `${option}.thresholdBytes`, 0, 262_144);
  checkString(o.keyPrefix, `${option}.keyPrefix`);
  if (o.keyPrefix !== undefined && (!S3_KEY_PREFIX.test(o.keyPrefix) || /^[./]/.test(o.keyPrefix) || o.keyPrefix.includes('..')))
    throw new MessagingOptionsError(
      `${option}.keyPrefix`,
      "may hold at most 988 letters, digits, '/', '_', '-' and '.', must not start with '.' or '/' and must not contain '..'",
      o.keyPrefix,
    );
  checkBoolean(o.deleteAfterHandled, `${option}.deleteAfterHandled`);
  checkBoolean(o.forcePathStyle, `${option}.forcePathStyle`);
}

function checkTags(value: unknown, option: string): void {
  if (value === undefined) return;
  if (!isPlainObject(value))
    throw new MessagingOptionsError(option, 'must be an object of string values such as { team: "billing" }', value);
  const entries = Object.entries(value);
  if (entries.length > MAX_TAGS)
    throw new MessagingOptionsError(option, `may hold at most ${MAX_TAGS} tags (an SQS and SNS limit); it has ${entries.length}`);
  for (const [key, tag] of entries) {
    if (key.length < 1 || key.length > 128) throw new MessagingOptionsError(`${option}.${key}`, 'tag keys must be 1 to 128 characters');
    if (/^aws:/i.test(key)) throw new MessagingOptionsError(`${option}.${key}`, "tag keys may not start with 'aws:' (reserved by AWS)");
    if (key.startsWith('nestjs-messaging:'))
      throw new MessagingOptionsError(
        `${option}.${key}`,
        "tag keys may not start with 'nestjs-messaging:' (the library's own per-process tags)",
      );
    if (typeof tag !== 'string') throw new MessagingOptionsError(`${option}.${key}`, 'tag values must be strings', tag);
    if (tag.length > 256)
      throw new MessagingOptionsError(`${option}.${key}`, `tag values must be at most 256 characters; it has ${tag.length}`);
  }
}

function checkAmqp(o: AmqpOptions): void {
  if (o.url !== undefined) {
    checkString(o.url, 'amqp.url', { nonEmpty: true });
    if (!/^amqps?:\/\//.test(o.url)) throw new MessagingOptionsError('amqp.url', 'must start with amqp:// or amqps://', redactUrl(o.url));
  }
  checkString(o.exchange, 'amqp.exchange', { nonEmpty: true });
  checkInteger(o.prefetch, 'amqp.prefetch', 1, 65_535);
  checkInteger(o.heartbeat, 'amqp.heartbeat', 0, 3600);
  checkInteger(o.publishTimeout, 'amqp.publishTimeout', 1, 3_600_000);
  checkInteger(o.queueExpires, 'amqp.queueExpires', 0, 2 ** 31 - 1);
  checkInteger(o.connectTimeout, 'amqp.connectTimeout', 1, 3_600_000);
  checkInteger(o.perProcessQueueExpires, 'amqp.perProcessQueueExpires', 1000, 2 ** 31 - 1);
  if (o.managementUrl !== undefined) {
    checkString(o.managementUrl, 'amqp.managementUrl', { nonEmpty: true });
    if (!/^https?:\/\/[^/\s]+/.test(o.managementUrl) || !URL.canParse(o.managementUrl))
      throw new MessagingOptionsError(
        'amqp.managementUrl',
        'must be the http:// or https:// URL of the RabbitMQ management API, e.g. http://guest:guest@127.0.0.1:15672',
        redactUrl(o.managementUrl),
      );
  }
  checkOneOf(o.queueType, 'amqp.queueType', AMQP_QUEUE_TYPES);
  if (o.reconnectDelay !== undefined) {
    if (!isPlainObject(o.reconnectDelay))
      throw new MessagingOptionsError('amqp.reconnectDelay', 'must be { initial?, max? } in milliseconds', o.reconnectDelay);
    checkInteger(o.reconnectDelay.initial, 'amqp.reconnectDelay.initial', 1, 3_600_000);
    checkInteger(o.reconnectDelay.max, 'amqp.reconnectDelay.max', 1, 3_600_000);
  }
}

function checkMetrics(value: unknown): void {
  if (value === undefined || typeof value === 'boolean') return;
  if (!isPlainObject(value))
    throw new MessagingOptionsError(
      'metrics',
      'must be true, false or { registry?, queueDepth? } (registry: a prom-client Registry)',
      value,
    );
  rejectUnknownKeys(value, OPTION_NAMES.metrics, 'metrics.');
  checkBoolean((value as { queueDepth?: unknown }).queueDepth, 'metrics.queueDepth');
  const registry = (value as { registry?: unknown }).registry;
  if (
    registry !== undefined &&
    (typeof registry !== 'object' ||
      registry === null ||
      typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function' ||
      typeof (registry as { getSingleMetric?: unknown }).getSingleMetric !== 'function')
  ) {
    throw new MessagingOptionsError(
      'metrics.registry',
      "must be a prom-client Registry (new Registry() or prom-client's register); leave it unset for the default registry",
      registry,
    );
  }
}

function checkKms(value: unknown, option: string): void {
  if (value === undefined || value === null || value === false || typeof value === 'string') return;
  throw new MessagingOptionsError(
    option,
    "must be a KMS key id or alias (string), '' or false to disable encryption, or null/undefined to leave it unchanged",
    value,
  );
}

function checkEnvelope(value: unknown, option: string): void {
  if (value === undefined) return;
  if (typeof value === 'function') return;
  if (
    value &&
    typeof value === 'object' &&
    typeof (value as { encode?: unknown }).encode === 'function' &&
    typeof (value as { decode?: unknown }).decode === 'function'
  )
    return;
  throw new MessagingOptionsError(
    option,
    'must be an envelope class (JsonEnvelope, RawEnvelope, ProtobufEnvelope or your own MessageEnvelope) or an instance with encode() and decode()',
    value,
  );
}

function checkString(value: unknown, option: string, rule: { required?: boolean; nonEmpty?: boolean } = {}): void {
  if (value === undefined && !rule.required) return;
  if (typeof value !== 'string')
    throw new MessagingOptionsError(option, rule.nonEmpty ? 'must be a non-empty string' : 'must be a string', value);
  if (rule.nonEmpty && value.length === 0) throw new MessagingOptionsError(option, 'must be a non-empty string', value);
}

function checkOneOf<T extends string>(value: unknown, option: string, allowed: readonly T[]): void {
  if (value !== undefined && !allowed.includes(value as T)) {
    throw new MessagingOptionsError(option, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
  }
}

function checkBoolean(value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw new MessagingOptionsError(option, 'must be true or false', value);
}

function checkNumber(value: unknown, option: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new MessagingOptionsError(option, `must be a number from ${min} to ${max}`, value);
  }
}

function checkInteger(value: unknown, option: string, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MessagingOptionsError(option, `must be an integer from ${min} to ${max}`, value);
  }
}

function rejectUnknownKeys(object: object, known: ReadonlySet<string>, path: string): void {
  for (const key of Object.keys(object)) {
    if (!known.has(key)) throw new MessagingOptionsError(`${path}${key}`, `is not a known option; use one of ${[...known].join(', ')}`);
  }
}

function isCredentials(value: unknown): boolean {
  const c = value as { accessKeyId?: unknown; secretAccessKey?: unknown };
  return isPlainObject(value) && typeof c.accessKeyId === 'string' && typeof c.secretAccessKey === 'string';
}

function isPlainObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stripUndefined<T extends object>(object: T): Partial<T> {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * A URL with its password replaced, safe to log or put in an error. Any scheme (or none): the URLs that need it most
 * are the malformed ones an error message echoes. Redacts up to the last `@` of the authority, so an unencoded `@`
 * in the password does not leak its tail.
 */
export function redactUrl(url: string): string {
  return url.replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:\/*)?[^:@/\s]*:)[^/\s]*@/, '$1***@');
}
