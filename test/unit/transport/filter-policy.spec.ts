import { compileFilterPolicy } from '../../../lib/transport/filter-policy.js';
import { MessagingOptionsError } from '../../../lib/errors.js';

const accepts = (policy: Record<string, unknown>, attributes: Record<string, unknown>) =>
  compileFilterPolicy(policy, 'filterPolicy')(attributes);

describe('filter policies evaluated on attributes / AMQP headers (SNS semantics)', () => {
  it('exact values: any listed value, every key', () => {
    const policy = { currency: ['EUR', 'USD'], amount: [100] };
    expect(accepts(policy, { currency: 'EUR', amount: 100 })).toBe(true);
    expect(accepts(policy, { currency: 'SEK', amount: 100 })).toBe(false);
    expect(accepts(policy, { currency: 'EUR', amount: 5 })).toBe(false);
    expect(accepts(policy, { currency: 'EUR' })).toBe(false);
  });

  it('String.Array attributes match when any element does', () => {
    expect(accepts({ tags: ['vip'] }, { tags: ['new', 'vip'] })).toBe(true);
    expect(accepts({ tags: ['vip'] }, { tags: ['new'] })).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case', () => {
    expect(accepts({ sku: [{ prefix: 'A-' }] }, { sku: 'A-17' })).toBe(true);
    expect(accepts({ sku: [{ prefix: 'A-' }] }, { sku: 'B-17' })).toBe(false);
    expect(accepts({ file: [{ suffix: '.pdf' }] }, { file: 'x.pdf' })).toBe(true);
    expect(accepts({ region: [{ 'equals-ignore-case': 'EU' }] }, { region: 'eu' })).toBe(true);
  });

  it('anything-but with values or a prefix; a missing attribute does not match', () => {
    expect(accepts({ currency: [{ 'anything-but': ['SEK', 'NOK'] }] }, { currency: 'EUR' })).toBe(true);
    expect(accepts({ currency: [{ 'anything-but': ['SEK', 'NOK'] }] }, { currency: 'SEK' })).toBe(false);
    expect(accepts({ currency: [{ 'anything-but': 'SEK' }] }, {})).toBe(false);
    expect(accepts({ sku: [{ 'anything-but': { prefix: 'test-' } }] }, { sku: 'test-1' })).toBe(false);
  });

  it('numeric ranges on numbers and numeric strings', () => {
    const policy = { amount: [{ numeric: ['>', 0, '<=', 100] }] };
    expect(accepts(policy, { amount: 100 })).toBe(true);
    expect(accepts(policy, { amount: '50' })).toBe(true);
    expect(accepts(policy, { amount: 101 })).toBe(false);
    expect(accepts(policy, { amount: 'lots' })).toBe(false);
  });

  it('exists, and a top-level $or', () => {
    expect(accepts({ coupon: [{ exists: false }] }, {})).toBe(true);
    expect(accepts({ coupon: [{ exists: true }] }, {})).toBe(false);
    const policy = { $or: [{ currency: ['EUR'] }, { vip: [true] }] };
    expect(accepts(policy, { currency: 'EUR' })).toBe(true);
    expect(accepts(policy, { currency: 'USD', vip: true })).toBe(true);
    expect(accepts(policy, { currency: 'USD', vip: false })).toBe(false);
  });

  it('an inherited property (toString) is not taken as a present attribute', () => {
    expect(accepts({ toString: [{ exists: true }] }, {})).toBe(false);
  });

  it('rejects what it cannot evaluate at startup, naming the condition', () => {
    expect(() => compileFilterPolicy({ ip: [{ cidr: '10.0.0.0/8' }] }, 'f')).toThrow(MessagingOptionsError);
    expect(() => compileFilterPolicy({ ip: [{ cidr: '10.0.0.0/8' }] }, 'f')).toThrow(/f\.ip\[0\]/);
    expect(() => compileFilterPolicy({ currency: 'EUR' }, 'f')).toThrow(/f\.currency.*must be an array/);
    expect(() => compileFilterPolicy({ amount: [{ numeric: ['>'] }] }, 'f')).toThrow(/numeric/);
  });
});
