import { deadLetterQueueName, deadLetterSourceName, decodeName, encodeName, fitName } from '../../../lib/naming.js';
import { queueName, sqsDeadLetterQueueName } from '../../../lib/sns-sqs/naming.js';

/** Deterministic PRNG (mulberry32) so that the property checks below are reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('encodeName / decodeName (tomodachi topic encoding)', () => {
  it.each([
    ['order.paid', 'order___2e_paid'],
    ['order-paid_v2', 'order-paid_v2'],
    ['a b', 'a___20_b'],
    ['åäö', '___c3a5____c3a4____c3b6_'],
    ['✓', '___e29c93_'],
    ['😀', '___f09f9880_'],
    ['a/b:c', 'a___2f_b___3a_c'],
    ['x_.', 'x____2e_'],
    ['', ''],
  ])('%p ⇄ %p', (name, encoded) => {
    expect(encodeName(name)).toBe(encoded);
    expect(decodeName(encoded)).toBe(name);
  });

  it('only ever produces characters SNS and SQS allow', () => {
    const random = prng(7);
    const alphabet = ['a', 'Z', '9', '-', '_', '.', ' ', '/', '*', '#', 'å', '✓', '😀', '\u0000', '"', '%', '+', '=', '中'];
    for (let i = 0; i < 2000; i++) {
      const name = Array.from({ length: 1 + Math.floor(random() * 20) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      const encoded = encodeName(name);
      expect(encoded).toMatch(/^[A-Za-z0-9_-]*$/);
      if (!name.includes('___')) expect(decodeName(encoded)).toBe(name);
    }
  });

  it('leaves names without encoded sequences as they are', () => {
    expect(decodeName('billing--order-paid')).toBe('billing--order-paid');
    expect(decodeName('a___zz_b')).toBe('a___zz_b');
    expect(decodeName('a___2_b')).toBe('a___2_b');
  });

  it('decodes a literal ___<hex>_ as tomodachi does (so topic names must not contain one)', () => {
    expect(decodeName('a___2e_b')).toBe('a.b');
  });
});

describe('fitName', () => {
  it('leaves a name that fits untouched', () => {
    expect(fitName('billing--order-paid', 75)).toBe('billing--order-paid');
    expect(fitName('x'.repeat(75), 75)).toBe('x'.repeat(75));
  });

  it('shortens a long name to exactly max, keeping its readable start and a hash, the same on every call', () => {
    const long = `billing--${'very-long-topic-'.repeat(10)}`;
    const fitted = fitName(long, 71);
    expect(fitted).toHaveLength(71);
    expect(fitted).toMatch(/^billing--very-long-topic-.*-[0-9a-f]{10}$/);
    expect(fitName(long, 71)).toBe(fitted);
    expect(fitted).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('keeps distinct long names distinct even when they share the kept prefix', () => {
    const a = fitName(`${'p'.repeat(100)}-a`, 60);
    const b = fitName(`${'p'.repeat(100)}-b`, 60);
    expect(a).not.toBe(b);
    expect(a.slice(0, 49)).toBe(b.slice(0, 49));
  });

  it('never exceeds max for any length', () => {
    for (let length = 0; length < 300; length += 7) {
      for (const max of [20, 57, 71, 80]) expect(fitName('n'.repeat(length), max).length).toBeLessThanOrEqual(max);
    }
  });
});

describe('deadLetterQueueName / deadLetterSourceName (the one <queue>-dlq rule)', () => {
  it("names a queue's dead-letter queue <queue>-dlq", () => {
    expect(deadLetterQueueName('billing--order___2e_paid')).toBe('billing--order___2e_paid-dlq');
    expect(deadLetterQueueName('orders-retry')).toBe('orders-retry-dlq');
  });

  it('finds the source queue of a name deadLetterQueueName made, and none for any other name', () => {
    for (const queue of ['orders', 'a-dlq', 'x.y']) expect(deadLetterSourceName(deadLetterQueueName(queue))).toBe(queue);
    expect(deadLetterSourceName('orders')).toBeUndefined();
    expect(deadLetterSourceName('orders-dlq2')).toBeUndefined();
    expect(deadLetterSourceName('orders_dlq')).toBeUndefined();
  });

  it('on SQS a FIFO queue x.fifo gets x-dlq.fifo, and a name that already ends in .fifo keeps it', () => {
    const deadLetter = { name: deadLetterQueueName('orders') };
    expect(sqsDeadLetterQueueName({ deadLetter, fifo: true })).toBe('orders-dlq.fifo');
    expect(sqsDeadLetterQueueName({ deadLetter, fifo: false })).toBe('orders-dlq');
    expect(sqsDeadLetterQueueName({ deadLetter: null, fifo: true })).toBeUndefined();
    expect(queueName({ name: 'orders', fifo: true })).toBe('orders.fifo');
    expect(queueName({ name: 'orders.fifo', fifo: true })).toBe('orders.fifo');
  });
});
