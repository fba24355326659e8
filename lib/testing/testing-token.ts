import { Inject, type InjectionToken } from '@nestjs/common';
import { isDefaultConnection } from '../options/connection-names.js';
import { MessagingTesting } from './messaging-testing.js';

/**
 * The injection token of a connection's MessagingTesting kit, as getMessagingClientToken is for its client:
 * `MessagingTesting` itself for the default connection (no name, or `'default'`), else the kit of
 * `MessagingTestingModule.forRoot({ name })`.
 */
export function getMessagingTestingToken(name?: string): InjectionToken<MessagingTesting> {
  return isDefaultConnection(name) ? MessagingTesting : `MessagingTesting:${name}`;
}

/** Injects the MessagingTesting kit of the connection named `name` (`MessagingTestingModule.forRoot({ name })`); no name: the default one. */
export function InjectMessagingTesting(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMessagingTestingToken(name));
}
