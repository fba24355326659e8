import { deadLetterQueueName } from '../naming.js';
import { tomodachiAmqpQueueName } from '../naming/tomodachi-names.js';
import type { TransportDefinition } from '../transport/transport-definition.js';
import { describeAmqpTopology } from './describe-topology.js';

/** AMQP 0-9-1 (RabbitMQ). The broker and the admin backend (and with them amqplib) load only when created. */
export const amqpTransport: TransportDefinition = {
  name: 'amqp',
  packages: [{ name: 'amqplib', load: () => import('amqplib') }],
  queueNames: {
    // RabbitMQ allows 255 bytes; generated names keep the SQS length they have always had, so they do not change
    generatedNameMax: 75,
    tomodachiQueueName: (input) => tomodachiAmqpQueueName(input),
    deadLetterQueueName,
    isFifoQueueName: () => false,
  },
  defaultConcurrency: (options) => options.amqp.prefetch,
  tracing: { system: 'rabbitmq', deliveryTopicAttribute: 'messaging.rabbitmq.destination.routing_key' },
  async createBroker(options, logger) {
    const { AmqpBroker } = await import('./amqp.broker.js');
    return new AmqpBroker(options, logger);
  },
  async createAdminBackend(options, broker) {
    const [{ AmqpAdmin }, { adminErrorOfAmqp }] = await Promise.all([import('./admin/amqp-admin.js'), import('./admin/amqp-refusals.js')]);
    const connection = () => broker.unwrap() as ReturnType<ConstructorParameters<typeof AmqpAdmin>[1]>;
    return { backend: new AmqpAdmin(options, connection), translateError: adminErrorOfAmqp };
  },
  describeTopology: describeAmqpTopology,
  connectionOptionsFromEnv: (env) => ({ amqp: { url: env.AMQP_URL, managementUrl: env.RABBITMQ_MANAGEMENT_URL } }),
};
