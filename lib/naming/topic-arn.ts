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

/** The region of an ARN (`arn:<partition>:<service>:<region>:...`); undefined for none or one without a region. */
export function regionOfArn(arn: string | undefined): string | undefined {
  return arn?.split(':')[3] || undefined;
}

/** The `topicArn` extra: a valid SNS topic ARN (what it needs alongside is the record's `alongside`). */
export function checkTopicArn(value: unknown, option: string): void {
  if (typeof value !== 'string' || !parseTopicArn(value)) throw new MessagingOptionsError(option, TOPIC_ARN_RULE, value);
}
