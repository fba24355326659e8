import type { LoggerService } from '@nestjs/common';
import { describeError } from '../error-text.js';
import { PublishError, PublishOutcomeUnknownError } from '../errors.js';
import { sleep } from '../sleep.js';
import { isThrottlingOrServerFault, isTimeoutOrNetwork, mayBeOneEntrysFault } from './aws-errors.js';
import { MAX_BATCH_ENTRIES, MAX_PAYLOAD_BYTES, NextTickBatcher } from './batching.js';
import type { AwsClients } from './clients.js';
import type { EntryTarget } from './entry-rules.js';
import type { LargePayloads } from './large-payload/large-payloads.js';

/** What a *Batch call answered for one entry; `undefined` stands for success. */
export interface EntryFailure {
  /** `Code: Message` of the Failed entry, or the description of the whole call's error. */
  reason: string;
  /** Worth another round: AWS failed the entry without the sender's fault, or the call was throttled or hit a 5xx. */
  transient: boolean;
  /** The call timed out or the connection broke (or AWS listed the entry nowhere): it may or may not have been done. */
  outcomeUnknown: boolean;
  /** The whole call's error, when the entry had no answer of its own. */
  error?: unknown;
  /** Throttling (of the whole call): the hint tells the user to slow down. */
  throttled?: boolean;
}

/** The part of a *Batch response that says what happened to each entry (ids are the entries' indexes). */
export interface BatchReply {
  Successful?: ReadonlyArray<{ Id?: string }>;
  Failed?: ReadonlyArray<{ Id?: string; Code?: string; Message?: string; SenderFault?: boolean }>;
}

const UNANSWERED: EntryFailure = Object.freeze({
  reason: 'the response listed the entry neither as successful nor as failed',
  transient: false,
  outcomeUnknown: true,
});

/**
 * One *Batch call for `items` (the call gives entry i the Id `String(i)`), answered per item: a Failed entry is that
 * item's failure and no other's. A whole call refused for what one entry may have caused (mayBeOneEntrysFault) is
 * sent again entry by entry, once (a call of one entry is never split again), so the others still get through and
 * the culprit gets AWS's reason. Any other whole-call error is every item's failure.
 */
export async function settleBatch<T>(
  items: readonly T[],
  call: (items: readonly T[]) => Promise<BatchReply>,
): Promise<Array<EntryFailure | undefined>> {
  const failures = new Array<EntryFailure | undefined>(items.length);
  let reply: BatchReply;
  try {
    reply = await call(items);
  } catch (error) {
    if (items.length > 1 && mayBeOneEntrysFault(error)) {
      return Promise.all(items.map(async (item) => (await settleBatch([item], call))[0]));
    }
    return failures.fill(callFailure(error));
  }
  const failed = reply.Failed?.length ?? 0;
  if (failed === 0 && reply.Successful?.length === items.length) return failures; // every entry succeeded
  if (reply.Successful) {
    failures.fill(UNANSWERED);
    for (const ok of reply.Successful) {
      const i = entryIndex(ok.Id, items.length);
      if (i >= 0) failures[i] = undefined;
    }
  }
  for (const entry of reply.Failed ?? []) {
    const i = entryIndex(entry.Id, items.length);
    if (i >= 0)
      failures[i] = {
        reason: `${entry.Code ?? 'error'}${entry.Message ? `: ${entry.Message}` : ''}`,
        transient: entry.SenderFault === false,
        outcomeUnknown: false,
      };
  }
  return failures;
}

/**
 * The failures of a settled batch that `keep` keeps, each with the number of entries it stands for: a whole call's
 * failure is one object shared by its entries, so a log can give it one line.
 */
export function countFailures(failures: ReadonlyArray<EntryFailure | undefined>, keep: (i: number) => boolean): Map<EntryFailure, number> {
  const counted = new Map<EntryFailure, number>();
  for (let i = 0; i < failures.length; i++) {
    const failure = failures[i];
    if (failure !== undefined && keep(i)) counted.set(failure, (counted.get(failure) ?? 0) + 1);
  }
  return counted;
}

