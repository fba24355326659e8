import { TopicRouter, matchesWords } from '../../../lib/transport/topic-router.js';

const routerFor = (...patterns: string[]) => new TopicRouter(patterns.map((pattern) => ({ pattern })));
const matched = (router: TopicRouter<{ pattern: string }>, topic: string) => router.match(topic)?.pattern;
const matches = (pattern: string, topic: string) => matchesWords(pattern.split('.'), 0, topic.split('.'), 0);

describe('TopicRouter', () => {
  it('routes exact topics to their own handler among several on one queue', () => {
    const router = routerFor('order-paid', 'order-refunded', 'order.shipped');
    expect(matched(router, 'order-paid')).toBe('order-paid');
    expect(matched(router, 'order-refunded')).toBe('order-refunded');
    expect(matched(router, 'order.shipped')).toBe('order.shipped');
    expect(matched(router, 'order')).toBeUndefined();
    expect(matched(router, 'order-paid.extra')).toBeUndefined();
    expect(matched(router, 'Order-paid')).toBeUndefined();
    expect(matched(router, '')).toBeUndefined();
  });

  it('prefers an exact pattern over a wildcard that also matches, whatever the order', () => {
    expect(matched(routerFor('order.*', 'order.paid'), 'order.paid')).toBe('order.paid');
    expect(matched(routerFor('#', 'order.paid'), 'order.paid')).toBe('order.paid');
    expect(matched(routerFor('#', 'order.paid'), 'order.refunded')).toBe('#');
  });

  it.each([
    ['order.*', 'order.paid', true],
    ['order.*', 'order', false],
    ['order.*', 'order.paid.eur', false],
    ['*.paid', 'order.paid', true],
    ['*.paid', 'paid', false],
    ['order.*.eur', 'order.paid.eur', true],
    ['order.*.eur', 'order.eur', false],
    ['*', 'order', true],
    ['*', 'order.paid', false],
    ['order.*', 'order.', true], // an empty word is still one word, as in RabbitMQ
  ])('`*` is exactly one word: %p vs %p → %p', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
    expect(matched(routerFor(pattern), topic)).toBe(expected ? pattern : undefined);
  });

  it.each([
    ['#', 'order', true],
    ['#', 'order.paid.eur', true],
    ['#', '', true],
    ['#.paid', 'paid', true],
    ['#.paid', 'order.paid', true],
    ['#.paid', 'a.b.order.paid', true],
    ['#.paid', 'order.paid.eur', false],
    ['order.#.eur', 'order.eur', true],
    ['order.#.eur', 'order.paid.eur', true],
    ['order.#.eur', 'order.paid.card.eur', true],
    ['order.#.eur', 'order.paid.usd', false],
    ['order.#.eur', 'invoice.paid.eur', false],
    ['order.#', 'order', true],
    ['order.#', 'order.paid.eur', true],
    ['order.#', 'orders.paid', false],
    ['order.#', 'order-paid', false],
    ['#.*', '', true],
    ['*.#.*', 'a', false],
    ['*.#.*', 'a.b', true],
    ['#.#', 'a.b.c', true],
  ])('`#` is zero or more words (leading, middle, trailing, alone): %p vs %p → %p', (pattern, topic, expected) => {
    expect(matches(pattern, topic)).toBe(expected);
  });

  it('never hands a delivery to the wrong handler of a queue with several wildcard routes', () => {
    const router = routerFor('order.*', 'invoice.#', '*.refunded.eur', 'audit');
    const table: Array<[string, string | undefined]> = [
      ['order.paid', 'order.*'],
      ['invoice', 'invoice.#'],
      ['invoice.sent.twice', 'invoice.#'],
      ['order.refunded.eur', '*.refunded.eur'],
      ['invoice.refunded.eur', 'invoice.#'],
      ['audit', 'audit'],
      ['audit.log', undefined],
      ['order', undefined],
      ['orderx.paid', undefined],
      ['shipment.refunded.usd', undefined],
    ];
    for (const [topic, pattern] of table) expect([topic, matched(router, topic)]).toEqual([topic, pattern]);
  });

  it('does not treat * or # inside a word as a wildcard', () => {
    const router = routerFor('order*', 'or#der.paid');
    expect(matched(router, 'orders')).toBeUndefined();
    expect(matched(router, 'order*')).toBe('order*');
    expect(matched(router, 'order.paid')).toBeUndefined();
  });

  it('stays fast on long topics with several # in the pattern', () => {
    const router = routerFor('#.a.#.b.#.c');
    const topic = Array.from({ length: 120 }, () => 'a').join('.');
    const started = Date.now();
    expect(matched(router, topic)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
