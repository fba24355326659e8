import type { TransportName } from '../messaging.options.js';
import type { TransportDefinition } from './transport-definition.js';

/** Each transport's definition, imported only when chosen: an AMQP service never loads lib/sns-sqs, and the other way round. */
const DEFINITIONS: Record<TransportName, () => Promise<TransportDefinition>> = {
  'sns-sqs': async () => (await import('../sns-sqs/definition.js')).snsSqsTransport,
  amqp: async () => (await import('../amqp/definition.js')).amqpTransport,
};

export const TRANSPORT_NAMES = Object.keys(DEFINITIONS) as TransportName[];

/**
 * The one place a transport is chosen. The definition itself loads no optional package (the testing kit and the
 * topology CLI describe an app without them): createBroker and createAdminBackend check them first.
 */
export function loadTransport(name: TransportName): Promise<TransportDefinition> {
  return DEFINITIONS[name]();
}
