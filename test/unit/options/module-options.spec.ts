import { MessagingOptionsError, RawEnvelope, type KmsKeySetting, type MessagingModuleOptions } from '../../../lib/index.js';
import { redactUrl } from '../../../lib/options/redact-url.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';

const base: MessagingModuleOptions = { transport: 'sns-sqs', serviceName: 'billing' };

function optionsError(options: unknown): MessagingOptionsError {
  try {
    resolveModuleOptions(options as MessagingModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(MessagingOptionsError);
    return error as MessagingOptionsError;
  }
  throw new Error(`expected a MessagingOptionsError for ${JSON.stringify(options)}`);
}

/** Asserts the error names the option (property and message) and the rule. */
function expectRejected(options: unknown, option: string, rule: RegExp): MessagingOptionsError {
  const error = optionsError(options);
  expect(error.option).toBe(option);
  expect(error.message).toContain(`"${option}"`);
  expect(error.message).toMatch(rule);
  expect(error.name).toBe('MessagingOptionsError');
  return error;
}

describe('resolveModuleOptions: valid options and defaults', () => {
  it('fills in every default', () => {
    expect(resolveModuleOptions(base)).toEqual({
      transport: 'sns-sqs',
      serviceName: 'billing',
      topicPrefix: '',
      queueNamePrefix: '',
      envelope: undefined,
      drainTimeout: 30_000,
      maxDecodedBytes: 8 * 1024 * 1024,
      concurrency: 10,
      maxReceiveCount: 5,
      deadLetterQueue: true,
      retryBackoff: 1,
      provisioning: 'create',
      queueNaming: 'readable',
      metrics: false,
      tracing: false,
      snsSqs: { waitTimeSeconds: 20, maxAttempts: 3, connectTimeout: 3000, requestTimeout: 5000, perProcessQueueExpires: 3_600_000 },
      amqp: {
        url: 'amqp://guest:guest@127.0.0.1:5672',
        exchange: 'amq.topic',
        prefetch: 100,
        heartbeat: 30,
        publishTimeout: 10_000,
        connectTimeout: 10_000,
        perProcessQueueExpires: 3_600_000,
        reconnectDelay: { initial: 500, max: 30_000 },
        queueType: 'classic',
      },
    });
  });

  it('accepts every option at its limits and keeps what was given', () => {
    const resolved = resolveModuleOptions({
      transport: 'sns-sqs',
      serviceName: 'b',
      topicPrefix: '',
      queueNamePrefix: 'prod-',
      envelope: new RawEnvelope(),
      drainTimeout: 0,
      concurrency: 10_000,
      maxReceiveCount: 1,
      deadLetterQueue: false,
      retryBackoff: 0.5,
      snsSqs: {
        region: 'eu-west-1',
        endpoint: 'https://sqs.example.com:4566/',
        credentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't' },
        snsKmsMasterKeyId: 'alias/x',
        sqsKmsMasterKeyId: '',
        sqsKmsDataKeyReusePeriod: 86_400,
        waitTimeSeconds: 0,
        maxAttempts: 20,
      },
      amqp: {
        url: 'amqps://user:pass@rabbit:5671/vhost',
        exchange: 'events',
        prefetch: 65_535,
        heartbeat: 0,
        publishTimeout: 1,
        queueExpires: 1,
        reconnectDelay: { initial: 1 },
      },
    });
    expect(resolved).toMatchObject({
      transport: 'sns-sqs',
      queueNamePrefix: 'prod-',
      drainTimeout: 0,
      deadLetterQueue: false,
      retryBackoff: 0.5,
    });
    expect(resolved.snsSqs).toMatchObject({ region: 'eu-west-1', sqsKmsMasterKeyId: '', maxAttempts: 20 });
    expect(resolved.amqp.reconnectDelay).toEqual({ initial: 1, max: 30_000 });
  });

  it.each([undefined, null, false, '', 'alias/orders', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd'])(
    'accepts the KMS setting %p for both snsKmsMasterKeyId and sqsKmsMasterKeyId',
    (kms) => {
      expect(() =>
        resolveModuleOptions({ ...base, snsSqs: { snsKmsMasterKeyId: kms as KmsKeySetting, sqsKmsMasterKeyId: kms as KmsKeySetting } }),
      ).not.toThrow();
    },
  );

  it('accepts a credential provider function', () => {
    expect(() =>
      resolveModuleOptions({ ...base, snsSqs: { credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 's' }) } }),
    ).not.toThrow();
  });
});

