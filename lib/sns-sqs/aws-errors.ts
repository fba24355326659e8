/** True for the "does not exist" errors of SQS (GetQueueUrl) and SNS (GetTopicAttributes, GetSubscriptionAttributes). */
export function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const code = `${e?.name ?? ''} ${e?.Code ?? ''}`;
  return /NotFound|NonExistentQueue|QueueDoesNotExist/i.test(code);
}

/** The endpoint a client talks to: the configured one, or the AWS regional endpoint of the service. */
export function endpointOf(service: 'sns' | 'sqs', configured: string | undefined, region: string | undefined): string {
  if (configured) return configured;
  if (!region) return `https://${service}.<region>.amazonaws.com`;
  return `https://${service}.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

const ACCESS_DENIED = /AccessDenied|AuthorizationError|NotAuthorized|Forbidden/i;
const BAD_CREDENTIALS = /InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClient|ExpiredToken|InvalidAccessKeyId|InvalidSecurity/i;

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  errors?: Array<{ code?: string }>;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** The Node network error code (ECONNREFUSED, ENOTFOUND, ETIMEDOUT, ...) of an SDK error, if it is one. */
export function networkCode(error: unknown): string | undefined {
  const e = error as AwsErrorShape | undefined;
  // An error from another realm (a vm context) reaches us only as the SDK's "error wrapper" text: read the code from it.
  return e?.code ?? e?.errors?.find((x) => x.code)?.code ?? NETWORK_CODE.exec(e?.message ?? '')?.[1];
}

const NETWORK_CODE = /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE)\b/;

/** True when the call timed out or the connection broke: the request may or may not have reached the service. */
export function isTimeoutOrNetwork(error: unknown): boolean {
  const e = error as AwsErrorShape | undefined;
  if (
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    /^AWS SDK error wrapper for (AbortError|TimeoutError)/.test(e?.message ?? '')
  )
    return true;
  const code = networkCode(error);
  // refused or unresolvable: the request never left, so the outcome is known (not delivered)
  return code !== undefined && /^E[A-Z]+$/.test(code) && !NEVER_SENT.has(code);
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

interface CallContext {
  service: 'sns' | 'sqs';
  /** The API action, e.g. CreateQueue. */
  action: string;
  endpoint: string;
  connectTimeout: number;
  requestTimeout: number;
}

/** The caller's credentials are valid but a policy (IAM, or the resource's own) refused the call. */
export function isAccessDenied(error: unknown): boolean {
  const e = (error ?? {}) as AwsErrorShape;
  const kind = `${e.name ?? ''} ${e.code ?? ''}`;
  return ACCESS_DENIED.test(kind) || (e.$metadata?.httpStatusCode === 403 && !BAD_CREDENTIALS.test(kind));
}

/** What went wrong with an SNS/SQS call and what to check, in words an operator can act on. */
export function explainAwsError(error: unknown, call: CallContext): { detail: string; hint: string } {
  const e = (error ?? {}) as AwsErrorShape;
  const kind = `${e.name ?? ''} ${e.code ?? ''}`;
  const attempts = e.$metadata?.attempts;
  const tried = attempts && attempts > 1 ? ` (${attempts} attempts)` : '';
  const code = networkCode(error);
  if (e.name === 'TimeoutError' || code === 'ETIMEDOUT') {
    if (/without establishing a connection/i.test(e.message ?? '')) {
      return {
        detail: `no connection within snsSqs.connectTimeout (${call.connectTimeout} ms)${tried}`,
        hint: `Check that ${call.endpoint} is reachable from here (network, firewall, proxy), or raise snsSqs.connectTimeout`,
      };
    }
    return {
      detail: `no response within snsSqs.requestTimeout (${call.requestTimeout} ms)${tried}`,
      hint: `${call.endpoint} accepted the connection but did not answer: check the endpoint (snsSqs.endpoint, snsSqs.region) and any proxy in between, or raise snsSqs.requestTimeout`,
    };
  }
  if (code === 'ECONNREFUSED')
    return {
      detail: `connection refused (${code})${tried}`,
      hint: `Nothing accepts connections at ${call.endpoint}: check snsSqs.endpoint and that the service (or emulator) is running`,
    };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return {
      detail: `host not found (${code})${tried}`,
      hint: `The host of ${call.endpoint} does not resolve: check snsSqs.endpoint / snsSqs.region and DNS`,
    };
  if (code && /^E[A-Z]+$/.test(code))
    return { detail: `network error ${code}: ${e.message ?? ''}${tried}`, hint: `Check the network path to ${call.endpoint}` };
  const message = `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
  if (isAccessDenied(error)) {
    return {
      detail: message,
      hint: `Check that the IAM policy of these credentials allows ${call.service}:${call.action} on this resource`,
    };
  }
  if (BAD_CREDENTIALS.test(kind))
    return {
      detail: message,
      hint: 'AWS does not accept these credentials: check snsSqs.credentials (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE) and the clock',
    };
  return { detail: message, hint: '' };
}

/** SNS refused a Subscribe because the endpoint is subscribed to the topic already, with other attributes. */
export function isSubscriptionConflict(error: unknown): boolean {
  const e = error as (AwsErrorShape & { Code?: string; message?: string }) | undefined;
  return (
    /InvalidParameter/.test(`${e?.name ?? ''} ${e?.code ?? ''} ${e?.Code ?? ''}`) &&
    /already exists with different attributes/i.test(e?.message ?? '')
  );
}

const THROTTLING = /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RequestThrottled/i;

/** Throttling or a server fault (5xx): worth another round after the SDK's own retries gave up. */
export function isThrottlingOrServerFault(error: unknown): boolean {
  const e = error as (AwsErrorShape & { $fault?: string }) | undefined;
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return e?.$fault === 'server' || status >= 500 || THROTTLING.test(`${e?.name ?? ''} ${e?.code ?? ''}`);
}

/**
 * A whole *Batch call refused for what one entry may have caused (AWS: BatchRequestTooLong, InvalidBatchEntryId, an
 * invalid parameter; moto refuses a whole PublishBatch for one empty attribute value): a client fault that is not
 * throttling, access, credentials, a missing topic/queue or KMS, which would fail each entry alike.
 */
export function mayBeOneEntrysFault(error: unknown): boolean {
  const e = error as (AwsErrorShape & { $fault?: string }) | undefined;
  if (!e || isTimeoutOrNetwork(error) || isThrottlingOrServerFault(error)) return false;
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault !== 'client' && !(status !== undefined && status >= 400 && status < 500)) return false;
  const kind = `${e.name ?? ''} ${e.code ?? ''}`;
  return (
    status !== 403 && status !== 404 && !ACCESS_DENIED.test(kind) && !BAD_CREDENTIALS.test(kind) && !isNotFound(error) && !/KMS/i.test(kind)
  );
}
