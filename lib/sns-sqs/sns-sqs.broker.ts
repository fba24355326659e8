import type { LoggerService } from '@nestjs/common';
import { BehaviorSubject } from 'rxjs';
import { MessagingError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../options-validation.js';
import type { Broker, BrokerStatus, DeliveryHandler, OutboundMessage, QueuePlan } from '../transport/broker.js';
import { checkAwsConfiguration, createClients, type AwsClients } from './clients.js';
import { QueueConsumer } from './consumer.js';
import { validateQueuePlans } from './naming.js';
import { Provisioner, type ProvisionedQueue } from './provisioner.js';
import { Publisher } from './publisher.js';

/** The SNS+SQS transport: wires naming checks, provisioning, consumers and the batching publisher. */
export class SnsSqsBroker implements Broker {
  readonly status$ = new BehaviorSubject<BrokerStatus>('connected');
  private readonly clients: AwsClients;
  private readonly provisioner: Provisioner;
  private readonly publisher: Publisher;
  private readonly provisioned = new Map<string, ProvisionedQueue>();
  private readonly consumers = new Map<string, QueueConsumer>();
  private closed = false;
  private configured?: Promise<void>;
  private configurationChecked = false;

  constructor(
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {
    this.clients = createClients(options.snsSqs);
    this.provisioner = new Provisioner(this.clients, options, logger);
    this.publisher = new Publisher(this.clients, (pattern, fifo) => this.provisioner.topicArn(pattern, fifo), logger);
  }

  validate(queues: readonly QueuePlan[]): void {
    validateQueuePlans(queues, this.options.topicPrefix);
  }

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    await this.checkConfiguration();
    for (const queue of await this.provisioner.provision(queues)) this.provisioned.set(queue.plan.name, queue);
  }

  async consume(plan: QueuePlan, handler: DeliveryHandler): Promise<void> {
    let queue = this.provisioned.get(plan.name);
    if (!queue) {
      await this.provision([plan]);
      queue = this.provisioned.get(plan.name)!;
    }
    if (this.consumers.has(plan.name)) throw new MessagingError(`Queue ${plan.name} is already being consumed; give each @EventPattern subscription one queue`);
    const consumer = new QueueConsumer(this.clients.sqs, {
      plan,
      queueUrl: queue.url,
      deadLetterUrl: queue.deadLetter?.url,
      topicPrefix: this.options.topicPrefix,
      waitTimeSeconds: this.options.snsSqs.waitTimeSeconds,
    }, handler, this.logger);
    this.consumers.set(plan.name, consumer);
    consumer.start();
  }

  async stopConsuming(drainTimeoutMs: number): Promise<void> {
    const consumers = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.all(consumers.map((c) => c.stop(drainTimeoutMs)));
    const unique = [...this.provisioned.values()].filter((q) => !q.plan.competing);
    await Promise.all(unique.map(async (q) => {
      await this.provisioner.remove(q);
      this.provisioned.delete(q.plan.name);
    }));
  }

  publish(message: OutboundMessage): Promise<void> {
    if (!this.configurationChecked) return this.checkConfiguration().then(() => this.publisher.publish(message));
    return this.publisher.publish(message);
  }

  /** Once per broker: region and credentials resolve, or a clear error (a failed check is retried on the next call). */
  private checkConfiguration(): Promise<void> {
    this.configured ??= checkAwsConfiguration(this.clients, this.options.snsSqs).then(
      () => { this.configurationChecked = true; },
      (error: unknown) => {
        this.configured = undefined;
        throw error;
      },
    );
    return this.configured;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.consumers.size > 0) await this.stopConsuming(this.options.drainTimeout);
    await this.publisher.flush();
    this.closed = true;
    this.clients.sns.destroy();
    this.clients.sqs.destroy();
    this.status$.next('disconnected');
    this.status$.complete();
  }

  unwrap(): { sns: AwsClients['sns']; sqs: AwsClients['sqs'] } {
    return { sns: this.clients.sns, sqs: this.clients.sqs };
  }
}
