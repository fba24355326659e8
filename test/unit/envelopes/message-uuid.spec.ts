import { newMessageUuid } from '../../../lib/envelopes/envelope-fields.js';

const UUID4 = '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}';

describe('newMessageUuid (tomodachi message uuid: service uuid, a dot, a uuid4)', () => {
  const service = '0b7a41c3-6f1e-4a9c-9d2e-2f5c8e1d7a44';

  it('is the service uuid, a dot and an RFC 9562 version 4 uuid in lower-case hex', () => {
    const uuid = newMessageUuid(service);
    expect(uuid).toMatch(new RegExp(`^${service}\\.${UUID4}$`));
  });

  it('never repeats across several refills of its random pool (256 uuids per refill)', () => {
    const seen = new Set<string>();
    for (let k = 0; k < 256 * 40 + 7; k++) seen.add(newMessageUuid(service));
    expect(seen.size).toBe(256 * 40 + 7);
  });

  it('spreads every hex digit over the random positions (no position stuck)', () => {
    const digitsAt = Array.from({ length: 36 }, () => new Set<string>());
    for (let k = 0; k < 2000; k++) {
      const uuid = newMessageUuid(service).slice(service.length + 1);
      for (let at = 0; at < 36; at++) digitsAt[at].add(uuid[at]);
    }
    const fixed = new Map([
      [8, '-'],
      [13, '-'],
      [18, '-'],
      [23, '-'],
      [14, '4'],
    ]);
    for (let at = 0; at < 36; at++) {
      if (fixed.has(at)) expect([...digitsAt[at]]).toEqual([fixed.get(at)]);
      else if (at === 19) expect([...digitsAt[at]].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(digitsAt[at].size).toBe(16);
    }
  });

  it('keeps each service uuid its own prefix, including one outside latin1', () => {
    expect(newMessageUuid('orders')).toMatch(new RegExp(`^orders\\.${UUID4}$`));
    expect(newMessageUuid('zahlung-€')).toMatch(new RegExp(`^zahlung-€\\.${UUID4}$`));
    expect(newMessageUuid(service)).toMatch(new RegExp(`^${service}\\.${UUID4}$`));
  });
});
