import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { MessagingEnvironmentError } from '../errors.js';
import type { ResolvedMessagingOptions } from '../messaging.options.js';

export interface AwsClients {
  sns: SNSClient;
  sqs: SQSClient;
}

/**
 * SNS and SQS clients from the module options (the SDK's standard retry strategy, `maxAttempts` attempts per call,
 * each bounded by `connectTimeout` and `requestTimeout`).
 * Region and credentials left unset follow the SDK's default chains (environment, profile, container or instance role).
 */
export function createClients(options: ResolvedMessagingOptions['snsSqs']): AwsClients {
  const config = awsClientConfig(options);
  return { sns: new SNSClient(config), sqs: new SQSClient(config) };
}

/** The configuration every AWS client of the transport shares (SNS, SQS and the large-payload S3 client). */
export function awsClientConfig(options: ResolvedMessagingOptions['snsSqs']) {
  return {
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: options.maxAttempts,
    retryMode: 'standard' as const,
    // Options for the SDK's own NodeHttpHandler (it builds one from them). Without throwOnRequestTimeout an expired
    // requestTimeout only logs a warning and the request waits on; a call may extend requestTimeout per request.
    requestHandler: { connectionTimeout: options.connectTimeout, requestTimeout: options.requestTimeout, throwOnRequestTimeout: true },
  };
}

/**
 * Resolves the region and credentials the clients will use, so that a missing one fails at startup naming the option
 * and the environment variables, rather than on the first call with the SDK's generic message.
 */
export async function checkAwsConfiguration(clients: AwsClients, options: ResolvedMessagingOptions['snsSqs']): Promise<void> {
  try {
    await clients.sqs.config.region();
  } catch (error) {
    throw new MessagingEnvironmentError(
      'snsSqs.region',
      'no AWS region is configured: set snsSqs.region, the AWS_REGION environment variable, or a region in your AWS profile',
      { cause: error },
    );
  }
  try {
    await clients.sqs.config.credentials();
  } catch (error) {
    const emulator = options.endpoint
      ? ` (an emulator at ${options.endpoint} accepts any values, e.g. { accessKeyId: 'test', secretAccessKey: 'test' })`
      : '';
    throw new MessagingEnvironmentError(
      'snsSqs.credentials',
      `no AWS credentials found: pass snsSqs.credentials${emulator}, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); ${(error as Error).message}`,
      { cause: error },
    );
  }
}
