import { DEFAULT_CONNECTION } from './options/connection-names.js';

/** The options after validation, with defaults filled in. */
export const MESSAGING_OPTIONS = Symbol('MESSAGING_OPTIONS');
/** The transport's Broker instance, shared by MessagingServer and MessagingClient. */
export const MESSAGING_BROKER = Symbol('MESSAGING_BROKER');
/** The TransportDefinition of the module's transport (internal: the server's name rules and topology description). */
export const MESSAGING_TRANSPORT = Symbol('MESSAGING_TRANSPORT');
/** The module's default envelope instance. */
export const MESSAGING_ENVELOPE = Symbol('MESSAGING_ENVELOPE');
/** Every connection of the app (a ConnectionList), for the health indicator: provided by the default MessagingModule. */
export const MESSAGING_CONNECTIONS = Symbol('MESSAGING_CONNECTIONS');
/** The BrokerFactory of each connection (internal: the testing kit replaces it to give every connection an in-memory broker). */
export const MESSAGING_BROKER_FACTORY = Symbol('MESSAGING_BROKER_FACTORY');

const namedTokenDescription = (what: string, connection: string) => `${what} of messaging connection '${connection}'`;
const NAMED_BROKER = new RegExp(`^${namedTokenDescription('broker', '(.+)')}$`);

/**
 * A named connection's provider token for `what` (`'broker'`, `'options'`, ...): a symbol of its own, so that Nest's
 * app-wide lookups (`app.get(MESSAGING_BROKER)`) keep finding the default connection's.
 */
export function namedConnectionToken(what: string, connection: string): symbol {
  return Symbol(namedTokenDescription(what, connection));
}

/**
 * The connection whose broker a provider token is (DEFAULT_CONNECTION for MESSAGING_BROKER), read from the token's
 * description so that it holds across copies of this library (the topology CLI and the app may load different
 * builds); undefined for any other token.
 */
export function brokerTokenConnection(token: unknown): string | undefined {
  if (typeof token !== 'symbol') return undefined;
  if (token.description === MESSAGING_BROKER.description) return DEFAULT_CONNECTION;
  return NAMED_BROKER.exec(token.description ?? '')?.[1];
}
