import { MessagingOptionsError } from '../../../lib/errors.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';

const base = { transport: 'sns-sqs' as const, serviceName: 'billing' };

describe('snsSqs.connectTimeout, snsSqs.requestTimeout and snsSqs.perProcessQueueExpires', () => {
  it('default to 3000 ms, 5000 ms and one hour', () => {
    expect(resolveModuleOptions(base).snsSqs).toMatchObject({
      connectTimeout: 3000,
      requestTimeout: 5000,
      perProcessQueueExpires: 3_600_000,
    });
  });

  it('keep the values given, at their limits; perProcessQueueExpires 0 turns the sweep off', () => {
    expect(
      resolveModuleOptions({ ...base, snsSqs: { connectTimeout: 1, requestTimeout: 600_000, perProcessQueueExpires: 0 } }).snsSqs,
    ).toMatchObject({ connectTimeout: 1, requestTimeout: 600_000, perProcessQueueExpires: 0 });
    expect(resolveModuleOptions({ ...base, snsSqs: { perProcessQueueExpires: 1000 } }).snsSqs.perProcessQueueExpires).toBe(1000);
  });

  it.each([
    ['connectTimeout', 0],
    ['connectTimeout', 1.5],
    ['connectTimeout', '3000'],
    ['connectTimeout', 600_001],
    ['requestTimeout', 0],
    ['requestTimeout', -1],
    ['requestTimeout', Number.NaN],
    ['perProcessQueueExpires', 999],
    ['perProcessQueueExpires', -1],
    ['perProcessQueueExpires', 'never'],
  ])('rejects snsSqs.%s = %p, naming the option', (key, value) => {
    const attempt = () => resolveModuleOptions({ ...base, snsSqs: { [key]: value } as never });
    expect(attempt).toThrow(MessagingOptionsError);
    expect(attempt).toThrow(`Invalid messaging option "snsSqs.${key}"`);
  });
});
