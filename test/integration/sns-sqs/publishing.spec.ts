import type { INestApplication } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { MessageTooLargeError, PublishError } from '../../../lib/errors.js';
import { MessagingRecord } from '../../../lib/index.js';
import { type Fauxqs, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { controllerFor } from '../../support/controllers.js';
import { countingBroker } from './counting-broker.js';
import { emit, startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

describe('SNS+SQS publishing (fauxqs)', () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  it('coalesces 50 concurrent emits into PublishBatch calls of at most 10, each delivered once', async () => {
    const topic = uniqueName('bulk');
    const got: number[] = [];
    const options = { serviceName: uniqueName('svc') };
    const counted = countingBroker(fauxqs, options);
    apps.push(
      await startTestApp(
        fauxqsOptions(fauxqs, options),
        [
          controllerFor([
            {
              pattern: topic,
              handle: (d: { n: number }) => {
                got.push(d.n);
              },
            },
          ]),
        ],
        { broker: counted.broker },
      ),
    );
    counted.calls.splice(0);
    await Promise.all(Array.from({ length: 50 }, (_, n) => emit(apps[0], topic, { n })));
    const batches = counted.calls.filter((c) => c === 'PublishBatchCommand').length;
    expect(batches).toBeGreaterThanOrEqual(5);
    expect(batches).toBeLessThanOrEqual(8);
    expect(counted.calls.filter((c) => c === 'PublishCommand')).toEqual([]);
    await waitFor(() => got.length === 50, { what: '50 deliveries' });
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, n) => n));
  });

  it('a lone emit goes out at once in one call', async () => {
    const options = { serviceName: uniqueName('svc') };
    const counted = countingBroker(fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(fauxqs, options), [], { broker: counted.broker }));
    const topic = uniqueName('lone');
    await emit(apps[0], topic, { warm: true }); // creates the topic
    counted.calls.splice(0);
    const started = Date.now();
    await emit(apps[0], topic, { n: 1 });
    expect(Date.now() - started).toBeLessThan(500);
    expect(counted.calls).toEqual(['PublishBatchCommand']);
  });

  it('rejects a body over 256 KB (envelope-encoded message, or attributes) with MessageTooLargeError, before any call', async () => {
    const options = { serviceName: uniqueName('svc') };
    const counted = countingBroker(fauxqs, options);
    apps.push(await startTestApp(fauxqsOptions(fauxqs, options), [], { broker: counted.broker }));
    const topic = uniqueName('big');
    counted.calls.splice(0);
    const error = (await emit(apps[0], topic, { blob: randomBytes(300_000).toString('base64') }).catch((e: Error) => e)) as Error;
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect(error).toBeInstanceOf(PublishError);
    expect(error.message).toMatch(/over the 262144-byte limit/);
    const nearLimit = await emit(apps[0], topic, new MessagingRecord({ small: true }, { attributes: { pad: 'z'.repeat(270_000) } })).catch(
      (e) => e,
    );
    expect(nearLimit).toBeInstanceOf(MessageTooLargeError);
    expect(counted.calls).toEqual([]);
    await expect(emit(apps[0], topic, { blob: randomBytes(150_000).toString('base64') })).resolves.toBeUndefined();
  });
});
