import type { INestApplication } from '@nestjs/common';
import {
  MessagingRecord,
  MessagingServer,
  TopologyVerificationError,
  toCloudFormation,
  type CloudFormationTemplate,
  type MessagingTopology,
  type SubscriptionExtras,
} from '../../../lib/index.js';
import { controllerFor, type Handler } from '../../support/controllers.js';
import { deployCloudFormation } from '../../support/deploy-cloudformation.js';
import { type Fauxqs, type FauxqsAppOptions, fauxqsOptions, startFauxqs } from '../../support/fauxqs.js';
import { emit, startTestApp, tryStartTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { countingBroker } from '../sns-sqs/counting-broker.js';

describe("the generated CloudFormation template is what provisioning 'verify' accepts (fauxqs round trip)", () => {
  let fauxqs: Fauxqs;
  const apps: INestApplication[] = [];
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.close()));
  });
  afterAll(() => fauxqs.stop());

  /** Three handlers on two queues (one shared, one generated name), a filter policy, tags; unique names per test. */
  function setup() {
    const serviceName = uniqueName('topo');
    const options: FauxqsAppOptions = {
      serviceName,
      topicPrefix: `${uniqueName('tp')}-`,
      provisioning: 'verify',
      snsSqs: { tags: { team: 'payments' } },
    };
    const received: Array<{ topic: string; data: unknown }> = [];
    const record: Handler = (data, ctx) => {
      received.push({ topic: ctx.getTopic(), data });
    };
    const handlers: Array<{ pattern: string; extras: SubscriptionExtras; handle: Handler }> = [
      {
        pattern: 'order.paid',
        extras: { queueName: `${serviceName}-orders`, filterPolicy: { currency: ['EUR'] }, visibilityTimeout: 20 },
        handle: record,
      },
      { pattern: 'order-refunded', extras: { queueName: `${serviceName}-orders`, visibilityTimeout: 20 }, handle: record },
      { pattern: 'ledger-entry', extras: { maxReceiveCount: 3 }, handle: record },
    ];
    return { options, received, controller: () => controllerFor(handlers) };
  }

  async function describe_(s: ReturnType<typeof setup>): Promise<MessagingTopology> {
    const app = await startTestApp(fauxqsOptions(fauxqs, s.options), [s.controller()], { listen: false });
    apps.push(app);
    return app.get(MessagingServer).describeTopology();
  }

  it("deploys the template's resources, then an app with provisioning 'verify' starts and consumes", async () => {
    const s = setup();
    const template = toCloudFormation(await describe_(s));
    await deployCloudFormation(template, fauxqs);

    const app = await startTestApp(fauxqsOptions(fauxqs, s.options), [s.controller()]);
    apps.push(app);
    await emit(app, 'ledger-entry', { entry: 1 });
    await emit(app, 'order.paid', new MessagingRecord({ id: 'eur' }, { attributes: { currency: 'EUR' } }));
    await emit(app, 'order-refunded', { id: 2 });
    await waitFor(() => s.received.length >= 3, { what: 'the ledger entry, the EUR payment and the refund' });
    expect(s.received).toEqual(
      expect.arrayContaining([
        { topic: 'ledger-entry', data: { entry: 1 } },
        { topic: 'order.paid', data: { id: 'eur' } },
        { topic: 'order-refunded', data: { id: 2 } },
      ]),
    );
  });

  it("then an app with provisioning 'create' starts without a mutating call: the exported queue policy carries the warm-start fingerprint", async () => {
    const s = setup();
    await deployCloudFormation(toCloudFormation(await describe_(s)), fauxqs);
    const createOptions: FauxqsAppOptions = { ...s.options, provisioning: 'create' };
    const counted = countingBroker(fauxqs, createOptions);
    const app = await startTestApp(fauxqsOptions(fauxqs, createOptions), [s.controller()], { broker: counted.broker });
    apps.push(app);
    expect(counted.mutating().filter((name) => !/^(DeleteMessage|ChangeMessageVisibility)/.test(name))).toEqual([]);
    expect(counted.sent.map((call) => call.name)).not.toContain('ListSubscriptionsByTopic');
  });

  it("'verify' refuses the same deployment with one resource left out, naming it", async () => {
    const s = setup();
    const template = toCloudFormation(await describe_(s));
    const [policyId] = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::SQS::QueuePolicy')!;
    const withoutPolicy: CloudFormationTemplate = {
      ...template,
      Resources: Object.fromEntries(
        Object.entries(template.Resources)
          .filter(([id]) => id !== policyId)
          .map(([id, r]) => [id, { ...r, DependsOn: r.DependsOn?.filter((d) => d !== policyId) }]),
      ),
    };
    await deployCloudFormation(withoutPolicy, fauxqs);

    const { app, error } = await tryStartTestApp(fauxqsOptions(fauxqs, s.options), [s.controller()]);
    apps.push(app);
    expect(error).toBeInstanceOf(TopologyVerificationError);
    const mismatches = (error as TopologyVerificationError).mismatches;
    const policyQueue = template.Resources[policyId].Properties.Queues as Array<{ Ref: string }>;
    const queueName = template.Resources[policyQueue[0].Ref].Properties.QueueName;
    expect(mismatches.length).toBeGreaterThan(0);
    expect(mismatches.every((m) => m.resource === queueName && m.attribute === 'Policy')).toBe(true);
  });
});
