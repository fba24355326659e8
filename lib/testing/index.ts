export {
  MessagingTestingModule,
  type MessagingTestingOptions,
  type MessagingTestingKitOptions,
  type BrokerOverridable,
} from './messaging-testing.module.js';
export { MessagingTesting } from './messaging-testing.js';
export { getMessagingTestingToken, InjectMessagingTesting } from './testing-token.js';
export { InMemoryBroker } from './in-memory-broker.js';
export { MessagingTestingTimeoutError } from './deadline-wait.js';
export type {
  PublishResult,
  PublishOutcome,
  QueueOutcome,
  QueueDeliveryResult,
  TestPublishOptions,
  EmittedMessage,
  WaitOptions,
  WaitForEmittedOptions,
} from './types.js';
