import { MessagingOptionsError } from '../errors.js';

/** The parts of an SNS topic ARN: `arn:<partition>:sns:<region>:<account>:<name>`. */
export interface TopicArnParts {
  partition: string;
  region: string;
  account: string;
  name: string;
}

const TOPIC_ARN = /^arn:(aws[a-z-]*):sns:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$/;
const TOPIC_ARN_RULE = "must be an SNS topic ARN such as 'arn:aws:sns:eu-west-1:111122223333:orders'";

/** The parts of a topic ARN; undefined when it is not one. */
export function parseTopicArn(arn: string): TopicArnParts | undefined {
  const match = TOPIC_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, region, account, name] = match;
  return { partition, region, account, name };
}

/** The `topicArn` extra: a topic ARN, FIFO (`.fifo`) exactly when the handler's queue is. */
export function checkTopicArn(value: unknown, option: string): void {
  if (typeof value !== 'string' || !parseTopicArn(value)) throw new MessagingOptionsError(option, TOPIC_ARN_RULE, value);
}
