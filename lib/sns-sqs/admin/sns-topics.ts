import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  type SNSClient,
  type Subscription,
} from '@aws-sdk/client-sns';
import { isNotFound } from '../aws-errors.js';
import { topicName } from '../naming.js';
import { AdminResourceNotFoundError } from '../../transport/admin.errors.js';

/** SNS look-ups for the admin operations. A topic is given as @EventPattern names it (topicPrefix added, encoded) or as an ARN. */
export class SnsTopics {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicPrefix: string,
  ) {}

  /** Every topic ARN (all pages). */
  async list(): Promise<string[]> {
    const arns: string[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sns.send(new ListTopicsCommand(NextToken ? { NextToken } : {}));
      for (const t of page.Topics ?? []) if (t.TopicArn) arns.push(t.TopicArn);
      NextToken = page.NextToken;
    } while (NextToken);
    return arns;
  }

  /** The SNS names a topic argument may stand for: the plain and the FIFO one. */
  namesOf(topic: string): string[] {
    return [topicName(this.topicPrefix, topic, false), topicName(this.topicPrefix, topic, true)];
  }

  /** The topic's ARN, or undefined when it does not exist. */
  async find(topic: string): Promise<string | undefined> {
    if (topic.startsWith('arn:')) {
      try {
        await this.sns.send(new GetTopicAttributesCommand({ TopicArn: topic }));
        return topic;
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }
    const names = this.namesOf(topic);
    return (await this.list()).find((arn) => names.includes(arn.slice(arn.lastIndexOf(':') + 1)));
  }

  async arn(topic: string): Promise<string> {
    const arn = await this.find(topic);
    if (!arn)
      throw new AdminResourceNotFoundError(
        'topic',
        topic,
        `no SNS topic ${this.namesOf(topic)[0]} (topicPrefix "${this.topicPrefix}" added)`,
      );
    return arn;
  }

  async attributes(arn: string): Promise<Record<string, string>> {
    const { Attributes = {} } = await this.sns.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    return Attributes;
  }

  /** Every subscription of the topic (all pages). */
  async subscriptions(arn: string): Promise<Subscription[]> {
    const subscriptions: Subscription[] = [];
    let NextToken: string | undefined;
    do {
      const page = await this.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn, ...(NextToken ? { NextToken } : {}) }));
      subscriptions.push(...(page.Subscriptions ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return subscriptions;
  }

  async subscriptionAttributes(subscriptionArn: string): Promise<Record<string, string> | undefined> {
    try {
      const { Attributes = {} } = await this.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn }));
      return Attributes;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
