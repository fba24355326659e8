import { endpointOf, explainAwsError, isSubscriptionConflict, isTimeoutOrNetwork } from '../../../lib/sns-sqs/aws-errors.js';

const call = {
  service: 'sqs' as const,
  action: 'CreateQueue',
  endpoint: 'https://sqs.eu-west-1.amazonaws.com',
  connectTimeout: 3000,
  requestTimeout: 5000,
};

describe('SNS/SQS errors explained for ProvisioningError', () => {
  it('names the configured endpoint, else the AWS regional endpoint of the service', () => {
    expect(endpointOf('sqs', 'http://127.0.0.1:4566', 'eu-west-1')).toBe('http://127.0.0.1:4566');
    expect(endpointOf('sqs', undefined, 'eu-west-1')).toBe('https://sqs.eu-west-1.amazonaws.com');
    expect(endpointOf('sns', undefined, 'cn-north-1')).toBe('https://sns.cn-north-1.amazonaws.com.cn');
  });

  it('AccessDenied / AuthorizationError: the IAM action to allow', () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect(explainAwsError(denied, call).hint).toBe(
      'Check that the IAM policy of these credentials allows sqs:CreateQueue on this resource',
    );
    const sns = Object.assign(new Error('not authorized'), { name: 'AuthorizationError', $metadata: { httpStatusCode: 403 } });
    expect(explainAwsError(sns, { ...call, service: 'sns', action: 'Subscribe' }).hint).toContain('allows sns:Subscribe');
  });

  it('rejected credentials, refused connections, unknown hosts and timeouts each say what to check', () => {
    expect(
      explainAwsError(Object.assign(new Error('bad'), { name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } }), call).hint,
    ).toContain('snsSqs.credentials');
    expect(explainAwsError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), call).hint).toContain(
      `Nothing accepts connections at ${call.endpoint}`,
    );
    expect(explainAwsError(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }), call).detail).toContain(
      'host not found',
    );
    const timeout = Object.assign(new Error('a request has exceeded the configured 5000 ms requestTimeout'), {
      name: 'TimeoutError',
      $metadata: { attempts: 3 },
    });
    expect(explainAwsError(timeout, call).detail).toBe('no response within snsSqs.requestTimeout (5000 ms) (3 attempts)');
    const connect = Object.assign(new Error('Socket timed out without establishing a connection within 3000 ms'), { name: 'TimeoutError' });
    expect(explainAwsError(connect, call).detail).toContain('snsSqs.connectTimeout (3000 ms)');
  });

  it('a timeout or network failure leaves the outcome of a call unknown; a service refusal does not', () => {
    expect(isTimeoutOrNetwork(Object.assign(new Error('x'), { name: 'TimeoutError' }))).toBe(true);
    expect(isTimeoutOrNetwork(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTimeoutOrNetwork(Object.assign(new Error('x'), { name: 'InvalidParameter' }))).toBe(false);
    expect(isTimeoutOrNetwork(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe(false);
  });

  it('a Subscribe refused because the subscription exists with other attributes is told apart from other invalid parameters', () => {
    const refusal = (message: string) =>
      Object.assign(new Error(message), { name: 'InvalidParameterException', $metadata: { httpStatusCode: 400 } });
    expect(
      isSubscriptionConflict(refusal('Invalid parameter: Attributes Reason: Subscription already exists with different attributes')),
    ).toBe(true);
    expect(isSubscriptionConflict(refusal('Invalid parameter: Endpoint'))).toBe(false);
    expect(isSubscriptionConflict(new Error('Subscription already exists with different attributes'))).toBe(false);
  });
});
