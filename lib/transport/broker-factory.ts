import type { LoggerService } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { requirePackages } from '../optional-package.js';
import type { Broker } from './broker.js';

/**
 * Loads only the transport in use, so an AMQP service never loads the AWS SDK and the other way round; a missing
 * client package fails here, at startup, naming the package and the install command.
 */
export async function createBroker(options: ResolvedMessagingOptions, logger: LoggerService): Promise<Broker> {
  if (options.transport === 'sns-sqs') {
    await requirePackages(
      [
        { name: '@aws-sdk/client-sns', load: () => import('@aws-sdk/client-sns') },
        { name: '@aws-sdk/client-sqs', load: () => import('@aws-sdk/client-sqs') },
      ],
      "transport 'sns-sqs'",
    );
    const { SnsSqsBroker } = await import('../sns-sqs/sns-sqs.broker.js');
    return new SnsSqsBroker(options, logger);
  }
  await requirePackages([{ name: 'amqplib', load: () => import('amqplib') }], "transport 'amqp'");
  const { AmqpBroker } = await import('../amqp/amqp.broker.js');
  return new AmqpBroker(options, logger);
}
