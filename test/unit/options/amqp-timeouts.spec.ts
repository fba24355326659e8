import { MessagingOptionsError, type MessagingModuleOptions } from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';

const base: MessagingModuleOptions = { transport: 'amqp', serviceName: 'billing' };

function rejection(amqp: Record<string, unknown>): MessagingOptionsError {
  try {
    resolveModuleOptions({ ...base, amqp } as MessagingModuleOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(MessagingOptionsError);
    return error as MessagingOptionsError;
  }
  throw new Error(`expected a MessagingOptionsError for ${JSON.stringify(amqp)}`);
}

describe('amqp.connectTimeout and amqp.perProcessQueueExpires', () => {
  it('default to 10 s and 1 h, independent of publishTimeout', () => {
    const resolved = resolveModuleOptions({ ...base, amqp: { publishTimeout: 500 } });
    expect(resolved.amqp.connectTimeout).toBe(10_000);
    expect(resolved.amqp.perProcessQueueExpires).toBe(3_600_000);
    expect(resolved.amqp.publishTimeout).toBe(500);
  });

  it('keep given values', () => {
    const resolved = resolveModuleOptions({ ...base, amqp: { connectTimeout: 1, perProcessQueueExpires: 1000 } });
    expect(resolved.amqp).toMatchObject({ connectTimeout: 1, perProcessQueueExpires: 1000 });
  });

  it.each([
    ['connectTimeout', 0, /integer from 1 to 3600000/],
    ['connectTimeout', 1.5, /integer from 1 to 3600000/],
    ['connectTimeout', '10000', /integer from 1 to 3600000/],
    ['perProcessQueueExpires', 999, /integer from 1000 to 2147483647/],
    ['perProcessQueueExpires', 2 ** 31, /integer from 1000 to 2147483647/],
  ])('reject amqp.%s = %p naming the option', (key, value, rule) => {
    const error = rejection({ [key]: value });
    expect(error.option).toBe(`amqp.${key}`);
    expect(error.message).toMatch(rule);
  });
});
