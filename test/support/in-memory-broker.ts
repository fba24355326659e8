import { BehaviorSubject } from 'rxjs';
import type { Broker, BrokerStatus, DeliveryHandler, DeliveryOutcome, InboundDelivery, OutboundMessage, QueuePlan } from '../../lib/transport/broker.js';

/** A broker fake for unit tests: records what the server asks of it and lets a test deliver messages by hand. */
export class InMemoryBroker implements Broker {
  readonly status$ = new BehaviorSubject<BrokerStatus>('connected');
  readonly published: OutboundMessage[] = [];
  readonly provisioned: QueuePlan[] = [];
  readonly consumers = new Map<string, DeliveryHandler>();
  stopped = false;
  closed = false;

  validate(): void {}

  async provision(queues: readonly QueuePlan[]): Promise<void> {
    this.provisioned.push(...queues);
  }

  async consume(queue: QueuePlan, handler: DeliveryHandler): Promise<void> {
    this.consumers.set(queue.name, handler);
  }

  async stopConsuming(): Promise<void> {
    this.stopped = true;
  }

  async publish(message: OutboundMessage): Promise<void> {
    this.published.push(message);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  unwrap(): unknown {
    return this;
  }

  deliver(queueName: string, delivery: Partial<InboundDelivery> & Pick<InboundDelivery, 'topic' | 'body'>): Promise<DeliveryOutcome> {
    const handler = this.consumers.get(queueName);
    if (!handler) throw new Error(`no consumer on ${queueName}; have ${[...this.consumers.keys()].join(', ')}`);
    return handler({ attributes: {}, messageId: 'm-1', receiveCount: 1, raw: {}, ...delivery });
  }
}
