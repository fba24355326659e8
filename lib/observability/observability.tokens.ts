/** The MessagingTracing instance when `tracing: true`, else undefined (server and client take it @Optional). */
export const MESSAGING_TRACING = Symbol('MESSAGING_TRACING');
