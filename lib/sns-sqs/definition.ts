import { tomodachiSqsQueueName } from '../naming/tomodachi-names.js';
import type { TransportDefinition } from '../transport/transport-definition.js';
import { describeSnsSqsTopology } from './describe-topology.js';
import { sqsDeadLetterQueueNameOf } from './naming.js';

/** SNS+SQS. The broker and the admin backend (and with them the AWS SDK) load only when created. */
export const snsSqsTransport: TransportDefinition = {
  name: 'sns-sqs',
  packages: [
    { name: '@aws-sdk/client-sns', load: () => import('@aws-sdk/client-sns') },
    { name: '@aws-sdk/client-sqs', load: () => import('@aws-sdk/client-sqs') },
  ],
  queueNames: {
    // SQS allows 80 characters; 75 leaves room for the `.fifo` the broker appends
    generatedNameMax: 75,
    tomodachiQueueName: (input) => tomodachiSqsQueueName({ ...input, fifo: false }),
    deadLetterQueueName: sqsDeadLetterQueueNameOf,
    isFifoQueueName: (name) => name.endsWith('.fifo'),
  },
  defaultConcurrency: (options) => options.concurrency,
  tracing: { system: 'aws_sqs' },
  async createBroker(options, logger) {
    const { SnsSqsBroker } = await import('./sns-sqs.broker.js');
    return new SnsSqsBroker(options, logger);
  },
  async createAdminBackend(options, broker) {
    const [{ SnsSqsAdmin }, { adminErrorOfAws }] = await Promise.all([
      import('./admin/sns-sqs-admin.js'),
      import('./admin/aws-refusals.js'),
    ]);
    const clients = broker.unwrap() as ConstructorParameters<typeof SnsSqsAdmin>[0];
    return { backend: new SnsSqsAdmin(clients, options), translateError: adminErrorOfAws };
  },
  describeTopology: describeSnsSqsTopology,
  connectionOptionsFromEnv(env) {
    const credentials =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
        : undefined;
    return { snsSqs: { region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION, endpoint: env.AWS_ENDPOINT_URL, credentials } };
  },
};
