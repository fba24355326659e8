import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { MessagingModuleOptions } from '../../lib/index.js';

export const FAUXQS_REGION = 'us-east-1';
export const FAUXQS_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface Fauxqs {
  endpoint: string;
  sns: SNSClient;
  sqs: SQSClient;
  /** Module `snsSqs` options pointing at this emulator. */
  snsSqs: { region: string; endpoint: string; credentials: typeof FAUXQS_CREDENTIALS; waitTimeSeconds: number };
  stop(): Promise<void>;
}

/** Starts fauxqs in-process on a free port, with SNS/SQS clients pointed at it. */
export async function startFauxqs(): Promise<Fauxqs> {
  const { startFauxqs: start } = await import('fauxqs');
  const server = await start({ port: 0, logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const config = { region: FAUXQS_REGION, endpoint, credentials: FAUXQS_CREDENTIALS };
  const sns = new SNSClient(config);
  const sqs = new SQSClient(config);
  return {
    endpoint,
    sns,
    sqs,
    snsSqs: { region: FAUXQS_REGION, endpoint, credentials: FAUXQS_CREDENTIALS, waitTimeSeconds: 1 },
    async stop() {
      sns.destroy();
      sqs.destroy();
      await server.stop();
    },
  };
}

export type FauxqsAppOptions = Omit<MessagingModuleOptions, 'transport'> & { transport?: 'sns-sqs' };

/**
 * Module options for an app on this emulator: transport 'sns-sqs', its endpoint and credentials, and the tests'
 * defaults (retryBackoff 0, drainTimeout 5 s) unless `options` sets them.
 */
export function fauxqsOptions(fauxqs: Pick<Fauxqs, 'snsSqs'>, options: FauxqsAppOptions): MessagingModuleOptions {
  return { retryBackoff: 0, drainTimeout: 5000, ...options, transport: 'sns-sqs', snsSqs: { ...fauxqs.snsSqs, ...(options.snsSqs ?? {}) } };
}