function entryIndex(id: string | undefined, count: number): number {
  const i = Number(id);
  return Number.isInteger(i) && i >= 0 && i < count ? i : -1;
}

function callFailure(error: unknown): EntryFailure {
  const transient = isThrottlingOrServerFault(error);
  return {
    reason: describeError(error),
    transient,
    outcomeUnknown: isTimeoutOrNetwork(error),
    error,
    throttled: transient && (error as { $fault?: string } | undefined)?.$fault !== 'server',
  };
}

/**
 * Rounds after the SDK's own retries (snsSqs.maxAttempts attempts, with its backoff) gave up on throttling or a 5xx,
 * or after AWS failed an entry without the sender's fault: the wait before each. The SDK's backoff for a 5xx is a few
 * tens of milliseconds, so all of its attempts can fall inside one short burst of errors; these rounds ride it out.
 */
export const RETRY_ROUNDS_MS: readonly number[] = [1_000, 4_000];

/** The wait before a round: between half and all of its base, so that the entries of one batch spread out. */
export function roundDelay(baseMs: number): number {
  return baseMs / 2 + (Math.random() * baseMs) / 2;
}

/** A message waiting for (or in) a *Batch call; its Id is set when a call takes it. */
interface PendingEntry<E extends { Id: string | undefined }> {
  entry: E;
  size: number;
  /** Rounds already used (see RETRY_ROUNDS_MS). */
  rounds: number;
  /** The topic or queue, for the error text. */
  target: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

const BATCH_IDS = Array.from({ length: MAX_BATCH_ENTRIES }, (_, i) => String(i));

/** What the SNS publisher and the SQS queue sender are built from: the same for both, one per broker. */
export interface BatchedSending {
  clients: AwsClients;
  logger: LoggerService;
  /** snsSqs.largePayload: a body over its threshold goes to S3. */
  largePayloads?: LargePayloads;
  /** snsSqs.contentBasedDeduplication: a FIFO message without deduplicationId gets none of ours (SNS) or its envelope's hash (SQS). */
  contentBasedDeduplication?: boolean;
  /** The waits before the rounds after the SDK gave up on a transient failure (tests shorten them). */
  retryRounds?: readonly number[];
}

/**
 * Concurrent publishes (SNS PublishBatch per topic ARN) or sends (SQS SendMessageBatch per queue URL) coalesced into
 * one batcher per destination (next tick, 10 entries, or before the bytes pass 256 KiB), each message settled on its
 * own outcome (settleBatch), retried in rounds (RETRY_ROUNDS_MS) when the failure was transient.
 */
export class EntryBatches<E extends { Id: string | undefined }> {
  private readonly batchers = new Map<string, NextTickBatcher<PendingEntry<E>>>();
  /** Aborted by abort(): calls in flight end (their messages' outcome is unknown) and no round waits any longer. */
  private readonly closing = new AbortController();

  /** SNS: topics, by ARN; SQS: queues, by URL. */
  private readonly kind: EntryTarget;

  private readonly logger: LoggerService;
  private readonly rounds: readonly number[];

  constructor(
    private readonly service: 'SNS' | 'SQS',
    sending: BatchedSending,
    /** The *Batch call for one destination (`key`). */
    private readonly call: (key: string, entries: E[], signal: AbortSignal) => Promise<BatchReply>,
  ) {
    this.kind = service === 'SNS' ? 'topic' : 'queue';
    this.logger = sending.logger;
    this.rounds = sending.retryRounds ?? RETRY_ROUNDS_MS;
  }

  /** Resolves once `key` (a topic ARN or queue URL) took the entry; rejects with a PublishError saying why not. */
  enqueue(key: string, entry: E, size: number, target: string): Promise<void> {
    return new Promise<void>((resolve, reject) => this.add(key, { entry, size, rounds: 0, target, resolve, reject }));
  }

