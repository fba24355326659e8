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
