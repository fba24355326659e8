import type { LoggerService } from '@nestjs/common';
import { BehaviorSubject } from 'rxjs';
import { MessagingError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type {
  Broker,
  BrokerHealth,
  BrokerStatus,
  DeadLetterDepth,
  QueueDepth,
  DeliveryHandler,
  OutboundMessage,
  QueueMessage,
  QueuePlan,
  RejectionListener,
} from '../transport/broker.js';
import { sleep } from '../sleep.js';
import { checkAwsConfiguration, createClients, type AwsClients } from './clients.js';
import { SqsConsumer, stopBoundMs } from './consumer.js';
import { sqsDeadLetterQueueName, queueName, validateQueuePlans } from './naming.js';
import { OrphanSweep } from './orphan-sweep.js';
import { SnsSqsProvisioner, type ProvisionedQueue } from './provisioner.js';
import { SnsPublisher } from './publisher.js';
import { SqsQueueSender } from './queue-sender.js';
import { LargePayloads } from './large-payload/large-payloads.js';
import type { BrokerRedrive } from '../transport/settlement-log.js';

/**
 * The RedrivePolicy the library gives a queue it owns (provisioning 'create', checked by 'verify', trusted by 'off'):
 * SQS itself moves a message to the dead-letter queue only when the library's own move failed.
 */
function redriveOfPlan(plan: QueuePlan): BrokerRedrive | undefined {
  const deadLetterQueue = sqsDeadLetterQueueName(plan);
  return plan.existingQueue === undefined && deadLetterQueue ? { deadLetterQueue, maxReceiveCount: plan.maxReceiveCount } : undefined;
}

/** The SNS+SQS transport: wires naming checks, provisioning, consumers and the batching publisher. */
export class SnsSqsBroker implements Broker {
  readonly status$ = new BehaviorSubject<BrokerStatus>('connected');
  private readonly clients: AwsClients;
  private readonly provisioner: SnsSqsProvisioner;
  private readonly publisher: SnsPublisher;
  private readonly queueSender: SqsQueueSender;
  private readonly orphans: OrphanSweep;
  private readonly largePayloads?: LargePayloads;
  private swept = false;
  /** When the shutdown under way runs out of time (drain deadline + grace); calls still in flight are cut off then. */
  private stopDeadline?: number;
  private readonly provisioned = new Map<string, ProvisionedQueue>();
  private readonly consumers = new Map<string, SqsConsumer>();
  private closed = false;
  private configured?: Promise<void>;
  private configurationChecked = false;

  constructor(
    private readonly options: ResolvedMessagingOptions,
    private readonly logger: LoggerService,
  ) {
    this.clients = createClients(options.snsSqs);
    const { largePayload } = options.snsSqs;
    if (largePayload) this.largePayloads = new LargePayloads(options.snsSqs, largePayload, options.maxDecodedBytes, logger);
    this.provisioner = new SnsSqsProvisioner(this.clients, options, logger);
    const sending = {
      clients: this.clients,
      logger,
      largePayloads: this.largePayloads,
      contentBasedDeduplication: options.snsSqs.contentBasedDeduplication,
    };
    this.publisher = new SnsPublisher(sending, (pattern, fifo) => this.provisioner.topicArn(pattern, fifo), options.topicPrefix);
    this.queueSender = new SqsQueueSender(sending, options.queueNamePrefix);
    this.orphans = new OrphanSweep(this.clients, this.provisioner, options, logger);
  }

  validate(queues: readonly QueuePlan[]): void {
    validateQueuePlans(queues, this.options.topicPrefix);
  }

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    await this.checkConfiguration();
    for (const queue of await this.provisioner.provision(queues)) this.provisioned.set(queue.plan.name, queue);
    // The sweep deletes queues: only a broker that provisions may do it (verify/off allow no competing: false queues).
    if (!this.swept && this.options.provisioning === 'create') {
      this.swept = true;
      // this process's own queues and their dead-letter queues (which never carry the per-process tag) are not read
      const own = [...this.provisioned.values()].flatMap((q) => [queueName(q.plan), sqsDeadLetterQueueName(q.plan) ?? []].flat());
      await this.orphans.sweep(new Set(own));
    }
    this.orphans.keepAlive([...this.provisioned.values()].filter((q) => !q.plan.competing).map((q) => q.url));
    const rescanMs = this.options.snsSqs.wildcardRescanMs;
    if (rescanMs !== undefined && this.options.provisioning === 'create') {
      this.provisioner.wildcards.startRescan(rescanMs, async (expanded) => {
        for (const queue of await this.provisioner.provision([expanded])) this.provisioned.set(queue.plan.name, queue);
      });
    }
  }

  async consume(plan: QueuePlan, handler: DeliveryHandler, onRejected?: RejectionListener): Promise<void> {
    let queue = this.provisioned.get(plan.name);
    if (!queue) {
      await this.provision([plan]);
      queue = this.provisioned.get(plan.name)!;
    }
    if (this.consumers.has(plan.name))
      throw new MessagingError(`Queue ${plan.name} is already being consumed; give each @EventPattern subscription one queue`);
    const consumer = new SqsConsumer(
      this.clients.sqs,
      {
        // a queue-only plan carries the existing queue's own visibility timeout once looked up
        plan: plan.existingQueue !== undefined ? queue.plan : plan,
        queueUrl: queue.url,
        deadLetterUrl: queue.deadLetter?.url,
        topicPrefix: this.options.topicPrefix,
        waitTimeSeconds: this.options.snsSqs.waitTimeSeconds,
        requestTimeout: this.options.snsSqs.requestTimeout,
        largePayloads: this.largePayloads,
        onRejected,
        redrive: queue.redrive ?? redriveOfPlan(queue.plan),
      },
      this.largePayloads ? this.largePayloads.wrap(handler, onRejected) : handler,
      this.logger,
    );
    this.consumers.set(plan.name, consumer);
    consumer.start();
  }

  async stopConsuming(drainTimeoutMs: number): Promise<void> {
    this.stopDeadline ??= Date.now() + stopBoundMs(drainTimeoutMs, this.options.snsSqs.waitTimeSeconds);
    const cutoff = new AbortController();
    const timer = setTimeout(() => cutoff.abort(), Math.max(0, this.stopDeadline - Date.now()));
    try {
      const consumers = [...this.consumers.values()];
      this.consumers.clear();
      await this.provisioner.wildcards.stop();
      await this.orphans.stop();
      await Promise.all(consumers.map((c) => c.stop(drainTimeoutMs)));
      const unique = [...this.provisioned.values()].filter((q) => !q.plan.competing);
      await Promise.all(
        unique.map(async (q) => {
          await this.provisioner.remove({ ...q, name: q.plan.name }, cutoff.signal);
          this.provisioned.delete(q.plan.name);
        }),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  publish(message: OutboundMessage): Promise<void> {
    if (!this.configurationChecked) return this.checkConfiguration().then(() => this.publisher.publish(message));
    return this.publisher.publish(message);
  }

  sendToQueue(message: QueueMessage): Promise<void> {
    if (!this.configurationChecked) return this.checkConfiguration().then(() => this.queueSender.send(message));
    return this.queueSender.send(message);
  }

  /** SNS+SQS has no connection to lose: health is the consumers' receive loops and their failure streaks. */
  health(): BrokerHealth {
    return { connected: !this.closed, consumers: [...this.consumers.values()].map((c) => c.health()) };
  }

  async deadLetterDepths(): Promise<DeadLetterDepth[]> {
    const queues = [...this.provisioned.values()].filter((q) => q.deadLetter && q.plan.deadLetter);
    return Promise.all(
      queues.map(async (q) => ({
        queue: q.plan.name,
        deadLetterQueue: sqsDeadLetterQueueName(q.plan) ?? q.plan.deadLetter!.name,
        messages: await this.messagesIn(q.deadLetter!.url),
      })),
    );
  }

  async queueDepths(): Promise<QueueDepth[]> {
    return Promise.all(
      [...this.provisioned.values()].map(async (q) => {
        const [messages, deadLetterMessages] = await Promise.all([
          this.messagesIn(q.url),
          q.deadLetter && q.plan.deadLetter ? this.messagesIn(q.deadLetter.url) : undefined,
        ]);
        return deadLetterMessages === undefined
          ? { queue: q.plan.name, messages }
          : {
              queue: q.plan.name,
              messages,
              deadLetterQueue: sqsDeadLetterQueueName(q.plan) ?? q.plan.deadLetter!.name,
              deadLetterMessages,
            };
      }),
    );
  }

  private async messagesIn(url: string): Promise<number> {
    const { Attributes = {} } = await this.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(Attributes.ApproximateNumberOfMessages ?? 0);
  }

  /** Once per broker: region and credentials resolve, or a clear error (a failed check is retried on the next call). */
  private checkConfiguration(): Promise<void> {
    this.configured ??= Promise.all([checkAwsConfiguration(this.clients, this.options.snsSqs), this.largePayloads?.load()]).then(
      () => {
        this.configurationChecked = true;
      },
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
    await this.provisioner.wildcards.stop();
    await this.orphans.stop();
    // Emits still in flight get what is left of the drain time; destroying the clients below ends any that hang.
    const deadline = this.stopDeadline ?? Date.now() + stopBoundMs(this.options.drainTimeout, this.options.snsSqs.waitTimeSeconds);
    const timeout = new AbortController();
    await Promise.race([
      Promise.all([this.publisher.flush(), this.queueSender.flush()]),
      sleep(Math.max(0, deadline - Date.now()), timeout.signal),
    ]);
    timeout.abort();
    this.publisher.abort();
    this.queueSender.abort();
    this.provisioner.close();
    await this.largePayloads?.close(Math.max(0, deadline - Date.now()));
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