describe("resolveModuleOptions: queueNaming 'tomodachi' declares AMQP queues as tomodachi does", () => {
  it('defaults amqp.queueExpires to 86400000 (tomodachi queue_ttl 86400 s); readable naming leaves it unset', () => {
    expect(resolveModuleOptions({ ...base, queueNaming: 'tomodachi' }).amqp.queueExpires).toBe(86_400_000);
    expect(resolveModuleOptions({ ...base, queueNaming: 'readable' }).amqp.queueExpires).toBeUndefined();
    expect(resolveModuleOptions(base).amqp.queueExpires).toBeUndefined();
  });

  it('an explicit amqp.queueExpires wins, 0 (no x-expires) included', () => {
    expect(resolveModuleOptions({ ...base, queueNaming: 'tomodachi', amqp: { queueExpires: 60_000 } }).amqp.queueExpires).toBe(60_000);
    expect(resolveModuleOptions({ ...base, queueNaming: 'tomodachi', amqp: { queueExpires: 0 } }).amqp.queueExpires).toBe(0);
  });
});

describe('resolveModuleOptions: one rule per test', () => {
  it.each([null, 'sns-sqs', 42, []])('options that are not an object (%p)', (options) => {
    expectRejected(options, 'options', /must be an object/);
  });

  it('an unknown transport', () => {
    expectRejected({ ...base, transport: 'kafka' }, 'transport', /must be one of 'sns-sqs', 'amqp'.*"kafka"/);
  });

  it('a missing transport', () => {
    expectRejected({ serviceName: 'billing' }, 'transport', /must be one of/);
  });

  it('an unknown top-level option (a typo)', () => {
    expectRejected({ ...base, topicprefix: 'x' }, 'topicprefix', /is not a known option; use one of .*topicPrefix/);
  });

  it('an unknown snsSqs option', () => {
    expectRejected({ ...base, snsSqs: { secretAccessKey: 'do-not-print-me' } }, 'snsSqs.secretAccessKey', /is not a known option/);
    expect(optionsError({ ...base, snsSqs: { secretAccessKey: 'do-not-print-me' } }).message).not.toContain('do-not-print-me');
  });

  it('an unknown amqp option', () => {
    expectRejected({ ...base, amqp: { uri: 'amqp://x' } }, 'amqp.uri', /is not a known option; use one of .*url/);
  });

  it.each([
    ['serviceName', undefined, /must be a non-empty string/],
    ['serviceName', '', /must be a non-empty string/],
    ['serviceName', 42, /must be a non-empty string.*42/],
    ['topicPrefix', 1, /must be a string/],
    ['queueNamePrefix', ['prod-'], /must be a string/],
    ['envelope', 'json', /must be an envelope class/],
    ['envelope', { encode: () => '' }, /must be an envelope class/],
    ['deadLetterQueue', 'yes', /must be true or false/],
    ['snsSqs', 'eu-west-1', /must be an object/],
    ['amqp', 'amqp://localhost', /must be an object/],
  ])('wrong type: %s = %p', (option, value, rule) => {
    expectRejected({ ...base, [option]: value }, option, rule);
  });

  it.each([
    ['region', '', /must be a non-empty string/],
    ['region', 1, /must be a non-empty string/],
    ['endpoint', 4566, /must be a non-empty string/],
    ['credentials', 'AKIA...', /must be \{ accessKeyId, secretAccessKey/],
    ['credentials', { accessKeyId: 'a' }, /must be \{ accessKeyId, secretAccessKey/],
  ])('wrong type: snsSqs.%s = %p', (option, value, rule) => {
    expectRejected({ ...base, snsSqs: { [option]: value } }, `snsSqs.${option}`, rule);
  });

  it('credentials in the wrong shape are not echoed in the error', () => {
    expect(
      optionsError({ ...base, snsSqs: { credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 12345678 } } }).message,
    ).not.toMatch(/AKIAEXAMPLE|12345678/);
  });

  it.each([
    ['exchange', '', /must be a non-empty string/],
    ['url', 5672, /must be a non-empty string/],
    ['reconnectDelay', 500, /must be \{ initial\?, max\? \}/],
  ])('wrong type: amqp.%s = %p', (option, value, rule) => {
    expectRejected({ ...base, amqp: { [option]: value } }, `amqp.${option}`, rule);
  });

  it.each([true, 0, 1, {}, ['alias/x']])("a KMS value that is not a string, '', false, null or undefined (%p)", (kms) => {
    expectRejected({ ...base, snsSqs: { snsKmsMasterKeyId: kms } }, 'snsSqs.snsKmsMasterKeyId', /must be a KMS key id or alias/);
    expectRejected({ ...base, snsSqs: { sqsKmsMasterKeyId: kms } }, 'snsSqs.sqsKmsMasterKeyId', /'' or false to disable encryption/);
  });

  it.each(['http://guest:guest@localhost:5672', 'localhost:5672', 'amqp:/localhost', ' amqp://localhost'])('a bad amqp url (%p)', (url) => {
    expectRejected({ ...base, amqp: { url } }, 'amqp.url', /must start with amqp:\/\/ or amqps:\/\//);
  });

  it.each(['http://user:s3cret@rabbit:5672', 'rabbit://user:s3cret@rabbit', 'user:s3cret@rabbit:5672'])(
    'the password of a bad amqp url never appears in the error (%p)',
    (url) => {
      const error = optionsError({ ...base, amqp: { url } });
      expect(error.message).not.toContain('s3cret');
      expect(String(error.value)).not.toContain('s3cret');
    },
  );

  it.each(['localhost:4566', 'ftp://localhost', 'http//localhost', 'http:// localhost', ''])('a bad snsSqs.endpoint (%p)', (endpoint) => {
    expectRejected(
      { ...base, snsSqs: { endpoint } },
      'snsSqs.endpoint',
      endpoint === '' ? /must be a non-empty string/ : /must be an http\(s\) URL/,
    );
  });

  it.each([
    ['drainTimeout', -1],
    ['drainTimeout', 3_600_001],
    ['drainTimeout', 1.5],
    ['drainTimeout', '1000'],
    ['concurrency', 0],
    ['concurrency', 10_001],
    ['concurrency', Number.NaN],
    ['maxReceiveCount', 0],
    ['maxReceiveCount', 1001],
    ['maxReceiveCount', 2.5],
  ])('out-of-range or non-integer %s = %p', (option, value) => {
    expectRejected({ ...base, [option]: value }, option, /must be an integer from \d+ to \d+/);
  });

  it.each([-0.1, 901, Number.POSITIVE_INFINITY, '1'])('out-of-range retryBackoff = %p', (value) => {
    expectRejected({ ...base, retryBackoff: value }, 'retryBackoff', /must be a number from 0 to 900/);
  });

  it.each([
    ['sqsKmsDataKeyReusePeriod', 59],
    ['sqsKmsDataKeyReusePeriod', 86_401],
    ['waitTimeSeconds', -1],
    ['waitTimeSeconds', 21],
    ['waitTimeSeconds', 0.5],
    ['maxAttempts', 0],
    ['maxAttempts', 21],
  ])('out-of-range snsSqs.%s = %p', (option, value) => {
    expectRejected({ ...base, snsSqs: { [option]: value } }, `snsSqs.${option}`, /must be an integer from \d+ to \d+/);
  });

  it.each([
    ['prefetch', 0],
    ['prefetch', 65_536],
    ['heartbeat', -1],
    ['heartbeat', 3601],
    ['publishTimeout', 0],
    ['queueExpires', -1],
    ['queueExpires', 2 ** 31],
  ])('out-of-range amqp.%s = %p', (option, value) => {
    expectRejected({ ...base, amqp: { [option]: value } }, `amqp.${option}`, /must be an integer from \d+ to \d+/);
  });

  it.each([
    ['initial', 0],
    ['max', 3_600_001],
    ['initial', 0.5],
  ])('out-of-range amqp.reconnectDelay.%s = %p', (option, value) => {
    expectRejected(
      { ...base, amqp: { reconnectDelay: { [option]: value } } },
      `amqp.reconnectDelay.${option}`,
      /must be an integer from 1 to 3600000/,
    );
  });

  it('validates both transport sections whatever the transport (a typo in the unused one still fails fast)', () => {
    expectRejected({ ...base, transport: 'amqp', snsSqs: { region: '' } }, 'snsSqs.region', /non-empty/);
    expectRejected({ ...base, transport: 'sns-sqs', amqp: { prefetch: -5 } }, 'amqp.prefetch', /integer/);
  });
});

describe('redactUrl', () => {
  it.each([
    ['amqp://guest:secret@host:5672/vhost', 'amqp://guest:***@host:5672/vhost'],
    ['amqps://user:p%40ss@host', 'amqps://user:***@host'],
    ['http://user:secret@host', 'http://user:***@host'],
    ['amqp://host:5672', 'amqp://host:5672'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('redactUrl edge cases', () => {
  it.each([
    ['amqp://user:p@ss@host/vhost', 'amqp://user:***@host/vhost'],
    ['user:secret@host:5672', 'user:***@host:5672'],
    ['rabbit://user:secret@host', 'rabbit://user:***@host'],
    ['amqp://host/vhost?x=a:b@c', 'amqp://host/vhost?x=a:b@c'],
  ])('%s → %s', (url, redacted) => {
    expect(redactUrl(url)).toBe(redacted);
  });
});

describe('maxDecodedBytes', () => {
  it('accepts 1 KiB to 1 GiB and rejects anything else naming the option', () => {
    expect(resolveModuleOptions({ ...base, maxDecodedBytes: 1024 }).maxDecodedBytes).toBe(1024);
    expectRejected({ ...base, maxDecodedBytes: 100 }, 'maxDecodedBytes', /integer from 1024 to 1073741824/);
    expectRejected({ ...base, maxDecodedBytes: 1.5e9 }, 'maxDecodedBytes', /integer from 1024/);
  });
});
