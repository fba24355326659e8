import type { LoggerService } from '@nestjs/common';
import * as amqp from 'amqplib';
import { BehaviorSubject } from 'rxjs';
import { describeError } from '../error-text.js';
import { BrokerConnectionError, MessagingError } from '../errors.js';
import { redactUrl } from '../options/redact-url.js';
import type { ResolvedAmqpOptions } from '../messaging.options.js';
import type { BrokerStatus } from '../transport/broker.js';
import { coalesceWrites } from './coalesced-writes.js';
import { CLOSE_GRACE_MS, awaitUntil } from './deadline.js';

export type AmqpModel = amqp.ChannelModel;

/**
 * Runs on every new connection before it is reported connected (re-declare topology, re-attach consumers). What it
 * resolves with (e.g. "2 consumer(s) re-attached") goes into the one line that says a lost connection is back.
 */
type ConnectionSetup = (model: AmqpModel) => Promise<string | void>;
/** Runs on close() before the connection itself closes (close channels first); must finish by `deadline`. */
type ConnectionTeardown = (deadline: number) => Promise<void>;

/**
 * One AMQP connection with heartbeats that reconnects with exponential backoff (reconnectDelay.initial → max)
 * after any loss, re-running the registered setups before it reports `connected` again.
 *
 * Until a connection was first established, it is only attempted while someone waits for it: when the last
 * waiter gives up (a failed startup, an emit that timed out) the attempts stop, so no timer or socket keeps the
 * process alive; the next get() starts again.
 */
export class AmqpConnection {
  readonly status$ = new BehaviorSubject<BrokerStatus>('disconnected');
  private model?: AmqpModel;
  private loop?: Promise<void>;
  private closing = false;
  private everConnected = false;
  private blockedReason?: string;
  private waiters = new Set<{ resolve: (m: AmqpModel) => void; reject: (e: unknown) => void }>();
  private sleepTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private lastError?: unknown;
  /** When the live connection was lost, until it is back. */
  private lostAt?: number;
  private readonly setups: ConnectionSetup[] = [];
  private readonly teardowns: ConnectionTeardown[] = [];
  private readonly url: string;
  readonly safeUrl: string;

  constructor(
    private readonly options: ResolvedAmqpOptions,
    private readonly logger: LoggerService,
    private readonly connectionName: string,
  ) {
    this.url = withHeartbeat(options.url, options.heartbeat);
    this.safeUrl = redactUrl(options.url);
  }

  /** The live connection, if any (no waiting). */
  get current(): AmqpModel | undefined {
    return this.model;
  }

  /** The broker's reason while it blocks this connection (connection.blocked, e.g. a memory alarm); else undefined. */
  get blocked(): string | undefined {
    return this.model ? this.blockedReason : undefined;
  }

  /** Why the last connection attempt failed or the connection was lost, while no new one is up. */
  get lastFailure(): string | undefined {
    return this.lastError === undefined ? undefined : describeError(this.lastError);
  }

  onConnect(setup: ConnectionSetup): void {
    this.setups.push(setup);
  }

  onClose(teardown: ConnectionTeardown): void {
    this.teardowns.push(teardown);
  }

  /** The live connection, connecting (or waiting for the reconnect) for at most `timeoutMs`. */
  get(timeoutMs: number): Promise<AmqpModel> {
    if (this.model) return Promise.resolve(this.model);
    if (this.closing) return Promise.reject(new MessagingError('the AMQP connection is closed'));
    return new Promise<AmqpModel>((resolve, reject) => {
      const waiter = {
        resolve: (m: AmqpModel) => {
          clearTimeout(timer);
          resolve(m);
        },
        reject: (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const cause = this.lastError ? ` (last attempt: ${describeError(this.lastError)})` : '';
        reject(
          new BrokerConnectionError(
            'amqp',
            this.safeUrl,
            `no connection within ${timeoutMs} ms${cause}; check that RabbitMQ listens there and accepts these credentials, or raise amqp.connectTimeout`,
            { cause: this.lastError },
          ),
        );
        if (!this.wanted()) this.interruptSleep();
      }, timeoutMs);
      this.waiters.add(waiter);
      this.start();
    });
  }

  /**
   * After a failed startup: closes the connection if it is up and nothing needs it (no waiter), without stopping
   * the object for good; a later get() connects again.
   */
  async release(): Promise<void> {
    if (this.closing || this.waiters.size > 0) return;
    this.everConnected = false;
    const model = this.model;
    this.model = undefined;
    this.interruptSleep();
    if (model) {
      this.status$.next('disconnected');
      await closeModel(model, Date.now() + CLOSE_GRACE_MS);
    }
    await this.loop?.catch(() => undefined);
  }

  /** Attempts are only worth making while someone waits, or to restore a connection that was up before. */
  private wanted(): boolean {
    return !this.closing && (this.everConnected || this.waiters.size > 0);
  }

  private interruptSleep(): void {
    clearTimeout(this.sleepTimer);
    this.sleepTimer = undefined;
    this.wake?.();
  }

