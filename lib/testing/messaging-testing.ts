import { randomUUID } from 'node:crypto';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import { MessagingError, UnknownConnectionError } from '../errors.js';
import { connectionOf, DEFAULT_CONNECTION } from '../options/connection-names.js';
import { MessagingServer } from '../server/messaging.server.js';
import { DeadlineWaits } from './deadline-wait.js';
import { InMemoryBroker } from './in-memory-broker.js';
import type {
  EmittedMessage,
  PublishOutcome,
  PublishResult,
  QueueDeliveryResult,
  TestPublishOptions,
  WaitForEmittedOptions,
  WaitOptions,
} from './types.js';

export const DEFAULT_TIMEOUT_MS = 5000;
const SEVERITY: readonly PublishOutcome[] = ['dead-letter', 'retry', 'success', 'filtered'];
const START_HINT =
  'call app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true }) and await app.startAllMicroservices() ' +
  '(or `await MessagingTesting.start(app)`, which does both and app.init()) before publishing';

/** Anything that resolves providers: a TestingModule, an INestApplication or an application context. */
type Resolver = Pick<INestApplicationContext, 'get'>;

/**
 * The testing kit's handle on an app whose broker is in memory: publish messages through the whole Nest pipeline
 * and read their outcome, see what the app emitted, wait for it with a deadline, reset between tests.
 */
export class MessagingTesting {
  private readonly waits = new DeadlineWaits();
  private readonly sender = { name: 'messaging-testing', uuid: randomUUID() };

  /** The broker's envelope and wait deadline: the connection's, as the in-memory broker was made with them. */
  private readonly envelope: MessageEnvelope;
  private readonly timeoutMs: number;

  constructor(
    private readonly broker: InMemoryBroker,
    private readonly server: MessagingServer,
    /** The connection whose broker this kit holds (`default` for the unnamed forRoot). */
    readonly connection: string = DEFAULT_CONNECTION,
  ) {
    this.envelope = broker.envelope;
    this.timeoutMs = broker.timeoutMs;
    broker.onEmit(() => this.waits.notify());
  }

  /**
   * The kit of one connection of an app built with MessagingTestingModule (forRoot or override): the default one, or
   * the one named `connection`. A name the app has no connection for fails with UnknownConnectionError.
   */
  static of(app: Resolver, connection: string = DEFAULT_CONNECTION): MessagingTesting {
    const server = app.get(MessagingServer, { strict: false });
    const connections = server.connections();
    const name = connectionOf(connection);
    const broker = connections.find((c) => c.name === name)?.broker;
    if (broker === undefined)
      throw new UnknownConnectionError(
        name,
        connections.map((c) => c.name),
      );
    if (!(broker instanceof InMemoryBroker)) {
      const [whose, standIn, real] =
        name === DEFAULT_CONNECTION
          ? ["The app's messaging broker", 'MessagingTestingModule.forRoot(options)', 'MessagingModule.forRoot(options)']
          : [
              `The broker of messaging connection '${name}'`,
              `MessagingTestingModule.forRoot({ name: '${name}', ... })`,
              `MessagingModule.forRoot({ name: '${name}', ... })`,
            ];
      throw new MessagingError(
        `${whose} is not the in-memory one: build the test module with ` +
          `MessagingTestingModule.override(Test.createTestingModule({ imports: [AppModule] })), or import ${standIn} instead of ${real}`,
      );
    }
    return kitFor(broker, server, name);
  }

  /**
   * What main.ts does, for a test: connects MessagingServer as the app's microservice strategy (unless it is started
   * already), starts it, initialises the app, and returns the kit of the default connection (or of `connection`).
   */
  static async start(app: INestApplication, connection?: string): Promise<MessagingTesting> {
    const kit = MessagingTesting.of(app, connection);
    if (!kit.server.isStarted) {
      app.connectMicroservice({ strategy: kit.server }, { inheritAppConfig: true });
      await app.startAllMicroservices();
    }
    await app.init();
    return kit;
  }

  /**
   * Publishes `data` on `topic` as another service would: encoded through the module's envelope, fanned out to the
   * queues subscribed to the topic, filter policies applied, each delivery run through the MessagingServer's dispatch
   * (pipes, guards, interceptors, exception filters, handler). Resolves with the outcome once the handlers settled.
   */
  async publish(topic: string, data: unknown, options: TestPublishOptions = {}): Promise<PublishResult> {
    this.assertConsuming(topic);
    const envelope = options.envelope ?? this.envelope;
    const body = await envelope.encode(data, { topic, service: { ...this.sender, ...options.service } });
    return this.deliver(topic, body, options);
  }

