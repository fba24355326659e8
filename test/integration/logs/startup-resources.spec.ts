import type { INestApplication } from '@nestjs/common';
import { startTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions } from '../../support/rabbitmq.js';
import { uniqueName } from '../../support/wait-for.js';
import { CaptureLogger } from '../../faults/support/logs.js';

/** Issue 21: at startup one LOG per queue names what feeds it and its dead-letter queue, and what was done with each. */
describe('startup resources in the log', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function start(options: Parameters<typeof startTestApp>[0], controllers: Parameters<typeof startTestApp>[1]) {
    const logger = new CaptureLogger();
    apps.push(await startTestApp(options, controllers, { logger }));
    return logger.lines.filter((l) => l.startsWith('LOG') && / → queue /.test(l));
  }

  describe('SNS+SQS (fauxqs)', () => {
    let fauxqs: Fauxqs;
    beforeAll(async () => {
      fauxqs = await startFauxqs();
    });
    afterAll(() => fauxqs.stop());

    it('topic → queue → dead-letter queue: created on the first start, exists on the next', async () => {
      const [paid, refunded, queueName] = [uniqueName('paid'), uniqueName('refunded'), uniqueName('billing')];
      const controllers = () => [
        controllerFor([
          { pattern: paid, extras: { queueName }, handle: () => undefined },
          { pattern: refunded, extras: { queueName }, handle: () => undefined },
        ]),
      ];
      const options = fauxqsOptions(fauxqs, { serviceName: uniqueName('svc'), maxReceiveCount: 4 });
      expect(await start(options, controllers())).toEqual([
        `LOG SNS topic ${paid} (created), ${refunded} (created) → queue ${queueName} (created) → dead-letter queue ${queueName}-dlq (created; after 4 attempts) Messaging`,
      ]);
      await Promise.all(apps.splice(0).map((app) => app.close()));
      expect(await start(options, controllers())).toEqual([
        `LOG SNS topic ${paid} (exists), ${refunded} (exists) → queue ${queueName} (exists) → dead-letter queue ${queueName}-dlq (exists; after 4 attempts) Messaging`,
      ]);
    });
  });

  describe('AMQP', () => {
    const track = cleanUpBrokerAfterAll();
    it('exchange bindings → queue → retry queue, dead-letter queue: declared', async () => {
      const exchange = track(uniqueName('ex-start'));
      const prefix = track(uniqueName('st'));
      const [paid, refunded] = [uniqueName('paid'), uniqueName('refunded')];
      const lines = await start(rabbitMqOptions({ serviceName: uniqueName('svc'), queueNamePrefix: `${prefix}-`, amqp: { exchange } }), [
        controllerFor([
          { pattern: paid, extras: { queueName: 'billing' }, handle: () => undefined },
          { pattern: refunded, extras: { queueName: 'billing' }, handle: () => undefined },
        ]),
      ]);
      expect(lines).toEqual([
        `LOG AMQP exchange ${exchange} "${paid}", exchange ${exchange} "${refunded}" → queue ${prefix}-billing → retry queue ${prefix}-billing-retry, dead-letter queue ${prefix}-billing-dlq: declared Messaging`,
      ]);
    });
  });
});