  private start(): void {
    if (this.loop || !this.wanted() || this.model) return;
    this.loop = this.connectLoop().finally(() => {
      this.loop = undefined;
      if (!this.model) this.start(); // a waiter that arrived while the loop was ending
    });
  }

  private async connectLoop(): Promise<void> {
    let delay = this.options.reconnectDelay.initial;
    let model: AmqpModel | undefined;
    while (this.wanted()) {
      try {
        model = await amqp.connect(this.url, {
          timeout: this.options.connectTimeout,
          clientProperties: { connection_name: this.connectionName },
        });
        coalesceWrites(model);
        model.on('error', (error: Error) => this.logger.warn?.(`AMQP connection error: ${error.message}`));
        const m = model;
        m.on('blocked', (reason: string) => {
          if (m === this.model) this.blockedReason = reason || 'no reason given';
          this.logger.warn?.(`AMQP connection blocked by the broker: ${reason}`);
        });
        m.on('unblocked', () => {
          if (m === this.model) this.blockedReason = undefined;
          this.logger.log(`AMQP connection unblocked`);
        });
        let lost = false;
        m.on('close', (error?: Error) => {
          lost = true;
          this.handleClose(m, error);
        });
        if (!this.wanted()) break;
        const done: string[] = [];
        for (const setup of this.setups) {
          const note = await setup(model);
          if (note) done.push(note);
        }
        if (!this.wanted()) break;
        if (lost) throw new MessagingError('connection closed during setup');
        this.model = model;
        model = undefined;
        this.blockedReason = undefined;
        this.everConnected = true;
        this.lastError = undefined;
        if (this.lostAt !== undefined) {
          const seconds = ((Date.now() - this.lostAt) / 1000).toFixed(1);
          this.logger.log(`AMQP connection to ${this.safeUrl} is back after ${seconds} s${done.length > 0 ? `: ${done.join(', ')}` : ''}`);
          this.lostAt = undefined;
        }
        this.status$.next('connected');
        for (const w of this.waiters) w.resolve(this.model);
        this.waiters.clear();
        return;
      } catch (error) {
        this.lastError = error;
        if (model) await closeModel(model, Date.now() + CLOSE_GRACE_MS);
        model = undefined;
        if (!this.wanted()) break;
        this.logger.warn?.(`AMQP connection to ${this.safeUrl} failed (${describeError(error)}); retrying in ${delay} ms`);
        if (this.status$.value !== 'reconnecting') this.status$.next('reconnecting');
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.options.reconnectDelay.max);
      }
    }
    // nobody wants the connection any more (closed, or the last waiter gave up): drop what this attempt opened
    if (model) await closeModel(model, Date.now() + CLOSE_GRACE_MS);
    if (!this.closing && this.status$.value === 'reconnecting') this.status$.next('disconnected');
  }

  private handleClose(model: AmqpModel, error?: Error): void {
    if (model !== this.model) return;
    this.model = undefined;
    this.blockedReason = undefined;
    if (this.closing) return;
    this.lastError = error;
    this.lostAt = Date.now();
    this.logger.warn?.(`AMQP connection to ${this.safeUrl} lost${error ? ` (${error.message})` : ''}; reconnecting`);
    this.status$.next('disconnected');
    this.status$.next('reconnecting');
    this.start();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
    });
  }

  /**
   * Closes channels (teardowns) first, then the connection; stops reconnecting. Done by `deadline` whatever the
   * broker does: past it (a blocked connection never answers channel.close / connection.close) the socket is destroyed.
   */
  async close(deadline = Date.now() + CLOSE_GRACE_MS): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.interruptSleep();
    for (const w of this.waiters) w.reject(new MessagingError('the AMQP connection was closed'));
    this.waiters.clear();
    // amqplib leaves channel.close() pending when the connection drops meanwhile: stop waiting once it is gone
    const model = this.model;
    const gone = model ? new Promise<void>((resolve) => model.once('close', () => resolve())) : Promise.resolve();
    for (const teardown of this.teardowns) {
      await awaitUntil(
        Promise.race([gone, teardown(deadline).catch((error) => this.logger.warn?.(`AMQP close: ${describeError(error)}`))]),
        deadline,
      );
    }
    this.model = undefined;
    if (model) await closeModel(model, this.blockedReason ? Date.now() : deadline, gone);
    await awaitUntil(this.loop ?? Promise.resolve(), deadline);
    this.status$.next('disconnected');
  }
}

/** connection.close, or past the deadline (no close-ok: blocked or unresponsive broker) the socket destroyed. */
async function closeModel(model: AmqpModel, deadline: number, gone?: Promise<void>): Promise<void> {
  const closed = await awaitUntil(gone ? Promise.race([gone, model.close()]) : model.close(), deadline);
  if (!closed.done) socketOf(model)?.destroy();
}

function socketOf(model: AmqpModel): { destroy(): void } | undefined {
  return (model as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
}

function withHeartbeat(url: string, heartbeat: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`;
}
