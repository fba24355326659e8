import type {
  CreatedResource,
  CreateQueueOptions,
  CreateTopicOptions,
  ListOptions,
  PeekedMessage,
  PublishOptions,
  QueueInfo,
  QueueSummary,
  RedriveOptions,
  RedriveResult,
  SendToQueueOptions,
  SentMessage,
  SubscribeOptions,
  SubscriptionInfo,
  TopicInfo,
  TopicSummary,
} from './admin.types.js';

/** What one transport implements for MessagingAdminService; the service adds input checks and events. */
export interface AdminBackend {
  listQueues(options: ListOptions): Promise<QueueSummary[]>;
  queueInfo(name: string): Promise<QueueInfo>;
  createQueue(name: string, options: CreateQueueOptions): Promise<CreatedResource>;
  deleteQueue(name: string): Promise<void>;
  listTopics(options: ListOptions): Promise<TopicSummary[]>;
  topicInfo(topic: string): Promise<TopicInfo>;
  createTopic(topic: string, options: CreateTopicOptions): Promise<CreatedResource>;
  deleteTopic(topic: string): Promise<void>;
  subscribe(topic: string, queue: string, options: SubscribeOptions): Promise<SubscriptionInfo>;
  unsubscribe(id: string): Promise<void>;
  publish(topic: string, body: string | Buffer, options: PublishOptions): Promise<SentMessage>;
  sendToQueue(queue: string, topic: string, body: string | Buffer, options: SendToQueueOptions): Promise<SentMessage>;
  /** Raw messages; the service decodes them. */
  peek(queue: string, max: number): Promise<RawPeeked[]>;
  purge(queue: string): Promise<void>;
  redrive(deadLetterQueue: string, options: RedriveOptions): Promise<RedriveResult>;
  close(): Promise<void>;
}

export type RawPeeked = Omit<PeekedMessage, 'data' | 'metadata' | 'decodeError'> & { envelopeBody?: string | Buffer };
