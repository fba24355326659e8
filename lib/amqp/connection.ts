import type { LoggerService } from '@nestjs/common';
import * as amqp from 'amqplib';
import { BehaviorSubject } from 'rxjs';
import { MessagingError } from '../errors.js';
import { redactUrl, type ResolvedAmqpOptions } from '../options-validation.js';
import type { BrokerStatus } from '../transport/broker.js';

export type AmqpModel = amqp.ChannelModel;

/** Runs on every new connection before it is reported connected (re-declare topology, re-attach consumers). */
export type ConnectionSetup = (model: AmqpModel) => Promise<void>;
/** Runs on close() before the connection itself closes (close channels first). */
export type ConnectionTeardown = () => Promise<void>;

/**
 * One AMQP connection with heartbeats that reconnects with exponential backoff (reconnectDelay.initial → max)
 * after any loss, re-running the registered setups before it reports `connected` again.
 */
export class AmqpConnection {
  readonly status$ = new BehaviorSubject<BrokerStatus>('disconnected');
  private model?: AmqpModel;
  private loop?: Promise<void>;
  private closing = false;
  private waiters = new Set<{ resolve: (m: AmqpModel) => void; reject: (e: unknown) => void }>();
  private sleepTimer?: NodeJS.Timeout;
  private wake?: () => void;
  private lastError?: unknown;
  private readonly setups: ConnectionSetup[] = [];
  private readonly teardowns: ConnectionTeardown[] = [];
  private readonly url: string;
  private readonly safeUrl: string;

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

  get isClosing(): boolean {
    return this.closing;
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
    this.start();
    return new Promise<AmqpModel>((resolve, reject) => {
      const waiter = {
        resolve: (m: AmqpModel) => { clearTimeout(timer); resolve(m); },
        reject: (e: unknown) => { clearTimeout(timer); reject(e); },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        const cause = this.lastError ? `: ${errorText(this.lastError)}` : '';
        reject(new MessagingError(`no AMQP connection to ${this.safeUrl} within ${timeoutMs} ms${cause}`, { cause: this.lastError }));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private start(): void {
    if (this.loop || this.closing) return;
    this.loop = this.connectLoop().finally(() => { this.loop = undefined; });
  }

  private async connectLoop(): Promise<void> {
    let delay = this.options.reconnectDelay.initial;
    while (!this.closing) {
      let model: AmqpModel | undefined;
      try {
        model = await amqp.connect(this.url, { clientProperties: { connection_name: this.connectionName } });
        model.on('error', (error: Error) => this.logger.warn?.(`AMQP connection error: ${error.message}`));
        model.on('blocked', (reason: string) => this.logger.warn?.(`AMQP connection blocked by the broker: ${reason}`));
        model.on('unblocked', () => this.logger.log(`AMQP connection unblocked`));
        const m = model;
        let lost = false;
        m.on('close', (error?: Error) => { lost = true; this.handleClose(m, error); });
        if (this.closing) break;
        for (const setup of this.setups) await setup(model);
        if (this.closing) break;
        if (lost) throw new MessagingError('connection closed during setup');
        this.model = model;
        this.lastError = undefined;
        this.status$.next('connected');
        for (const w of this.waiters) w.resolve(model);
        this.waiters.clear();
        return;
      } catch (error) {
        this.lastError = error;
        if (model) await model.close().catch(() => undefined);
        if (this.closing) break;
        this.logger.warn?.(`AMQP connection to ${this.safeUrl} failed (${errorText(error)}); retrying in ${delay} ms`);
        if (this.status$.value !== 'reconnecting') this.status$.next('reconnecting');
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.options.reconnectDelay.max);
      }
    }
    if (this.closing) await this.model?.close().catch(() => undefined);
  }

  private handleClose(model: AmqpModel, error?: Error): void {
    if (model !== this.model) return;
    this.model = undefined;
    if (this.closing) return;
    this.lastError = error;
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

  /** Closes channels (teardowns) first, then the connection; stops reconnecting. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearTimeout(this.sleepTimer);
    this.wake?.();
    for (const w of this.waiters) w.reject(new MessagingError('the AMQP connection was closed'));
    this.waiters.clear();
    for (const teardown of this.teardowns) await teardown().catch((error) => this.logger.warn?.(`AMQP close: ${errorText(error)}`));
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => undefined);
    await this.loop?.catch(() => undefined);
    this.status$.next('disconnected');
  }
}

function withHeartbeat(url: string, heartbeat: number): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=${heartbeat}`;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
