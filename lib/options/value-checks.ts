import { MessagingOptionsError } from '../errors.js';
import { redactUrl } from './redact-url.js';
import { isPlainObject, nonEmptyString } from './rules.js';

/** The value checks of single options that no generic rule (range, enum, boolean, string) describes. */

export function checkEnvelope(value: unknown, option: string): void {
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

export function checkProtoClass(value: unknown, option: string): void {
  const candidate = value as { decode?: unknown; encode?: unknown } | null;
  if (typeof candidate?.decode !== 'function' || typeof candidate.encode !== 'function')
    throw new MessagingOptionsError(option, 'must be a protobuf message class with static encode() and decode()', value);
}

export function checkMetrics(value: unknown, option: string): void {
  if (typeof value !== 'boolean' && !isPlainObject(value))
    throw new MessagingOptionsError(option, 'must be true, false or { registry?, queueDepth? } (registry: a prom-client Registry)', value);
}

export function checkMetricsRegistry(registry: unknown, option: string): void {
  if (
    typeof registry !== 'object' ||
    registry === null ||
    typeof (registry as { registerMetric?: unknown }).registerMetric !== 'function' ||
    typeof (registry as { getSingleMetric?: unknown }).getSingleMetric !== 'function'
  )
    throw new MessagingOptionsError(
      option,
      "must be a prom-client Registry (new Registry() or prom-client's register); leave it unset for the default registry",
      registry,
    );
}

/** `snsSqs` and `amqp`: an object, or null for none (as if unset). */
export function checkTransportSection(value: unknown, option: string): void {
  if (value !== null && !isPlainObject(value)) throw new MessagingOptionsError(option, 'must be an object', value);
}

export function checkDeadLetterQueueName(value: unknown, option: string): void {
  if (value !== false) nonEmptyString.check(value, option);
}

export function checkEndpoint(value: unknown, option: string): void {
  nonEmptyString.check(value, option);
  if (!/^https?:\/\/[^\s/]+/.test(value as string))
    throw new MessagingOptionsError(option, 'must be an http(s) URL such as http://127.0.0.1:4566', value);
}

export function checkCredentials(value: unknown, option: string): void {
  if (typeof value === 'function') return;
  const c = value as { accessKeyId?: unknown; secretAccessKey?: unknown };
  if (!isPlainObject(value) || typeof c.accessKeyId !== 'string' || typeof c.secretAccessKey !== 'string')
    throw new MessagingOptionsError(
      option,
      'must be { accessKeyId, secretAccessKey[, sessionToken] } or a credential provider function; leave unset for the SDK default chain',
    );
}

export function checkKms(value: unknown, option: string): void {
  if (value === null || value === false || typeof value === 'string') return;
  throw new MessagingOptionsError(
    option,
    "must be a KMS key id or alias (string), '' or false to disable encryption, or null/undefined to leave it unchanged",
    value,
  );
}

/** SQS and SNS tag limits. */
const MAX_TAGS = 50;

export function checkTags(value: unknown, option: string): void {
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

/** S3 bucket names: 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit. */
const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The extended clients' key prefix rule: at most 1024 - 36 (the UUID) characters of [A-Za-z0-9./_-]. */
const S3_KEY_PREFIX = /^[A-Za-z0-9./_-]{0,988}$/;

export function checkBucket(value: unknown, option: string): void {
  nonEmptyString.check(value, option);
  const bucket = value as string;
  if (!S3_BUCKET.test(bucket) || bucket.includes('..'))
    throw new MessagingOptionsError(
      option,
      "must be an S3 bucket name: 3 to 63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit",
      bucket,
    );
}

export function checkKeyPrefix(value: unknown, option: string): void {
  if (typeof value !== 'string') throw new MessagingOptionsError(option, 'must be a string', value);
  if (!S3_KEY_PREFIX.test(value) || /^[./]/.test(value) || value.includes('..'))
    throw new MessagingOptionsError(
      option,
      "may hold at most 988 letters, digits, '/', '_', '-' and '.', must not start with '.' or '/' and must not contain '..'",
      value,
    );
}

export function checkAmqpUrl(value: unknown, option: string): void {
  nonEmptyString.check(value, option);
  const url = value as string;
  if (!/^amqps?:\/\//.test(url)) throw new MessagingOptionsError(option, 'must start with amqp:// or amqps://', redactUrl(url));
}

export function checkManagementUrl(value: unknown, option: string): void {
  nonEmptyString.check(value, option);
  const url = value as string;
  if (!/^https?:\/\/[^/\s]+/.test(url) || !URL.canParse(url))
    throw new MessagingOptionsError(
      option,
      'must be the http:// or https:// URL of the RabbitMQ management API, e.g. http://guest:guest@127.0.0.1:15672',
      redactUrl(url),
    );
}