  private add(key: string, item: PendingEntry<E>): void {
    let batcher = this.batchers.get(key);
    if (!batcher) {
      batcher = new NextTickBatcher<PendingEntry<E>>(
        (batch) => this.sendBatch(key, batch),
        (batch, next) => batch.reduce((sum, p) => sum + p.size, 0) + next.size <= MAX_PAYLOAD_BYTES,
      );
      this.batchers.set(key, batcher);
    }
    batcher.add(item);
  }

  /** Waits for every batch handed over, including the rounds still to come. */
  async flush(): Promise<void> {
    await Promise.all([...this.batchers.values()].map((batcher) => batcher.flush()));
  }

  abort(): void {
    this.closing.abort();
  }

  private async sendBatch(key: string, batch: PendingEntry<E>[]): Promise<void> {
    const signal = this.closing.signal;
    const failures = await settleBatch(batch, (part) =>
      this.call(
        key,
        part.map((p, i) => {
          p.entry.Id = BATCH_IDS[i];
          return p.entry;
        }),
        signal,
      ),
    );
    let again: Array<Promise<void>> | undefined;
    let retried: Map<EntryFailure, { count: number; round: number }> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i];
      const failure = failures[i];
      if (failure === undefined) p.resolve();
      else if (failure.transient && p.rounds < this.rounds.length && !signal.aborted) {
        const told = (retried ??= new Map()).get(failure);
        if (told) told.count += 1;
        else retried.set(failure, { count: 1, round: p.rounds });
        (again ??= []).push(this.nextRound(key, p, failure));
      } else p.reject(this.failed(p, failure));
    }
    if (!again) return;
    // one line per failure (a whole call's is shared by its entries), not one per message
    for (const [failure, { count, round }] of retried!) {
      const base = this.rounds[round];
      this.logger.warn?.(
        `${this.service} did not take ${count === 1 ? 'a message' : `${count} messages`} for ${this.kind} "${batch[0].target}" (${failure.reason}); retrying ${count === 1 ? 'it' : 'them'} in ${base / 2}-${base} ms (round ${round + 1} of ${this.rounds.length})`,
      );
    }
    await Promise.all(again);
  }

  private async nextRound(key: string, p: PendingEntry<E>, failure: EntryFailure): Promise<void> {
    const delay = roundDelay(this.rounds[p.rounds]);
    p.rounds += 1;
    await sleep(delay, this.closing.signal);
    if (this.closing.signal.aborted)
      p.reject(
        new PublishError(
          `${this.service} did not accept the message for ${this.kind} "${p.target}" (${failure.reason}), and the client closed before the next retry`,
          { cause: failure.error },
        ),
      );
    else this.add(key, p);
  }

  private failed(p: PendingEntry<E>, failure: EntryFailure): PublishError {
    const where = `${this.kind} "${p.target}"`;
    const options = failure.error === undefined ? undefined : { cause: failure.error };
    if (failure.outcomeUnknown)
      return new PublishOutcomeUnknownError(
        this.kind === 'topic'
          ? `${this.service} did not answer the publish for ${where} (${failure.reason}): the message may or may not have been published; retrying the emit may deliver it twice`
          : `${this.service} did not answer the send to ${where} (${failure.reason}): the message may or may not have been sent; retrying may deliver it twice`,
        options,
      );
    if (failure.error === undefined)
      return new PublishError(`${this.service} refused the message for ${where}: ${failure.reason}${this.afterRounds(p, failure)}`);
    return new PublishError(
      `${this.service} did not accept the message for ${where}: ${failure.reason}${this.afterRounds(p, failure)}`,
      options,
    );
  }

  /** For a transient failure that outlasted every round: what happened and what the user can change. */
  private afterRounds(p: PendingEntry<E>, failure: EntryFailure): string {
    if (!failure.transient || p.rounds === 0) return '';
    const tried = ` (still failing after ${p.rounds} more round${p.rounds === 1 ? '' : 's'} of snsSqs.maxAttempts attempts each)`;
    return failure.throttled
      ? `${tried}; ${this.service} is throttling these calls: publish at a lower rate, raise snsSqs.maxAttempts, or ask AWS for a higher quota`
      : `${tried}; ${this.service} kept failing on its side (a server error): try again later`;
  }
}
