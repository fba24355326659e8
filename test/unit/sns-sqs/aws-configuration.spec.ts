import { MessagingEnvironmentError, MessagingOptionsError } from '../../../lib/index.js';
import { checkAwsConfiguration, createClients } from '../../../lib/sns-sqs/clients.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';

const AWS_VARIABLES = [
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
];

/** Runs `body` with only the given AWS variables set (no profile files, no instance metadata). */
async function withAwsEnvironment(variables: Record<string, string>, body: () => Promise<void>): Promise<void> {
  const saved = Object.fromEntries(AWS_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of AWS_VARIABLES) delete process.env[name];
  Object.assign(process.env, {
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...variables,
  });
  try {
    await body();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

const snsSqs = (options: Record<string, unknown>) =>
  resolveModuleOptions({ transport: 'sns-sqs', serviceName: 'billing', snsSqs: options }).snsSqs;

describe('AWS region and credentials follow the SDK default chains', () => {
  it('takes the region from AWS_REGION when snsSqs.region is unset', async () => {
    await withAwsEnvironment({ AWS_REGION: 'eu-north-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 's' }, async () => {
      const clients = createClients(snsSqs({}));
      await expect(clients.sqs.config.region()).resolves.toBe('eu-north-1');
      await expect(clients.sns.config.region()).resolves.toBe('eu-north-1');
      await expect(clients.sqs.config.credentials()).resolves.toMatchObject({ accessKeyId: 'a', secretAccessKey: 's' });
      await expect(checkAwsConfiguration(clients, snsSqs({}))).resolves.toBeUndefined();
    });
  });

  it('prefers snsSqs.region over AWS_REGION', async () => {
    await withAwsEnvironment({ AWS_REGION: 'eu-north-1' }, async () => {
      await expect(createClients(snsSqs({ region: 'ap-south-1' })).sqs.config.region()).resolves.toBe('ap-south-1');
    });
  });

  it('fails at startup naming snsSqs.region and AWS_REGION when no region is configured anywhere', async () => {
    await withAwsEnvironment({}, async () => {
      const options = snsSqs({ credentials: { accessKeyId: 'a', secretAccessKey: 's' } });
      const error = await checkAwsConfiguration(createClients(options), options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MessagingEnvironmentError);
      expect(error).toBeInstanceOf(MessagingOptionsError);
      expect((error as MessagingOptionsError).option).toBe('snsSqs.region');
      expect((error as Error).message).toMatch(/AWS_REGION/);
      // the environment lacks it: not labelled an invalid option
      expect((error as Error).message).toMatch(
        /^Missing configuration "snsSqs.region" \(not resolved from the options or the environment\)/,
      );
      expect((error as Error).stack?.startsWith(`MessagingEnvironmentError: ${(error as Error).message}`)).toBe(true);
    });
  });

  it('with an endpoint and no credentials anywhere, fails naming snsSqs.credentials and the environment variables', async () => {
    await withAwsEnvironment({ AWS_REGION: 'us-east-1' }, async () => {
      const options = snsSqs({ endpoint: 'http://127.0.0.1:4566' });
      const error = await checkAwsConfiguration(createClients(options), options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MessagingEnvironmentError);
      expect((error as MessagingOptionsError).option).toBe('snsSqs.credentials');
      expect((error as Error).message).not.toContain('Invalid messaging option');
      expect((error as Error).message).toMatch(/AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/);
      expect((error as Error).message).toContain('http://127.0.0.1:4566');
    });
  });
});
