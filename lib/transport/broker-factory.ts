import type { LoggerService } from '@nestjs/common';
import type { MessageEnvelope } from '../envelopes/message-envelope.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';
import { requirePackages } from '../optional-package.js';
import type { Broker } from './broker.js';
import type { TransportDefinition } from './transport-definition.js';

/** What a connection's broker is made from. */
export interface BrokerRequest {
  /** The connection's name (`default` for the unnamed `MessagingModule.forRoot`). */
  connection: string;
  options: ResolvedMessagingOptions;
  transport: TransportDefinition;
  /** The connection's envelope (the in-memory broker of the testing kit decodes what the app emits with it). */
  envelope: MessageEnvelope;
  logger: LoggerService;
}

/**
 * Makes each connection's broker; provided under MESSAGING_BROKER_FACTORY in every connection's module, so that the
 * testing kit can hand every connection, default and named, an in-memory broker by replacing this one token.
 */
export type BrokerFactory = (request: BrokerRequest) => Promise<Broker> | Broker;

/** The transport's broker; a missing client package fails here, at startup, naming the package and the install command. */
export const createBroker: BrokerFactory = async ({ transport, options, logger }) => {
  await requirePackages(transport.packages, `transport '${transport.name}'`);
  return transport.createBroker(options, logger);
};
