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
import { MessagingError } from '../errors.js';
import { EnvelopeResolver } from '../envelopes/envelope-resolver.js';
import { JsonEnvelope } from '../envelopes/json.envelope.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { ServiceIdentity } from '../service-identity.js';
import type { Broker, BrokerStatus } from '../transport/broker.js';
import type { TransportDefinition } from '../transport/transport-definition.js';
import { createDeliveryDispatcher, type ResolvedRoute } from './delivery-dispatcher.js';
import { knownGlobalFilters, planFastPaths } from './handler-fast-path.js';
import { handlerNames } from './handler-names.js';
import { AttachmentWatch } from './nest-internals.js';
import { planQueues } from './subscription-planner.js';
import { controllerHandlers } from './controller-handlers.js';
import type { MessagingTopology } from '../topology/topology.types.js';

/**
 * The Nest transport strategy: turns @EventPattern handlers into queues and subscriptions, consumes them through
 * the configured broker, and acks a message only after its handler resolved.
 */
@Injectable()
export class MessagingServer extends Server<Record<string, Function>, BrokerStatus> implements CustomTransportStrategy {
  readonly propagatesEventHandlerErrors = true;
  protected readonly logger = new Logger(MessagingServer.name);
  private statusSubscription?: Subscription;
  private listening = false;
  private started = false;
  private readonly observers = new DeliveryObservers();
  /**
   * What happens to messages: `received`, `handled`, `failed` (attempt, reason, willRetry), `dead-lettered` (reason),
   * and broker `status` changes. Events are only built while someone subscribes.
   */
  readonly events$: Observable<MessagingEvent> = this.observers.events.asObservable();

  constructor(
    @Inject(MESSAGING_OPTIONS) private readonly options: ResolvedMessagingOptions,
    @Inject(MESSAGING_BROKER) private readonly broker: Broker,
    @Inject(MESSAGING_TRANSPORT) private readonly transport: TransportDefinition,
    private readonly envelopes: EnvelopeResolver,
    private readonly identity: ServiceIdentity,
    @Optional() @Inject(MESSAGING_TRACING) private readonly tracing?: MessagingTracing,
    @Optional() private readonly modules?: ModulesContainer,
    @Optional() private readonly appConfig?: ApplicationConfig,
    @Optional() private readonly adapterHost?: HttpAdapterHost,
  ) {
    super();
    this.attachment = new AttachmentWatch(modules, this, () => this.messageHandlers.size);
  }

  /**
   * Told of every delivery with plain arguments (no event object per message), as events$ subscribers are with
   * events: MessagingMetrics listens this way. Returns the function that removes the listener.
   */
  addDeliveryListener(listener: DeliveryListener): () => void {
    return this.observers.add(listener);
  }

  /** Whether connectMicroservice registered the handlers as it attached this server (see planFastPaths). */
  private readonly attachment: AttachmentWatch;

  /** True once Nest started this strategy (connectMicroservice / createMicroservice, then start). */
  get isStarted(): boolean {
    return this.started || this.messageHandlers.size > 0;
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    this.started = true;
    try {
      this.statusSubscription ??= this.broker.status$.subscribe((status) => {
        this._status$.next(status);
        if (this.observers.events.observed) this.observers.events.next({ type: 'status', transport: this.options.transport, status });
      });
      const queues = this.planHandlers(this.messageHandlers);
      const plans = queues.map((q) => q.plan);
      this.broker.validate(plans);
      const nest = { modules: this.modules, appConfig: this.appConfig, adapterHost: this.adapterHost, watch: this.attachment };
      const fastPaths = planFastPaths(nest);
      const failureScope = knownGlobalFilters(nest);
      const dispatchers = await Promise.all(
        queues.map(async ({ plan, routes }) => {
          const resolved = await Promise.all(
            routes.map(async (route): Promise<ResolvedRoute> => ({
              ...route,
              envelopeInstance: await this.envelopes.resolve(route.envelope ?? this.options.envelope ?? JsonEnvelope),
              direct: fastPaths.directFor(route.pattern, route.handler),
            })),
          );
          const dispatch = createDeliveryDispatcher(
            plan.name,
            resolved,
            (r) => this.transformToObservable(r),
            this.logger,
            this.options.maxDecodedBytes,
            failureScope,
          );
          return {
            plan,
            routes: resolved,
            dispatch: observeDeliveries(dispatch, plan, resolved, this.options.transport, this.observers, this.tracing),
          };
        }),
      );
      const envelopes = new Set(dispatchers.flatMap(({ routes }) => routes.map((route) => route.envelopeInstance)));
      for (const envelope of envelopes) await envelope.prepare?.();
      await this.broker.provision(plans);
      for (const { plan, dispatch } of dispatchers)
        await this.broker.consume(plan, dispatch, observeRejections(plan, this.options.transport, this.observers));
      this.listening = true;
      this.logger.log(
        `Consuming ${plans.length} queue(s) over ${this.options.transport}: ${plans.map((p) => p.name).join(', ') || 'none'}`,
      );
      callback();
    } catch (error) {
      callback(error);
    }
  }

  /**
   * The topics, queues (with dead-letter queue, redrive, visibility timeout, KMS, tags, policy) and subscriptions the
   * handlers need, from the same plan listen() provisions from. No I/O: works before (or without) a broker connection;
   * before the microservice is connected the handlers are read from the controllers. See lib/topology/.
   */
  describeTopology(): MessagingTopology {
    const handlers = this.messageHandlers.size > 0 ? this.messageHandlers : controllerHandlers(this.modules);
    const queues = this.planHandlers(handlers);
    return this.transport.describeTopology(
      queues.map((q) => q.plan),
      this.options,
    );
  }

  /** The handlers' queues; an extra the transport would ignore (visibilityTimeout on AMQP, ...) fails planning. */
  private planHandlers(handlers: Map<string, MessageHandler>) {
    return planQueues(handlers, this.options, this.transport.queueNames, this.identity.uuid, handlerNames(this.modules));
  }

  /** Stops receiving and drains in-flight handlers; the connection itself closes with the application. */
  async close(): Promise<void> {
    if (this.listening) {
      this.listening = false;
      await this.broker.stopConsuming(this.options.drainTimeout);
    }
    this.statusSubscription?.unsubscribe();
    this.statusSubscription = undefined;
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