  /** Delivers `body` as it would arrive on the wire, not encoded (e.g. a body the envelope cannot decode). */
  async publishBody(
    topic: string,
    body: string | Buffer,
    options: Omit<TestPublishOptions, 'envelope' | 'service'> = {},
  ): Promise<PublishResult> {
    this.assertConsuming(topic);
    return this.deliver(topic, body, options);
  }

  /** What the app emitted, oldest first; only those on `topic` when given. */
  emitted<T = unknown>(topic?: string): EmittedMessage<T>[] {
    const all = this.broker.emitted() as readonly EmittedMessage<T>[];
    return topic === undefined ? [...all] : all.filter((m) => m.topic === topic);
  }

  /** Resolves with the first `count` matching messages emitted on `topic` (already emitted ones count); rejects at the deadline. */
  waitForEmitted<T = unknown>(topic: string, options: WaitForEmittedOptions<T> = {}): Promise<EmittedMessage<T>[]> {
    const count = options.count ?? 1;
    const matching = () => this.emitted<T>(topic).filter((m) => !options.where || options.where(m));
    return this.waits.until(
      () => {
        const found = matching();
        return found.length >= count ? found.slice(0, count) : undefined;
      },
      options.timeoutMs ?? this.timeoutMs,
      () =>
        `expected ${count} message(s) emitted on "${topic}"${options.where ? ' matching the condition' : ''}, saw ${matching().length}; ` +
        `emitted so far: ${this.describeEmitted()}`,
    );
  }

  /** Resolves with the condition's first truthy value; checked on every emit and every 10 ms; rejects at the deadline. */
  waitFor<T>(condition: () => T | undefined | false | null | 0 | '', options: WaitOptions & { description?: string } = {}): Promise<T> {
    return this.waits.until(
      () => condition() || undefined,
      options.timeoutMs ?? this.timeoutMs,
      () => `condition ${options.description ? `"${options.description}" ` : ''}not met`,
    );
  }

  /** The queues the server provisioned (names, dead-letter queues, subscriptions with their filter policies). */
  queues() {
    return this.broker.queues();
  }

  /** Forgets what was emitted and rejects pending waits; call it between tests (beforeEach / afterEach). */
  reset(): void {
    this.broker.clearEmitted();
    this.waits.cancelAll('MessagingTesting.reset() was called while waiting');
  }

  private assertConsuming(topic: string): void {
    if (this.broker.lifecycle !== 'open') {
      throw new MessagingError(`Cannot publish "${topic}": the application was closed`);
    }
    if (!this.server.isStarted) {
      throw new MessagingError(
        `Cannot publish "${topic}": MessagingServer is not started, so no handler is attached. In the test, ${START_HINT}`,
      );
    }
  }

  private async deliver(
    topic: string,
    body: string | Buffer,
    options: Omit<TestPublishOptions, 'envelope' | 'service'>,
  ): Promise<PublishResult> {
    const messageId = options.messageId ?? randomUUID();
    const receiveCount = options.receiveCount ?? 1;
    if (!Number.isInteger(receiveCount) || receiveCount < 1)
      throw new MessagingError(`receiveCount must be an integer of 1 or more, got ${receiveCount}`);
    const attributes = { ...options.attributes };
    const deliveries = await this.broker.deliver(
      { topic, body, attributes, messageId, receiveCount, groupId: options.groupId, raw: { topic, body, attributes, messageId } },
      { queue: options.queue, redeliver: options.redeliver ?? false },
    );
    return summarize(topic, messageId, deliveries);
  }

  private describeEmitted(): string {
    const all = this.broker.emitted();
    if (all.length === 0) return 'nothing';
    return (
      all
        .slice(-10)
        .map((m) => `"${m.topic}" ${safeJson(m.data)}`)
        .join(', ') + (all.length > 10 ? ` (last 10 of ${all.length})` : '')
    );
  }
}

function summarize(topic: string, messageId: string, deliveries: QueueDeliveryResult[]): PublishResult {
  if (deliveries.length === 0) return { topic, messageId, outcome: 'no-subscriber', attempts: 0, deliveries };
  const worst = [...deliveries].sort((a, b) => SEVERITY.indexOf(a.outcome) - SEVERITY.indexOf(b.outcome))[0];
  const { queue: _queue, ...result } = worst;
  return { topic, messageId, ...result, deliveries };
}

function safeJson(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? String(value) : json.length > 200 ? `${json.slice(0, 200)}…` : json;
  } catch {
    return String(value);
  }
}

const kits = new WeakMap<InMemoryBroker, MessagingTesting>();
/** One kit per broker, however it is reached (DI provider or MessagingTesting.of). */
export function kitFor(broker: InMemoryBroker, server: MessagingServer, connection: string): MessagingTesting {
  let kit = kits.get(broker);
  if (!kit) {
    kit = new MessagingTesting(broker, server, connection);
    kits.set(broker, kit);
  }
  return kit;
}
