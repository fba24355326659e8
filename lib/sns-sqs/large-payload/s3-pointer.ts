/**
 * The claim-check format of the AWS extended clients (amazon-sqs-java-extended-client-lib, the SNS extended client and
 * their Python ports): the body becomes `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":…,"s3Key":…}]`
 * and a Number message attribute `ExtendedPayloadSize` carries the original body's size in bytes.
 */
const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
/** The pointer class older SQS extended clients wrote; readers still accept it. */
const LEGACY_POINTER_CLASS = 'com.amazon.sqs.javamessaging.MessageS3Pointer';
export const PAYLOAD_SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
/** Reserved attribute names: the current one and the SQS extended client's legacy `SQSLargePayloadSize`. */
export const RESERVED_ATTRIBUTES: readonly string[] = [PAYLOAD_SIZE_ATTRIBUTE, 'SQSLargePayloadSize'];

const POINTER_START = /^\[\s*"(software\.amazon\.payloadoffloading\.PayloadS3Pointer|com\.amazon\.sqs\.javamessaging\.MessageS3Pointer)"/;

export interface S3Pointer {
  bucket: string;
  key: string;
}

export function pointerBody(pointer: S3Pointer): string {
  return JSON.stringify([POINTER_CLASS, { s3BucketName: pointer.bucket, s3Key: pointer.key }]);
}

/** A cheap look at the start of a body: does it claim to be a pointer? (parsePointer says whether it is a valid one.) */
export function looksLikePointer(body: unknown): body is string {
  return typeof body === 'string' && body.charCodeAt(0) === 91 /* [ */ && POINTER_START.test(body);
}

/** The bucket and key of a pointer body; undefined when it is not one. */
export function parsePointer(body: string): S3Pointer | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || (parsed[0] !== POINTER_CLASS && parsed[0] !== LEGACY_POINTER_CLASS))
    return undefined;
  const { s3BucketName, s3Key } = (parsed[1] ?? {}) as { s3BucketName?: unknown; s3Key?: unknown };
  if (typeof s3BucketName !== 'string' || typeof s3Key !== 'string' || s3BucketName === '' || s3Key === '') return undefined;
  return { bucket: s3BucketName, key: s3Key };
}

/** `attributes` without the reserved size attribute: handlers see the attributes the producer set. */
export function withoutReserved<T>(attributes: Record<string, T>): Record<string, T>;
export function withoutReserved<T>(attributes: Record<string, T> | undefined): Record<string, T> | undefined;
export function withoutReserved<T>(attributes: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!attributes || !RESERVED_ATTRIBUTES.some((name) => Object.hasOwn(attributes, name))) return attributes;
  const copy: Record<string, T> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (!RESERVED_ATTRIBUTES.includes(key))
      Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}
