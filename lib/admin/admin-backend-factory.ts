import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { requirePackages } from '../optional-package.js';
import type { Broker } from '../transport/broker.js';
import type { AdminBackend } from './admin-backend.js';

/** Loads the admin operations of the module's transport only (the AWS SDK and amqplib are optional peers). */
export async function createAdminBackend(options: ResolvedMessagingOptions, broker: Broker): Promise<AdminBackend> {
  if (options.transport === 'sns-sqs') {
    await requirePackages(
      [
        { name: '@aws-sdk/client-sns', load: () => import('@aws-sdk/client-sns') },
        { name: '@aws-sdk/client-sqs', load: () => import('@aws-sdk/client-sqs') },
      ],
      'MessagingAdminService on transport sns-sqs',
    );
    const { SnsSqsAdmin } = await import('./sns-sqs/sns-sqs-admin.js');
    return new SnsSqsAdmin(broker.unwrap() as ConstructorParameters<typeof SnsSqsAdmin>[0], options);
  }
  await requirePackages([{ name: 'amqplib', load: () => import('amqplib') }], 'MessagingAdminService on transport amqp');
  const { AmqpAdmin } = await import('./amqp/amqp-admin.js');
  return new AmqpAdmin(options, () => broker.unwrap() as ReturnType<ConstructorParameters<typeof AmqpAdmin>[1]>);
}
