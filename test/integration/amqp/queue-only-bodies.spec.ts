import { ProvisioningError, RawEnvelope, type MessagingContext } from '../../../lib/index.js';
import { startTestApp, tryStartTestApp } from '../../support/apps.js';
import { controllerFor } from '../../support/controllers.js';
import { queueInfo, rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { rabbitMqSuite } from '../../support/rabbitmq-suite.js';
import { tomodachiEnvelope } from '../../support/tomodachi-envelope.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

shareBroker();

/** Queue-only consumers on AMQP: what bodies decode, how several handlers on one queue are routed, a missing queue. */
describe('AMQP queue-only consumers: bodies, routing, a missing queue (RabbitMQ)', () => {
  const suite = rabbitMqSuite();
  const { apps, queues } = suite;

  async function existingQueue(base: string): Promise<string> {
    const name = uniqueName(base);
    queues.push(name, `${name}-retry`);
    const channel = await suite.raw.createChannel();
    await channel.assertQueue(name, { durable: true, arguments: { 'x-max-length': 100 } });
    await channel.close();
    return name;
  }

  async function sendRaw(queue: string, body: string | Buffer, headers: Record<string, unknown> = {}): Promise<void> {
    const channel = await suite.raw.createConfirmChannel();
    channel.sendToQueue(queue, Buffer.isBuffer(body) ? body : Buffer.from(body), { persistent: true, headers });
    await channel.waitForConfirms();
    await channel.close();
  }

  it('a RawEnvelope handler gets a plain body as it is, with its headers as attributes', async () => {
    const name = await existingQueue('raw-bodies');
    const seen: Array<{ data: unknown; attributes: Record<string, unknown> }> = [];
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [
        controllerFor([
          {
            pattern: 'legacy-feed',
            extras: { queue: name, envelope: RawEnvelope },
            handle: (data, ctx: MessagingContext) => void seen.push({ data, attributes: ctx.getAttributes() }),
          },
        ]),
      ]),
    );
    await sendRaw(name, 'id=42;status=paid', { producer: 'cobol' });
    await sendRaw(name, tomodachiEnvelope({ untouched: true }, 'x'));
    await waitFor(() => seen.length === 2, { what: 'both raw bodies' });
    expect(seen[0]).toEqual({ data: 'id=42;status=paid', attributes: { producer: 'cobol' } });
    // RawEnvelope does not unwrap an envelope: the handler gets the JSON text
    expect(JSON.parse(seen[1].data as string).data).toEqual({ untouched: true });
  });

  it("routes tomodachi envelopes on a queue with several handlers by the envelope's metadata.topic", async () => {
    const name = await existingQueue('shared-existing');
    const [paid, refunded] = [uniqueName('paid'), uniqueName('refunded')];
    const seen: Array<[string, unknown, string]> = [];
    apps.push(
      await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [
        controllerFor([
          { pattern: paid, extras: { queue: name }, handle: (d, ctx: MessagingContext) => void seen.push([paid, d, ctx.getTopic()]) },
          {
            pattern: refunded,
            extras: { queue: name },
            handle: (d, ctx: MessagingContext) => void seen.push([refunded, d, ctx.getTopic()]),
          },
        ]),
      ]),
    );
    await sendRaw(name, tomodachiEnvelope({ n: 1 }, refunded));
    await sendRaw(name, tomodachiEnvelope({ n: 2 }, paid));
    await waitFor(() => seen.length === 2, { what: 'two routed deliveries' });
    expect(seen.sort((a, b) => (a[1] as { n: number }).n - (b[1] as { n: number }).n)).toEqual([
      [refunded, { n: 1 }, refunded],
      [paid, { n: 2 }, paid],
    ]);
  });

  it('a queue-only handler for a queue that does not exist fails the start naming it, and nothing is declared', async () => {
    const name = uniqueName('missing-existing');
    queues.push(name, `${name}-retry`);
    const { app, error } = await tryStartTestApp(rabbitMqOptions({ serviceName: uniqueName('svc') }), [
      controllerFor([{ pattern: 'x', extras: { queue: name }, handle: () => undefined }]),
    ]);
    apps.push(app);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect((error as ProvisioningError).operation).toBe(
      `checkQueue ${name} (a queue-only handler's existing queue, which the library never creates)`,
    );
    expect((error as Error).message).toContain(`NOT_FOUND - no queue '${name}'`);
    expect((error as Error).message).toContain('The queue does not exist: create it, or correct the name');
    expect(await queueInfo(suite.raw, name)).toBeUndefined();
    expect(await queueInfo(suite.raw, `${name}-retry`)).toBeUndefined();
  });
});
