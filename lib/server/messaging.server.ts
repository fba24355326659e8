import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModulesContainer } from '@nestjs/core';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { Observable, Subscription } from 'rxjs';
import { MESSAGING_BROKER, MESSAGING_OPTIONS, MESSAGING_TRANSPORT } from '../constants.js';
import { DeliveryObservers, type DeliveryListener } from '../observability/delivery-observers.js';
import type { MessagingEvent } from '../observability/messaging-event.js';
import { observeDeliveries, observeRejections } from '../observability/observe-deliveries.js';
import { MESSAGING_TRACING } from '../observability/observability.tokens.js';
import type { MessagingTracing } from '../observability/tracing/messaging-tracing.js';
import { ConnectionStartError, MessagingError, MessagingOptionsError, UnknownConnectionError } from '../errors.js';
import { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import { JsonEnvelope } from '../envelopes/json.envelope.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { connectionOf, DEFAULT_CONNECTION } from '../options/connection-names.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import type { TransportDefinition } from '../transport/transport-definition.js';
import { createDeliveryDispatcher, type ResolvedRoute } from './delivery-dispatcher.js';
import { knownGlobalFilters, planFastPaths } from './handler-fast-path.js';
import { handlerNames } from './handler-names.js';
import { AttachmentWatch } from './nest-internals.js';
import { planQueues, type HandlerNameOf } from './subscription-planner.js';
import { controllerHandlers } from './controller-handlers.js';
import { MessagingConnection, namedConnections } from './messaging-connection.js';
import type { ConnectionTopology, MessagingTopology } from '../topology/topology.types.js';

/** Which connection `MessagingServer.describeTopology()` describes. */
export interface DescribeTopologyOptions {
  /** A connection's name (`MessagingModule.forRoot({ name })`); unset or `'default'`: the unnamed forRoot's. */
  connection?: string;
}

/** One connection and the handlers it consumes (their `connection` extra chooses it). */
interface ConnectionHandlers {
  connection: MessagingConnection;
  handlers: Map<string, MessageHandler>;
}

/**
 * The Nest transport strategy: turns @EventPattern handlers into queues and subscriptions, consumes them through
 * the configured broker, and acks a message only after its handler resolved.
 */
@Injectable()
export class MessagingServer extends Server<Record<string, Function>, BrokerStatus> implements CustomTransportStrategy {
  readonly propagatesEventHandlerErrors = true;
  protected readonly logger = new Logger(MessagingServer.name);
  private statusSubscription?: Subscription;
  /** The connections whose consumers were started, drained together on close. */
  private consuming: MessagingConnection[] = [];
  /** Each consumed queue's batch handlers, told to stop waiting for full batches on close. */
  private batchDrains: Array<() => void> = [];
  private started = false;
  /** The handlers of each named connection (`connection` extra), kept apart from the default's messageHandlers. */
  private readonly namedHandlers = new Map<string, Map<string, MessageHandler>>();
  /** The default connection (this module's own) first, then the named ones; found once the app's modules exist. */
  private connectionList?: MessagingConnection[];
  /** The default connection's observers: events$ and the delivery listeners without a connection. */
  private readonly observers = new DeliveryObservers();
  /** Each named connection's delivery listeners (its deliveries are not events$ events: those carry no connection). */
  private readonly namedObservers = new Map<string, DeliveryObservers>();
  /**
   * What happens to messages: `received`, `handled`, `failed` (attempt, reason, willRetry), `dead-lettered` (reason),
   * and broker `status` changes. Events are only built while someone subscribes.
   */
  readonly events$: Observable<MessagingEvent> = this.observers.events.asObservable();

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_TRANSPORT) transport: TransportDefinition,
    envelopes: EnvelopeResolver,
    identity: ServiceIdentity,
    @Optional() @Inject(MESSAGING_TRACING) tracing?: MessagingTracing,
    @Optional() private readonly modules?: ModulesContainer,
    @Optional() private readonly appConfig?: ApplicationConfig,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
    this.attachment = new AttachmentWatch(modules, this, () => this.handlerCount());
    this.ownConnection = new MessagingConnection(DEFAULT_CONNECTION, options, transport, broker, identity, envelopes, tracing);
  }

  private readonly ownConnection: MessagingConnection;

  /**
   * As Nest's Server.addHandler, except that a handler whose `connection` extra names another connection goes to that
   * connection's handlers (several event handlers of one pattern on one connection are chained, as Nest chains them).
   */
  addHandler(pattern: any, callback: MessageHandler, isEventHandler = false, extras: Record<string, any> = {}): void {
    const key = connectionOf(extras.connection);
    if (key === DEFAULT_CONNECTION) return super.addHandler(pattern, callback, isEventHandler, extras);
    const handlers = this.namedHandlers.get(key) ?? new Map<string, MessageHandler>();
    this.namedHandlers.set(key, handlers);
    callback.isEventHandler = isEventHandler;
    callback.extras = extras;
    const normalized = this.normalizePattern(pattern);
    let tail = handlers.get(normalized);
    if (tail === undefined || !isEventHandler) {
      handlers.set(normalized, callback);
      return;
    }
    while (tail.next) tail = tail.next;
    tail.next = callback;
  }

  private handlerCount(): number {
    let count = this.messageHandlers.size;
    for (const handlers of this.namedHandlers.values()) count += handlers.size;
    return count;
  }

  /**
   * Every connection of the app, this module's (`default`) first: what listen() consumes, the health indicator reports
   * and the metrics count. A name given to two `MessagingModule.forRoot` imports fails here.
   */
  connections(): readonly MessagingConnection[] {
    this.connectionList ??= [this.ownConnection, ...namedConnections(this.modules)];
    return this.connectionList;
  }

  /** The handlers Nest registered, by connection name (the default connection's are Nest's own messageHandlers). */
  private registeredHandlers(): Map<string, Map<string, MessageHandler>> {
    return new Map([[DEFAULT_CONNECTION, this.messageHandlers], ...this.namedHandlers]);
  }

  /**
   * Each connection with its handlers (by default the registered ones); a `connection` extra naming no connection of
   * the app fails, naming the known ones.
   */
  private handlersByConnection(byName = this.registeredHandlers()): ConnectionHandlers[] {
    const connections = this.connections();
    const known = connections.map((c) => c.name);
    for (const [name, handlers] of byName) {
      if (known.includes(name)) continue;
      const pattern = [...handlers.keys()][0];
      throw new MessagingOptionsError(
        `@EventPattern('${pattern}').connection`,
        `names no connection of this app (known: ${known.map((n) => `'${n}'`).join(', ')}); import MessagingModule.forRoot({ name: '${name}', ... }) or choose a known one`,
        handlers.get(pattern)?.extras?.connection,
      );
    }
    return connections.map((connection) => ({
      connection,
      handlers: byName.get(connection.name) ?? new Map<string, MessageHandler>(),
    }));
  }

  /**
   * Told of every delivery with plain arguments (no event object per message), as events$ subscribers are with
   * events: MessagingMetrics listens this way. `connection`: the deliveries of that connection (default: the default
   * connection's). Returns the function that removes the listener.
   */
  addDeliveryListener(listener: DeliveryListener, connection: string = DEFAULT_CONNECTION): () => void {
    return this.observersOf(connection).add(listener);
  }

  /**
   * One connection's delivery events, as events$ has the default connection's (`status` events aside, which only the
   * default connection's events$ carries). Built only while someone subscribes.
   */
  eventsOf(connection: string): Observable<MessagingEvent> {
    return this.observersOf(connection).events.asObservable();
  }

  private observersOf(connection: string): DeliveryObservers {
    if (connection === DEFAULT_CONNECTION) return this.observers;
    let observers = this.namedObservers.get(connection);
    if (!observers) this.namedObservers.set(connection, (observers = new DeliveryObservers()));
    return observers;
  }

  /** Whether connectMicroservice registered the handlers as it attached this server (see planFastPaths). */
  private readonly attachment: AttachmentWatch;

  /** True once Nest started this strategy (connectMicroservice / createMicroservice, then start). */
  get isStarted(): boolean {
    return this.started || this.handlerCount() > 0;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    this.started = true;
    try {
      this.statusSubscription ??= this.broker.status$.subscribe((status) => {
        this._status$.next(status);
        if (this.observers.events.observed) this.observers.events.next({ type: 'status', transport: this.options.transport, status });
      });
      const nest = { modules: this.modules, appConfig: this.appConfig, adapterHost: this.adapterHost, watch: this.attachment };
      const fastPaths = planFastPaths(nest);
      if (fastPaths.disabledBecause) this.logger.debug(`Every handler runs through Nest's full RPC pipeline: ${fastPaths.disabledBecause}`);
      const failureScope = knownGlobalFilters(nest);
      const names = handlerNames(this.modules);
      const planned = this.handlersByConnection().map(({ connection, handlers }) => {
        const queues = this.planHandlers(handlers, names, connection);
        connection.broker.validate(queues.map((q) => q.plan));
        return { connection, queues };
      });
      const several = planned.length > 1;
      const results = await Promise.allSettled(
        planned.map(async ({ connection, queues }) => {
          try {
            await this.startConnection(connection, queues, fastPaths, failureScope);
          } catch (error) {
            throw several ? new ConnectionStartError(connection.name, error) : error;
          }
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /** Resolves the routes' envelopes, provisions the connection's queues and starts consuming them. */
  private async startConnection(
    connection: MessagingConnection,
    queues: ReturnType<MessagingServer['planHandlers']>,
    fastPaths: ReturnType<typeof planFastPaths>,
    failureScope: ReturnType<typeof knownGlobalFilters>,
  ): Promise<void> {
    const { options, broker, envelopes: resolver, tracing } = connection;
    const observers = this.observersOf(connection.name);
    const dispatchers = await Promise.all(
      queues.map(async ({ plan, routes }) => {
        const resolved = await Promise.all(
          routes.map(async (route): Promise<ResolvedRoute> => ({
            ...route,
            envelopeInstance: await resolver.resolve(route.envelope ?? options.envelope ?? JsonEnvelope),
            direct: fastPaths.directFor(route.pattern, route.handler),
          })),
        );
        const dispatch = createDeliveryDispatcher(
          plan.name,
          resolved,
          (r) => this.transformToObservable(r),
          this.logger,
          options.maxDecodedBytes,
          failureScope,
          (pattern, size) => observers.batched(plan.name, pattern, size),
        );
        this.batchDrains.push(() => dispatch.drainBatches());
        return { plan, routes: resolved, dispatch: observeDeliveries(dispatch, plan, resolved, options.transport, observers, tracing) };
      }),
    );
    const envelopes = new Set(dispatchers.flatMap(({ routes }) => routes.map((route) => route.envelopeInstance)));
    for (const envelope of envelopes) await envelope.prepare?.();
    const plans = queues.map((q) => q.plan);
    await broker.provision(plans);
    for (const { plan, dispatch } of dispatchers)
      await broker.consume(plan, dispatch, observeRejections(plan, options.transport, observers));
    this.consuming.push(connection);
    const over = connection.name === DEFAULT_CONNECTION ? options.transport : `${options.transport} (connection '${connection.name}')`;
    this.logger.log(`Consuming ${plans.length} queue(s) over ${over}: ${plans.map((p) => p.name).join(', ') || 'none'}`);
  }

  /**
   * The topics, queues (with dead-letter queue, redrive, visibility timeout, KMS, tags, policy) and subscriptions one
   * connection's handlers need, from the same plan listen() provisions from, in that connection's transport's terms.
   * No I/O: works before (or without) a broker connection; before the microservice is connected the handlers are read
   * from the controllers. See lib/topology/.
   *
   * `describeTopology()` describes the default connection (the unnamed `MessagingModule.forRoot`);
   * `describeTopology({ connection: 'partner' })` the named one, whose handlers are those with `connection: 'partner'`.
   * A name the app has no connection for throws UnknownConnectionError, and a handler whose `connection` extra names
   * none fails as listen() does. describeTopologies() describes every connection.
   */
  describeTopology(options: DescribeTopologyOptions = {}): MessagingTopology {
    const name = options.connection ?? DEFAULT_CONNECTION;
    const known = this.connections().map((c) => c.name);
    if (!known.includes(name)) throw new UnknownConnectionError(name, known);
    const described = this.describedHandlers().find(({ connection }) => connection.name === name)!;
    return this.describeConnection(described, handlerNames(this.modules));
  }

  /**
   * Every connection's topology, labelled with its name, the default connection (`'default'`) first, then the named
   * ones: what `describeTopology({ connection })` returns for each. No I/O.
   */
  describeTopologies(): ConnectionTopology[] {
    const names = handlerNames(this.modules);
    return this.describedHandlers().map((entry) => ({
      connection: entry.connection.name,
      topology: this.describeConnection(entry, names),
    }));
  }

  /** Each connection with the handlers to describe: the registered ones once Nest attached this server, else the controllers'. */
  private describedHandlers(): ConnectionHandlers[] {
    return this.handlersByConnection(this.handlerCount() > 0 ? this.registeredHandlers() : controllerHandlers(this.modules));
  }

  private describeConnection({ connection, handlers }: ConnectionHandlers, names: HandlerNameOf): MessagingTopology {
    const queues = this.planHandlers(handlers, names, connection);
    return connection.transport.describeTopology(
      queues.map((q) => q.plan),
      connection.options,
    );
  }

  /** The handlers' queues; an extra the transport would ignore (visibilityTimeout on AMQP, ...) fails planning. */
  private planHandlers(handlers: Map<string, MessageHandler>, names: HandlerNameOf, connection: MessagingConnection) {
    const { options, transport, identity } = connection;
    return planQueues(handlers, options, transport, identity.uuid, names);
  }

  /** Stops receiving and drains in-flight handlers; the connection itself closes with the application. */
  async close(): Promise<void> {
    for (const drain of this.batchDrains.splice(0)) drain();
    const draining = this.consuming.splice(0);
    const stopped = await Promise.allSettled(draining.map(({ broker, options }) => broker.stopConsuming(options.drainTimeout)));
    this.statusSubscription?.unsubscribe();
    this.statusSubscription = undefined;
    const failed = stopped.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  on(event: string, callback: Function): void {
    throw new MessagingError(
      `MessagingServer has no "${event}" event; subscribe to its status observable instead (${callback.name || 'callback'} not registered)`,
    );
  }

  unwrap<T>(): T {
    return this.broker.unwrap() as T;
  }
}
