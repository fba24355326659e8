import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { MessagingError } from '../../errors.js';
import { LARGE_PAYLOAD_DEFAULTS, type LargePayloadOptions, type ResolvedSnsSqsOptions } from '../../messaging.options.js';
import { requirePackages } from '../../optional-package.js';
import { awsClientConfig } from '../clients.js';
import type { S3Pointer } from './s3-pointer.js';

type S3Sdk = typeof import('@aws-sdk/client-s3');

/** The S3 object a pointer names is not there (deleted, expired by a lifecycle rule, or never written). */
export class PayloadMissingError extends MessagingError {}

/** The S3 object is bigger than maxDecodedBytes: it is not downloaded. */
export class PayloadTooLargeError extends MessagingError {}

/**
 * The S3 side of the claim check: @aws-sdk/client-s3 loaded only when `snsSqs.largePayload` is set, its client built
 * like the SNS/SQS clients (region, endpoint, credentials, maxAttempts, connectTimeout, requestTimeout).
 */
export class S3PayloadStore {
  private loaded?: Promise<{ sdk: S3Sdk; client: S3Client }>;
  /** Aborted on destroy(): a call still waiting for a stalled endpoint ends then. */
  private readonly closing = new AbortController();

  constructor(
    private readonly options: ResolvedSnsSqsOptions,
    private readonly settings: LargePayloadOptions,
  ) {}

  get bucket(): string {
    return this.settings.bucket;
  }

  /** Loads the SDK once; a missing package is a MissingDependencyError naming `snsSqs.largePayload`. */
  load(): Promise<{ sdk: S3Sdk; client: S3Client }> {
    this.loaded ??= requirePackages(
      [{ name: '@aws-sdk/client-s3', load: () => import('@aws-sdk/client-s3') }],
      "the 'snsSqs.largePayload' option",
    ).then(
      async () => {
        const sdk = await import('@aws-sdk/client-s3');
        const forcePathStyle = this.settings.forcePathStyle ?? this.options.endpoint !== undefined;
        return { sdk, client: new sdk.S3Client({ ...awsClientConfig(this.options), forcePathStyle }) };
      },
      (error: unknown) => {
        this.loaded = undefined;
        throw error;
      },
    );
    return this.loaded;
  }

  async put(body: string): Promise<S3Pointer> {
    const { sdk, client } = await this.load();
    const key = `${this.settings.keyPrefix ?? LARGE_PAYLOAD_DEFAULTS.keyPrefix}${randomUUID()}`;
    await client.send(new sdk.PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body }), { abortSignal: this.closing.signal });
    return { bucket: this.bucket, key };
  }

  /** The object's text; PayloadMissingError when it does not exist, PayloadTooLargeError over `maxBytes`. */
  async get(pointer: S3Pointer, maxBytes: number): Promise<string> {
    const { sdk, client } = await this.load();
    let output;
    try {
      output = await client.send(new sdk.GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }), {
        abortSignal: this.closing.signal,
      });
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NoSuchKey' || (e.name !== 'NoSuchBucket' && e.$metadata?.httpStatusCode === 404))
        throw new PayloadMissingError(`s3://${pointer.bucket}/${pointer.key} does not exist`, { cause: error });
      throw error;
    }
    if (output.ContentLength !== undefined && output.ContentLength > maxBytes) {
      (output.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new PayloadTooLargeError(
        `s3://${pointer.bucket}/${pointer.key} is ${output.ContentLength} bytes, over maxDecodedBytes (${maxBytes})`,
      );
    }
    if (!output.Body) throw new PayloadMissingError(`s3://${pointer.bucket}/${pointer.key} has no body`);
    return output.Body.transformToString('utf8');
  }

  async delete(pointer: S3Pointer): Promise<void> {
    const { sdk, client } = await this.load();
    await client.send(new sdk.DeleteObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }), { abortSignal: this.closing.signal });
  }

  destroy(): void {
    this.closing.abort();
    void this.loaded?.then(({ client }) => client.destroy()).catch(() => undefined);
  }
}
