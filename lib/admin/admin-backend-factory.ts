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
    const [{ SnsSqsAdmin }, { adminErrorOfAws }] = await Promise.all([
      import('./sns-sqs/sns-sqs-admin.js'),
      import('./sns-sqs/aws-refusals.js'),
    ]);
    return withBrokerErrors(new SnsSqsAdmin(broker.unwrap() as ConstructorParameters<typeof SnsSqsAdmin>[0], options), adminErrorOfAws);
  }
  await requirePackages([{ name: 'amqplib', load: () => import('amqplib') }], 'MessagingAdminService on transport amqp');
  const [{ AmqpAdmin }, { adminErrorOfAmqp }] = await Promise.all([import('./amqp/amqp-admin.js'), import('./amqp/amqp-refusals.js')]);
  return withBrokerErrors(
    new AmqpAdmin(options, () => broker.unwrap() as ReturnType<ConstructorParameters<typeof AmqpAdmin>[1]>),
    adminErrorOfAmqp,
  );
}

/**
 * The backend with every operation's broker errors turned into the admin errors the HTTP API answers with a status
 * (409 refused, 502 failed, 503 unavailable): one translation per transport instead of one per call site.
 */
function withBrokerErrors(backend: AdminBackend, translate: (operation: string, error: unknown) => unknown): AdminBackend {
  return new Proxy(backend, {
    get(target, key, receiver) {
      const member: unknown = Reflect.get(target, key, receiver);
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]) => {
        try {
          return await (member as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw translate(String(key), error);
        }
      };
    },
  });
}
