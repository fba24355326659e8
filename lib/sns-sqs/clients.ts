import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ResolvedMessagingOptions } from '../options-validation.js';

export interface AwsClients {
  sns: SNSClient;
  sqs: SQSClient;
}

/** SNS and SQS clients from the module options (the SDK's standard retry strategy, `maxAttempts` attempts per call). */
export function createClients(options: ResolvedMessagingOptions['snsSqs']): AwsClients {
  const config = {
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts,
    retryMode: 'standard' as const,
  };
  return { sns: new SNSClient(config), sqs: new SQSClient(config) };
}
