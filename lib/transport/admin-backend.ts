import type * as Admin from './admin.types.js';

/** What one transport implements for MessagingAdminService; the service adds input checks and events. */
export interface AdminBackend {
  listQueues(options: Admin.ListOptions): Promise<Admin.QueueSummary[]>;
  queueInfo(name: string): Promise<Admin.QueueInfo>;
  createQueue(name: string, options: Admin.CreateQueueOptions): Promise<Admin.CreatedResource>;
  deleteQueue(name: string): Promise<void>;
  listTopics(options: Admin.ListOptions): Promise<Admin.TopicSummary[]>;
  topicInfo(topic: string): Promise<Admin.TopicInfo>;
  createTopic(topic: string, options: Admin.CreateTopicOptions): Promise<Admin.CreatedResource>;
  deleteTopic(topic: string): Promise<void>;
  subscribe(topic: string, queue: string, options: Admin.SubscribeOptions): Promise<Admin.SubscriptionInfo>;
  unsubscribe(id: string): Promise<void>;
  /** The @EventPattern topic a message published to `topic` records in its envelope (an SNS ARN names its topic). */
  envelopeTopic(topic: string): Promise<string>;
  publish(topic: string, body: string | Buffer, options: Admin.PublishOptions): Promise<Admin.SentMessage>;
  sendToQueue(queue: string, topic: string, body: string | Buffer, options: Admin.SendToQueueOptions): Promise<Admin.SentMessage>;
  /** Raw messages; the service decodes them. Refuses (AdminPeekSpendsReceiveError) what would spend a receive unless `spendReceive`. */
  peek(queue: string, max: number, spendReceive: boolean): Promise<RawPeeked[]>;
  purge(queue: string): Promise<void>;
  redrive(deadLetterQueue: string, options: Admin.RedriveOptions): Promise<Admin.RedriveResult>;
  close(): Promise<void>;
}

export type RawPeeked = Omit<Admin.PeekedMessage, 'data' | 'metadata' | 'decodeError'> & { envelopeBody?: string | Buffer };
