import type { ResolvedMessagingOptions } from '../messaging.options.js';
import type { Broker } from './broker.js';
import type { TransportDefinition } from './transport-definition.js';

/** One `MessagingModule.forRoot`: its name, its options, its transport and its broker. */
export interface Connection {
  readonly name: string;
  readonly options: ResolvedMessagingOptions;
  readonly transport: TransportDefinition;
  readonly broker: Broker;
}

/** Every connection of the app, the default one first; read once the app's modules are created. */
export type ConnectionList = () => readonly Connection[];
