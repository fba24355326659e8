import type { LoggerService } from '@nestjs/common';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { requirePackages } from '../optional-package.js';
import type { Broker } from './broker.js';
import type { TransportDefinition } from './transport-definition.js';

/** The transport's broker; a missing client package fails here, at startup, naming the package and the install command. */
export async function createBroker(
  transport: TransportDefinition,
  options: ResolvedMessagingOptions,
  logger: LoggerService,
): Promise<Broker> {
  await requirePackages(transport.packages, `transport '${transport.name}'`);
  return transport.createBroker(options, logger);
}
