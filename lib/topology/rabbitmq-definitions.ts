import { MessagingError } from '../errors.js';
import type { MessagingTopology } from './topology.types.js';

export interface RabbitMqDefinitions {
  exchanges: Array<{ name: string; vhost: string; type: 'topic'; durable: true; auto_delete: false; internal: false; arguments: object }>;
  queues: Array<{ name: string; vhost: string; durable: boolean; auto_delete: boolean; arguments: Record<string, unknown> }>;
  bindings: Array<{
    source: string;
    vhost: string;
    destination: string;
    destination_type: 'queue';
    routing_key: string;
    arguments: object;
  }>;
}

/**
 * A RabbitMQ definitions document (`rabbitmqctl import_definitions <file>`): the topic exchanges (not `amq.*` ones,
 * which exist already), the queues with their arguments, and the bindings. Per-process queues are left out.
 */
export function toRabbitMqDefinitions(topology: MessagingTopology, vhost = '/'): RabbitMqDefinitions {
  if (topology.transport !== 'amqp')
    throw new MessagingError(
      `RabbitMQ definitions describe AMQP resources; this topology's transport is '${topology.transport}': describe an AMQP connection (describeTopology({ connection }), the topology CLI's --connection)`,
    );
  return {
    exchanges: topology.topics
      .filter((t) => !t.predeclared)
      .map((t) => ({ name: t.name, vhost, type: 'topic', durable: true, auto_delete: false, internal: false, arguments: {} })),
    queues: topology.queues
      .filter((q) => !q.perProcess && q.amqp)
      .map((q) => ({ name: q.name, vhost, durable: q.amqp!.durable, auto_delete: q.amqp!.autoDelete, arguments: q.amqp!.arguments })),
    bindings: topology.subscriptions
      .filter((s) => !s.perProcess)
      .map((s) => ({
        source: s.topic,
        vhost,
        destination: s.queue,
        destination_type: 'queue',
        routing_key: s.routingKey ?? s.pattern,
        arguments: {},
      })),
  };
}
