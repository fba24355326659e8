import type { LoggerService } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../options-validation.js';
import type { Broker } from './broker.js';

/** Loads only the transport in use, so an AMQP service never loads the AWS SDK and the other way round. */
export async function createBroker(options: ResolvedMessagingOptions, logger: LoggerService): Promise<Broker> {
  if (options.transport === 'sns-sqs') {
    const { SnsSqsBroker } = await import('../sns-sqs/sns-sqs.broker.js');
    return new SnsSqsBroker(options, logger);
  }
  const { AmqpBroker } = await import('../amqp/amqp.broker.js');
  return new AmqpBroker(options, logger);
}
