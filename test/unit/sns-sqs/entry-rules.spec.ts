import { PublishError } from '../../../lib/errors.js';
import { toSnsAttributes } from '../../../lib/sns-sqs/attributes.js';
import {
  attributeCountRule,
  attributeNameRule,
  binaryValueRule,
  bodyRule,
  checkFifoIds,
  numberValueRule,
  stringValueRule,
} from '../../../lib/sns-sqs/entry-rules.js';

/** The PublishError toSnsAttributes throws for these attributes (fails the test when it throws none). */
function refusal(attributes: Record<string, unknown>, kind: 'topic' | 'queue' = 'topic'): PublishError {
  try {
    toSnsAttributes(attributes as never, 'orders', kind);
  } catch (error) {
    expect(error).toBeInstanceOf(PublishError);
    return error as PublishError;
  }
  throw new Error(`toSnsAttributes took ${JSON.stringify(Object.keys(attributes))}`);
}

describe('AWS per-message rules, checked before batching (entry-rules)', () => {
  describe('attribute names', () => {
    it.each(['currency', 'a', 'Order_Id-2', 'x.y.z', 'AWSome', 'amazonian.x', 'n'.repeat(256)])('takes %s', (name) => {
      expect(attributeNameRule(name)).toBeUndefined();
    });

    it.each([
      ['', /empty name/],
      ['n'.repeat(257), /257-character name, over AWS's 256-character limit; use a shorter name/],
      ['order id', /only A-Z, a-z, 0-9, "_", "-" and "." are allowed; rename it/],
      ['währung', /only A-Z, a-z, 0-9/],
      ['a/b', /only A-Z/],
      ['AWS.trace', /"AWS\." or "Amazon\." \(any case\) are reserved for AWS/],
      ['aws.trace', /reserved for AWS/],
      ['Amazon.x', /reserved for AWS/],
      ['AMAZON.x', /reserved for AWS/],
      ['.hidden', /must not start or end with a period/],
      ['trailing.', /must not start or end with a period/],
      ['a..b', /must not contain two periods in a row/],
    ])('refuses %j', (name, rule) => {
      expect(attributeNameRule(name)).toMatch(rule);
    });

    it('a long name is cut short in the message', () => {
      expect(attributeNameRule('x'.repeat(300))).toContain(`"${'x'.repeat(60)}…"`);
    });
  });

  describe('attribute values', () => {
    it('refuses empty strings and empty Buffers, saying what to do instead', () => {
      expect(stringValueRule('note', '')).toBe(
        'attribute "note" is an empty string, and AWS refuses empty attribute values; leave the attribute out or give it a value',
      );
      expect(binaryValueRule('blob', new Uint8Array())).toMatch(
        /attribute "blob" is an empty Buffer, and AWS refuses empty attribute values/,
      );
      expect(binaryValueRule('blob', Buffer.alloc(0))).toMatch(/empty Buffer/);
      expect(binaryValueRule('blob', Buffer.from([0]))).toBeUndefined();
    });

    it('refuses characters AWS does not allow in message content, naming the code point and where it is', () => {
      expect(stringValueRule('s', 'ok\u0000')).toMatch(/attribute "s" contains U\+0000 at index 2, a character AWS refuses/);
      expect(stringValueRule('s', 'x\uFFFF')).toMatch(/U\+FFFF at index 1/);
      expect(stringValueRule('s', '\uD800 lone surrogate')).toMatch(/U\+D800 at index 0/);
      expect(stringValueRule('s', 'tab\tline\ncr\r')).toBeUndefined();
      expect(stringValueRule('s', 'emoji 🎉 and ü')).toBeUndefined();
    });

    it('refuses numbers outside the range of AWS Number attributes', () => {
      expect(numberValueRule('n', 0)).toBeUndefined();
      expect(numberValueRule('n', -1.5e100)).toBeUndefined();
      expect(numberValueRule('n', 1e127)).toMatch(
        /outside the range of AWS Number attributes \(10\^-128 to 10\^126\); send it as a string/,
      );
      expect(numberValueRule('n', 1e-130)).toMatch(/outside the range/);
      expect(numberValueRule('n', Number.POSITIVE_INFINITY)).toMatch(/is Infinity; Number attributes must be finite/);
    });
  });

  describe('attribute count', () => {
    const names = (n: number) => Array.from({ length: n }, (_, i) => `a${i}`);

    it('SQS takes 10 and refuses 11, naming them; SNS takes more (raw delivery is off on its subscriptions)', () => {
      expect(attributeCountRule('queue', names(10))).toBeUndefined();
      expect(attributeCountRule('queue', names(11))).toMatch(
        /^11 message attributes \("a0", .*"a10"\) are over SQS's limit of 10 per message; send at most 10, and move the rest into the message data$/,
      );
      expect(attributeCountRule('topic', names(11))).toBeUndefined();
    });

    it('says that tracing adds its two attributes', () => {
      expect(attributeCountRule('queue', [...names(9), 'traceparent', 'tracestate'])).toMatch(
        /with tracing on, traceparent and tracestate count too/,
      );
    });
  });

  describe('FIFO ids', () => {
    it('takes 1-128 letters, digits and punctuation', () => {
      expect(() => checkFifoIds('topic', 'orders', 'group-1', 'dedup.1:#')).not.toThrow();
      expect(() => checkFifoIds('queue', 'orders.fifo', 'g'.repeat(128), undefined)).not.toThrow();
      expect(() => checkFifoIds('topic', 'orders', undefined, undefined)).not.toThrow();
    });

    it.each([
      ['an empty groupId', '', undefined, /groupId "" is not one AWS takes: it must be 1 to 128 characters/],
      ['a groupId of 129 characters', 'g'.repeat(129), undefined, /groupId "g+…" is not one AWS takes/],
      ['a groupId with a space', 'group 1', undefined, /no spaces, ASCII only/],
      ['a groupId that is not a string', 42, undefined, /groupId \(a number\) is not one AWS takes/],
      ['an empty deduplicationId', 'g', '', /deduplicationId "" is not one AWS takes/],
      ['a non-ASCII deduplicationId', 'g', 'dédup', /deduplicationId "dédup" is not one AWS takes/],
    ])('refuses %s', (_, groupId, deduplicationId, rule) => {
      expect(() => checkFifoIds('topic', 'orders', groupId, deduplicationId)).toThrow(rule);
    });

    it('refuses a deduplicationId without a groupId on a topic: the emit would go to the standard topic', () => {
      expect(() => checkFifoIds('topic', 'orders', undefined, 'd1')).toThrow(
        new PublishError(
          'Cannot publish to topic "orders": deduplicationId is set but groupId is not: FIFO topics need a message group; add groupId (or drop deduplicationId for a standard topic)',
        ),
      );
    });
  });

  it('refuses an empty body', () => {
    expect(bodyRule('')).toMatch(/the message body is empty .* AWS refuses empty messages/);
    expect(bodyRule('{}')).toBeUndefined();
  });

  describe('toSnsAttributes applies them, naming the topic or queue, the attribute and the rule', () => {
    it('an empty value on a topic', () => {
      expect(refusal({ ok: 'yes', note: '' }).message).toBe(
        'Cannot publish to topic "orders": attribute "note" is an empty string, and AWS refuses empty attribute values; leave the attribute out or give it a value',
      );
    });

    it('a reserved name on a queue', () => {
      expect(refusal({ 'AWS.Custom': 'x' }, 'queue').message).toMatch(
        /^Cannot send to queue "orders": attribute "AWS\.Custom" has a name AWS refuses/,
      );
    });

    it('an empty Buffer, an empty array is "[]" and not empty', () => {
      expect(refusal({ blob: Buffer.alloc(0) }).message).toMatch(/attribute "blob" is an empty Buffer/);
      expect(toSnsAttributes({ list: [] }, 'orders')).toEqual({ list: { DataType: 'String.Array', StringValue: '[]' } });
    });

    it('a String.Array whose JSON holds a character AWS refuses', () => {
      expect(refusal({ list: ['\uFFFE'] }).message).toMatch(/attribute "list" contains U\+FFFE/);
    });

    it('11 attributes on a queue but not on a topic; undefined values do not count', () => {
      const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, 'v']));
      expect(refusal(eleven, 'queue').message).toMatch(/^Cannot send to queue "orders": 11 message attributes/);
      expect(Object.keys(toSnsAttributes(eleven, 'orders', 'topic'))).toHaveLength(11);
      expect(Object.keys(toSnsAttributes({ ...eleven, a10: undefined } as never, 'orders', 'queue'))).toHaveLength(10);
    });
  });
});
