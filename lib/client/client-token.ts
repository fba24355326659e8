import { Inject, type InjectionToken } from '@nestjs/common';
import { DEFAULT_CONNECTION } from '../options/connection-names.js';
import { MessagingClient } from './messaging.client.js';

/**
 * The injection token of a connection's MessagingClient: `MessagingClient` itself for the default connection (no name,
 * or `'default'`), else the client of `MessagingModule.forRoot({ name })`.
 */
export function getMessagingClientToken(name?: string): InjectionToken<MessagingClient> {
  return name === undefined || name === DEFAULT_CONNECTION ? MessagingClient : `MessagingClient:${name}`;
}

/** Injects the MessagingClient of the connection named `name` (`MessagingModule.forRoot({ name })`); no name: the default one. */
export function InjectMessagingClient(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMessagingClientToken(name));
}
