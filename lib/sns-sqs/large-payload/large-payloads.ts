import type { Message } from '@aws-sdk/client-sqs';
import type { LoggerService } from '@nestjs/common';
import { describeError } from '../../error-text.js';
import { PublishError } from '../../errors.js';
import { LARGE_PAYLOAD_DEFAULTS, type LargePayloadOptions, type ResolvedSnsSqsOptions } from '../../messaging.options.js';
import { sleep } from '../../sleep.js';
import type { DeliveryHandler, DeliveryOutcome, RejectionListener } from '../../transport/broker.js';
import { rejectionOutcome, type RejectionCause } from '../../transport/settlement.js';
import { attributesSize } from '../attributes.js';
import {
  looksLikePointer,
  PAYLOAD_SIZE_ATTRIBUTE,
  parsePointer,
  pointerBody,
  RESERVED_ATTRIBUTES,
  type S3Pointer,
  withoutReserved,
} from './s3-pointer.js';
import { PayloadMissingError, PayloadTooLargeError, S3PayloadStore } from './s3-payload-store.js';

type OutboundAttributes = Record<string, { DataType: string | undefined; StringValue?: string; BinaryValue?: Uint8Array }>;
type Fetched = { ok: true; body: string; pointer: S3Pointer } | { ok: false; outcome: DeliveryOutcome };

/**
 * `snsSqs.largePayload`: bodies over the threshold go to S3 and travel as the AWS extended clients' pointer; incoming
 * pointers (in the SQS body or in the SNS notification's Message) are resolved before the envelope sees the body.
 * A pointer that cannot be resolved is a rejection (rejectionOutcome(): a missing object is dead-lettered, a failed S3
 * read retried), settled like any outcome.
 */
export class LargePayloads {
  readonly thresholdBytes: number;
  private readonly store: S3PayloadStore;
  private readonly deleteAfterHandled: boolean;
  private readonly deletes = new Set<Promise<void>>();

  constructor(
    options: ResolvedSnsSqsOptions,
    settings: LargePayloadOptions,
    private readonly maxDecodedBytes: number,
    private readonly logger: LoggerService,
  ) {
    this.store = new S3PayloadStore(options, settings);
    this.thresholdBytes = settings.thresholdBytes ?? LARGE_PAYLOAD_DEFAULTS.thresholdBytes;
    this.deleteAfterHandled = settings.deleteAfterHandled ?? LARGE_PAYLOAD_DEFAULTS.deleteAfterHandled;
  }

  /** Loads @aws-sdk/client-s3 (at startup, so that a missing package fails there). */
  async load(): Promise<void> {
    await this.store.load();
  }

  /**
   * Stores `body` in S3 and returns the pointer to send instead, with its size (pointer + attributes); adds
   * `ExtendedPayloadSize` (the body's bytes) to `attributes`. `target` names the topic or queue in errors.
   */
  async offload(body: string, attributes: OutboundAttributes, target: string): Promise<{ body: string; size: number }> {
    const reserved = RESERVED_ATTRIBUTES.find((name) => Object.hasOwn(attributes, name));
    if (reserved) throw new PublishError(`Cannot publish to ${target}: attribute "${reserved}" is reserved for the S3 claim check`);
    let pointer: S3Pointer;
    try {
      pointer = await this.store.put(body);
    } catch (error) {
      throw new PublishError(
        `Cannot publish to ${target}: storing the ${Buffer.byteLength(body)}-byte body in S3 bucket "${this.store.bucket}" failed (${describeError(error)})`,
        { cause: error },
      );
    }
    attributes[PAYLOAD_SIZE_ATTRIBUTE] = { DataType: 'Number', StringValue: String(Buffer.byteLength(body)) };
    const pointerText = pointerBody(pointer);
    return { body: pointerText, size: Buffer.byteLength(pointerText) + attributesSize(attributes) };
  }

  /** Whether the consumer must hand this SQS body to resolve() first. */
  isPointer(body: string | undefined): boolean {
    return looksLikePointer(body);
  }

  /** An SQS message whose body is a pointer (an SQS extended client's SendMessage, or sendToQueue over the threshold). */
  async resolve(message: Message, deliver: (resolved: Message) => Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    const fetched = await this.fetch(message.Body!);
    if (!fetched.ok) return fetched.outcome;
    const outcome = await deliver({ ...message, Body: fetched.body, MessageAttributes: withoutReserved(message.MessageAttributes) });
    this.afterHandling(outcome, fetched.pointer);
    return outcome;
  }

  /** The delivery handler, resolving a pointer in the SNS notification's Message (an SNS extended client, or emit). */
  wrap(handler: DeliveryHandler, onRejected?: RejectionListener): DeliveryHandler {
    return async (delivery) => {
      if (!looksLikePointer(delivery.body)) return handler(delivery);
      const fetched = await this.fetch(delivery.body);
      if (!fetched.ok) {
        if (fetched.outcome.kind === 'dead-letter')
          onRejected?.({
            messageId: delivery.messageId,
            topic: delivery.topic,
            receiveCount: delivery.receiveCount,
            reason: fetched.outcome.reason,
          });
        return fetched.outcome;
      }
      const outcome = await handler({ ...delivery, body: fetched.body, attributes: withoutReserved(delivery.attributes) });
      this.afterHandling(outcome, fetched.pointer);
      return outcome;
    };
  }

  /** Waits up to `timeoutMs` for deletes still in flight, then ends every S3 call. */
  async close(timeoutMs: number): Promise<void> {
    const timeout = new AbortController();
    await Promise.race([Promise.allSettled([...this.deletes]), sleep(timeoutMs, timeout.signal)]);
    timeout.abort();
    this.store.destroy();
  }

  private async fetch(body: string): Promise<Fetched> {
    const pointer = parsePointer(body);
    if (!pointer) return unresolved('payload-missing', 'body starts like an S3 pointer of the AWS extended clients but is not a valid one');
    const where = `s3://${pointer.bucket}/${pointer.key}`;
    try {
      return { ok: true, body: await this.store.get(pointer, this.maxDecodedBytes), pointer };
    } catch (error) {
      if (error instanceof PayloadMissingError) return unresolved('payload-missing', `large payload ${where} is missing: ${error.message}`);
      if (error instanceof PayloadTooLargeError) return unresolved('too-large', `large payload ${error.message}`);
      return unresolved('payload-unreadable', `cannot read large payload ${where}: ${describeError(error)}`);
    }
  }

  private afterHandling(outcome: DeliveryOutcome, pointer: S3Pointer): void {
    if (outcome.kind !== 'ack' || !this.deleteAfterHandled) return;
    const done = this.store
      .delete(pointer)
      .catch((error: unknown) =>
        this.logger.warn?.(`Could not delete handled large payload s3://${pointer.bucket}/${pointer.key}: ${describeError(error)}`),
      )
      .finally(() => this.deletes.delete(done));
    this.deletes.add(done);
  }
}

function unresolved(cause: RejectionCause, reason: string): Fetched {
  return { ok: false, outcome: rejectionOutcome(cause, reason) };
}
