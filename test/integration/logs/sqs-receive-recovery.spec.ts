import type { INestApplication } from '@nestjs/common';
import { startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/**
 * Issue 21: SNS+SQS has no connection, but when receives fail (network down) one WARN says so when they start failing,
 * and one LOG when they work again; not a line per poll.
 */
describe('SNS+SQS receive failures and recovery in the log (fauxqs behind a proxy)', () => {
  let fauxqs: Fauxqs;
  let proxy: FaultProxy;
  let app: INestApplication | undefined;
  beforeAll(async () => {
    fauxqs = await startFauxqs();
    proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(new URL(fauxqs.endpoint).port) });
  });
  afterAll(async () => {
    proxy.mend();
    await app?.close();
    await proxy.close();
    await fauxqs.stop();
  });

  it('one WARN when polls start failing, DEBUG for the failures after it, one LOG when receiving works again', async () => {
    const logger = new CaptureLogger();
    const queueName = uniqueName('q');
    app = await startTestApp(
      fauxqsOptions(fauxqs, {
        serviceName: uniqueName('svc'),
        snsSqs: { endpoint: proxy.endpoint, waitTimeSeconds: 1, requestTimeout: 1000 },
      }),
      [controllerFor([{ pattern: uniqueName('t'), extras: { queueName }, handle: () => undefined }])],
      { logger },
    );
    proxy.cut();
    const failing = new RegExp(`^DEBUG Receiving from ${queueName} failed .*\\(failure 3 in a row\\)`);
    await waitFor(() => logger.lines.some((l) => failing.test(l)), { what: 'three failed receives in a row', timeoutMs: 30_000 });
    proxy.mend();
    const recovered = () => logger.lines.filter((l) => l.startsWith('LOG') && l.includes(`Receiving from ${queueName} works again`));
    await waitFor(() => recovered().length > 0, { what: 'receiving to work again', timeoutMs: 30_000 });
    const about = logger.lines.filter((l) => l.includes(`Receiving from ${queueName}`));
    expect(about.filter((l) => l.startsWith('WARN'))).toEqual([
      expect.stringMatching(/failed \(.*\); retrying in 200 ms, with a growing delay/),
    ]);
    expect(about.filter((l) => l.startsWith('ERROR'))).toEqual([]);
    expect(recovered()).toEqual([expect.stringMatching(/works again, after \d+ failed attempt\(s\) over \d+\.\d s/)]);
  }, 90_000);
});
