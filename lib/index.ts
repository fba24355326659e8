export { MessagingModule } from './messaging.module.js';
export { MessagingServer, type DescribeTopologyOptions } from './server/messaging.server.js';
export { MessagingClient } from './client/messaging.client.js';
export { getMessagingClientToken, InjectMessagingClient } from './client/client-token.js';
export { MessagingRecord, type MessagingRecordOptions } from './client/messaging-record.js';
export type { SendToQueueOptions } from './client/send-to-queue-options.js';
export { MessagingValidationPipe, type MessagingValidationPipeOptions } from './validation/messaging-validation.pipe.js';
export { MessagingContext } from './context/messaging.context.js';
export { MessagingBatchContext } from './context/messaging-batch.context.js';
export { MessagingEventPattern } from './decorators/messaging-event-pattern.decorator.js';
export { JsonEnvelope } from './envelopes/json.envelope.js';
export { RawEnvelope } from './envelopes/raw.envelope.js';
export { ProtobufEnvelope } from './envelopes/protobuf.envelope.js';
export type {
  MessageEnvelope,
  EnvelopeSetting,
  EnvelopeEncodeContext,
  EnvelopeDecodeContext,
  EnvelopeMetadata,
  DecodedMessage,
  ProtoClass,
} from './envelopes/message-envelope.js';
export type {
  MessagingModuleOptions,
  SubscriptionExtras,
  BatchOptions,
  SnsSqsOptions,
  AmqpOptions,
  TransportName,
  KmsKeySetting,
  AwsCredentials,
  AwsCredentialsProvider,
  ProvisioningMode,
  QueueNaming,
  AmqpQueueType,
} from './messaging.options.js';
export type { BrokerStatus, AttributeValue } from './transport/broker.js';
export { MESSAGING_OPTIONS, MESSAGING_BROKER, MESSAGING_ENVELOPE } from './constants.js';
export {
  MessagingError,
  MessagingOptionsError,
  MessagingEnvironmentError,
  EnvelopeDecodeError,
  PublishError,
  PublishOutcomeUnknownError,
  MessageTooLargeError,
  DeadLetterError,
  BatchFailure,
  InvalidElementsError,
  ProvisioningError,
  BrokerConnectionError,
  MissingDependencyError,
  ConnectionStartError,
  UnknownConnectionError,
} from './errors.js';
export { TopologyVerificationError, type TopologyMismatch } from './transport/verification-error.js';
export type {
  MessagingTopology,
  ConnectionTopology,
  TopologyTopic,
  TopologyQueue,
  TopologySubscription,
} from './topology/topology.types.js';
export { toCloudFormation, type CloudFormationTemplate } from './topology/cloudformation.js';
export { toTerraform, type TerraformJson } from './topology/terraform.js';
export { toRabbitMqDefinitions, type RabbitMqDefinitions } from './topology/rabbitmq-definitions.js';
export { renderTopology, TOPOLOGY_FORMATS, type TopologyFormat } from './topology/generators.js';
export type {
  MessagingEvent,
  MessageEventBase,
  MessageReceivedEvent,
  MessageHandledEvent,
  MessageFailedEvent,
  MessageDeadLetteredEvent,
  BrokerStatusEvent,
} from './observability/messaging-event.js';
export type { PublishEvent } from './observability/publish-event.js';
export { MessagingHealthIndicator, type MessagingHealthResult } from './observability/health/messaging-health.indicator.js';
export type { HealthCheckOptions } from './observability/health/judge-health.js';
export { MessagingMetrics } from './observability/metrics/messaging-metrics.js';
export type { MetricsOptions, MetricsRegistry } from './messaging.options.js';
export { MessagingAdminModule } from './admin/messaging-admin.module.js';
export { MessagingAdminService } from './admin/messaging-admin.service.js';
export type { AdminConnectionOption, AdminConnectionSummary } from './admin/admin-connection.js';
export { AdminTokenGuard, ADMIN_GUARD_TOKEN } from './admin/http/admin-token.guard.js';
export type {
  MessagingAdminModuleOptions,
  MessagingAdminModuleAsyncOptions,
  MessagingAdminHttpOptions,
  MessagingAdminRuntimeOptions,
  AdminWatchOptions,
} from './admin/admin-module.options.js';
export type * from './transport/admin.types.js';
export {
  AdminResourceNotFoundError,
  AdminInvalidArgumentError,
  AdminConflictError,
  AdminOperationUnavailableError,
  AdminBrokerRefusedError,
  AdminPeekSpendsReceiveError,
  AdminBrokerUnavailableError,
  AdminBrokerFailedError,
} from './transport/admin.errors.js';
