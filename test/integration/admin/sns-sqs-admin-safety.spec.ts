import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DeadLetterError, MessagingAdminService } from '../../../lib/index.js';
import { deleteSnsSqsResources, SNS_SQS_EMULATORS } from '../../support/emulators.js';
import { fauxqsOptions, type Fauxqs } from '../../support/fauxqs.js';
import { closedPort } from '../../support/ports.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { startAdminApp, type AdminHttpApp } from './admin-app.js';

const REFUSED_TOPIC = 'order.refused';

@Controller()
class RefusingController {
  @EventPattern(REFUSED_TOPIC)
  refuse(@Payload() order: { n: number }) {
    throw new DeadLetterError(`order ${order.n} has no customer`);
  }
}

describe.each(SNS_SQS_EMULATORS)('admin API safety on SNS+SQS (%s)', (_emulator, start) => {
  let emulator: Fauxqs;
  let http: AdminHttpApp;
  const prefix = uniqueName('ads');

  beforeAll(async () => {
    emulator = await start();
    http = await startAdminApp(
      fauxqsOptions(emulator, { serviceName: 'admin-safety', topicPrefix: `${prefix}-`, queueNamePrefix: `${prefix}-` }),
      undefined,
      {
        controllers: [RefusingController],
      },
    );
  });

  afterAll(async () => {
    await http?.close();
    if (!emulator) return;
    await deleteSnsSqsResources(emulator, prefix);
    await emulator.stop();
  });

  const info = async (queue: string) =>
    (await http.call('GET', `/queues/${queue}`)).json as { messages: number; inFlight: number; arn: string; url: string };
  const fill = async (queue: string, count: number) => {
    for (let n = 1; n <= count; n++)
      expect((await http.call('POST', `/queues/${queue}/messages`, { data: { n }, topic: 'order-failed' })).status).toBe(201);
    await waitFor(async () => (await info(queue)).messages === count, { what: `${count} messages in ${queue}` });
  };

  it('refuses a redrive whose RedrivePolicy sends the queue to itself, and moves nothing', async () => {
    const queue = `${prefix}-${uniqueName('self')}`;
    await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    const { arn, url } = await info(queue);
    await emulator.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: url,
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: 3 }) },
      }),
    );
    await fill(queue, 3);

    const started = Date.now();
    const refused = await http.call('POST', `/queues/${queue}/redrive`, {});
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(refused.status).toBe(400);
    expect(refused.json.message).toMatch(/^Invalid to: the RedrivePolicy of .* names the queue itself/);
    expect(await info(queue)).toMatchObject({ messages: 3, inFlight: 0 });
  });

  it('stops a redrive when its signal is aborted, leaving the messages in the dead-letter queue', async () => {
    const queue = `${prefix}-${uniqueName('abort')}`;
    await http.call('POST', '/queues', { name: queue });
    await fill(`${queue}-dlq`, 2);
    const admin = http.app.get(MessagingAdminService);
    expect(await admin.redrive(`${queue}-dlq`, { signal: AbortSignal.abort() })).toEqual({ from: `${queue}-dlq`, to: queue, moved: 0 });
    expect(await info(`${queue}-dlq`)).toMatchObject({ messages: 2, inFlight: 0 });
  });

  it('refuses to peek a queue that dead-letters by receive count unless spendReceive is given; two peeks dead-letter nothing', async () => {
    const queue = `${prefix}-${uniqueName('pk')}`;
    await http.call('POST', '/queues', { name: queue, maxReceiveCount: 2 });
    await fill(queue, 2);
    expect((await info(queue)) as unknown).toMatchObject({ maxReceiveCount: 2 });

    for (const _attempt of [1, 2]) {
      const refused = await http.call('POST', `/queues/${queue}/peek`, { max: 10 });
      expect(refused.status).toBe(409);
      expect(refused.json.message).toContain('spendReceive: true');
      expect(refused.json.message).toContain(`"${queue}-dlq"`);
    }
    expect(await info(queue)).toMatchObject({ messages: 2, inFlight: 0 });
    expect((await info(`${queue}-dlq`)).messages).toBe(0);

    const spent = await http.call('POST', `/queues/${queue}/peek`, { max: 10, spendReceive: true });
    expect(spent.status).toBe(200);
    expect((spent.json as Array<{ receiveCount: number }>).map((m) => m.receiveCount)).toEqual([1, 1]);
    await waitFor(async () => (await info(queue)).messages === 2, { what: 'the peeked messages visible again' });
  });

  it("peeks a dead-letter queue freely, with the dead-letter reason, the message's attributes and its decoded data", async () => {
    const consumed = (await http.call('GET', '/overview')).json.queues.find((q: { consumed: boolean }) => q.consumed);
    const dlq = consumed.deadLetterQueue.name as string;
    expect((await http.call('POST', `/topics/${REFUSED_TOPIC}/messages`, { data: { n: 7 }, attributes: { region: 'eu' } })).status).toBe(
      201,
    );
    await waitFor(async () => (await info(dlq)).messages === 1, { what: 'the refused message in the dead-letter queue' });

    const peeked = await http.call('POST', `/queues/${dlq}/peek`, { max: 5 });
    expect(peeked.status).toBe(200);
    expect(peeked.json).toEqual([
      expect.objectContaining({
        topic: REFUSED_TOPIC,
        data: { n: 7 },
        deadLetterReason: expect.stringContaining('order 7 has no customer'),
        attributes: expect.objectContaining({ region: 'eu', dead_letter_reason: expect.stringContaining('order 7 has no customer') }),
      }),
    ]);
  });

  it('refuses a queue whose dead-letter queue is itself before creating anything, and answers 409 for other settings', async () => {
    const queue = `${prefix}-${uniqueName('dl')}`;
    const refused = await http.call('POST', '/queues', { name: queue, deadLetterQueue: queue });
    expect(refused.status).toBe(400);
    expect(refused.json.message).toContain('deadLetterQueue');
    expect((await http.call('GET', `/queues/${queue}`)).status).toBe(404);

    await http.call('POST', '/queues', { name: queue, maxReceiveCount: 3 });
    const other = await http.call('POST', '/queues', { name: queue, maxReceiveCount: 4 });
    expect(other.status).toBe(409);
    expect(other.json.message).toContain('maxReceiveCount is 3, not 4');
    const noDlq = await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    expect(noDlq.status).toBe(409);
    expect(noDlq.json.message).toContain(`its dead-letter queue is "${queue}-dlq", not none`);
  });

  it('refuses a message group on a standard topic or queue instead of dropping it', async () => {
    const queue = `${prefix}-${uniqueName('grp')}`;
    await http.call('POST', '/queues', { name: queue, deadLetterQueue: false });
    const toQueue = await http.call('POST', `/queues/${queue}/messages`, { data: { n: 1 }, groupId: 'g1' });
    expect(toQueue.status).toBe(400);
    expect(toQueue.json.message).toContain('Invalid groupId: message groups exist only on FIFO topics and queues');
    expect((await http.call('POST', '/topics', { name: 'grouped' })).status).toBe(201);
    expect((await http.call('POST', '/topics/grouped/messages', { data: { n: 1 }, groupId: 'g1' })).status).toBe(400);
    expect((await info(queue)).messages).toBe(0);
  });

  it('answers 409 with the broker reason when SQS refuses a redrive into a FIFO queue, and keeps the messages visible', async () => {
    const queue = `${prefix}-${uniqueName('std')}`;
    const fifo = `${prefix}-${uniqueName('ff')}`;
    await http.call('POST', '/queues', { name: queue });
    expect((await http.call('POST', '/queues', { name: fifo, fifo: true, deadLetterQueue: false })).status).toBe(201);
    await fill(`${queue}-dlq`, 2);

    const refused = await http.call('POST', `/queues/${queue}-dlq/redrive`, { to: `${fifo}.fifo` });
    expect(refused.status).toBe(409);
    expect(refused.json.message).toMatch(/refused by the broker/);
    await waitFor(async () => (await info(`${queue}-dlq`)).messages === 2, {
      what: 'both messages visible in the dead-letter queue',
      timeoutMs: 5000,
    });
  });
});

describe('admin API on SNS+SQS when the service cannot be reached', () => {
  it('answers 503 naming the broker as unavailable, in bounded time', async () => {
    const closed = await closedPort();
    const endpoint = `http://127.0.0.1:${closed}`;
    const http = await startAdminApp(
      fauxqsOptions(
        { snsSqs: { region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, waitTimeSeconds: 1 } },
        { serviceName: 'admin-down', provisioning: 'off' },
      ),
    );
    try {
      const started = Date.now();
      const answer = await http.call('GET', `/queues/${uniqueName('down')}`);
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(answer.status).toBe(503);
      expect(answer.json.message).toContain('the broker is unavailable');
    } finally {
      await http.close();
    }
  });
});
