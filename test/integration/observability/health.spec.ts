import { DeleteQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../../lib/index.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions } from '../../support/rabbitmq.js';
import { useRabbitNode, type RabbitNode } from '../../support/rabbitmq-node.js';
import { createRabbitMqUser, type RabbitMqUser } from '../../support/rabbitmq-users.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';
import { handlersController, startHttpApp, type HttpApp } from './http-app.js';

/** The connection-loss test takes its user's permissions away and closes its connection: on the run's test node. */
const rabbit = useRabbitNode();

/**
 * Closes the broker connections our app opened, no other: the client-provided connection name is
 * "<serviceName> (nestjs-messaging)". RabbitMQ 3.10's `name` column is the peer address; the client-provided name is
 * in `client_properties` (connection_name).
 */
async function closeOurConnection(node: RabbitNode, serviceName: string): Promise<number> {
  const pids = await waitFor(
    async () => {
      const stdout = await node.rabbitmqctl(['list_connections', '-q', 'client_properties', 'pid']);
      const ours = stdout
        .split('\n')
        .filter((line) => line.includes(`{"connection_name","${serviceName} (nestjs-messaging)"}`))
        .map((line) => /(<[^<>]+>)\s*$/.exec(line)?.[1])
        .filter((pid): pid is string => pid !== undefined);
      return ours.length > 0 ? ours : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: `the broker connection of ${serviceName}` },
  );
  for (const pid of pids) await node.rabbitmqctl(['close_connection', pid, 'test: health check connection loss']);
  return pids.length;
}

describe('MessagingHealthIndicator through /health over AMQP (RabbitMQ)', () => {
  const track = cleanUpBrokerAfterAll();
  let http: HttpApp | undefined;
  let user: RabbitMqUser | undefined;
  afterEach(async () => {
    await http?.close();
    http = undefined;
    await user?.remove();
    user = undefined;
  });

  it('is up, down with the reason while the broker has closed the connection, and up again after the reconnect', async () => {
    const serviceName = uniqueName('health');
    const topic = `${serviceName}-t`;
    const handled: unknown[] = [];
    user = await createRabbitMqUser('health', undefined, rabbit.node);
    http = await startHttpApp(rabbitMqOptions({ serviceName, amqp: { url: user.url, reconnectDelay: { initial: 200, max: 400 } } }), [
      handlersController([
        {
          pattern: topic,
          handle: (data) => {
            handled.push(data);
          },
        },
      ]),
    ]);
    const up = await http.get('/health');
    expect(up.status).toBe(200);
    expect(up.json().info.messaging).toEqual({ status: 'up', transport: 'amqp', consumers: 1 });

    // the reconnect is refused until permissions come back, so "down" lasts as long as the test needs
    await rabbit.node.rabbitmqctl(['clear_permissions', '-p', '/', user.user]);
    expect(await closeOurConnection(rabbit.node, serviceName)).toBe(1);
    const down = await waitFor(
      async () => {
        const response = await http!.get('/health');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, what: '/health to report down' },
    );
    const detail = down.json().error.messaging;
    expect(detail.status).toBe('down');
    expect(detail.reason).toMatch(new RegExp(`^AMQP connection to amqp://.*:\\*\\*\\*@127\\.0\\.0\\.1:${rabbit.node.port} is down`));
    expect(detail.reason).toContain('reconnecting');
    expect(down.text).not.toContain(user.password);

    await rabbit.node.rabbitmqctl(['set_permissions', '-p', '/', user.user, '.*', '.*', '.*']);
    const again = await waitFor(
      async () => {
        const response = await http!.get('/health');
        return response.status === 200 ? response : undefined;
      },
      { timeoutMs: 20_000, what: '/health to report up after the reconnect' },
    );
    expect(again.json().info.messaging).toEqual({ status: 'up', transport: 'amqp', consumers: 1 });
    // and the consumer really is back
    await lastValueFrom(http.app.get(MessagingClient).emit(topic, { after: 'reconnect' }), { defaultValue: undefined });
    await waitFor(() => handled.length === 1, { timeoutMs: 10_000, what: 'a message after the reconnect' });
  }, 60_000);

  it('with deadLetterThreshold: down once a dead-letter queue holds more than N messages', async () => {
    const serviceName = track(uniqueName('health-dlq'));
    const topic = `${serviceName}-t`;
    const check: { deadLetterThreshold?: number } = { deadLetterThreshold: 0 };
    http = await startHttpApp(
      rabbitMqOptions({ serviceName }),
      [
        handlersController([
          {
            pattern: topic,
            extras: { queueName: serviceName, maxReceiveCount: 1 },
            handle: () => {
              throw new Error('poison');
            },
          },
        ]),
      ],
      check,
    );
    const empty = await http.get('/health');
    expect(empty.status).toBe(200);
    expect(empty.json().info.messaging.deadLetters).toEqual({ [`${serviceName}-dlq`]: 0 });

    await lastValueFrom(http.app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
    const down = await waitFor(
      async () => {
        const response = await http!.get('/health');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, what: '/health to report the dead letter' },
    );
    expect(down.json().error.messaging.reason).toBe(`dead-letter queue ${serviceName}-dlq holds 1 messages (more than 0)`);

    check.deadLetterThreshold = 1;
    const tolerated = await http.get('/health');
    expect(tolerated.status).toBe(200);
    expect(tolerated.json().info.messaging.deadLetters).toEqual({ [`${serviceName}-dlq`]: 1 });
  });
});

describe('MessagingHealthIndicator through /health over SNS+SQS (fauxqs)', () => {
  let fauxqs: Fauxqs;
  let http: HttpApp | undefined;
  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs?.stop();
  });
  afterEach(async () => {
    await http?.close();
    http = undefined;
  });

  it('is down with the reason when a queue keeps failing to receive', async () => {
    const serviceName = uniqueName('health-sqs');
    http = await startHttpApp(fauxqsOptions(fauxqs, { serviceName }), [
      handlersController([{ pattern: `${serviceName}-t`, extras: { queueName: serviceName }, handle: () => undefined }]),
    ]);
    const up = await http.get('/health');
    expect(up.status).toBe(200);
    expect(up.json().info.messaging).toEqual({ status: 'up', transport: 'sns-sqs', consumers: 1 });

    const { QueueUrl } = await fauxqs.sqs.send(new GetQueueUrlCommand({ QueueName: serviceName }));
    await fauxqs.sqs.send(new DeleteQueueCommand({ QueueUrl }));
    const down = await waitFor(
      async () => {
        const response = await http!.get('/health');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 30_000, what: '/health to report the failing receives' },
    );
    expect(down.json().error.messaging.reason).toMatch(
      new RegExp(`^receiving from ${serviceName} failed \\d+ times in a row \\(last: .+\\)$`),
    );
  }, 60_000);

  it('with deadLetterThreshold: reads the SQS dead-letter queue depth', async () => {
    const serviceName = uniqueName('health-sqs-dlq');
    const topic = `${serviceName}-t`;
    http = await startHttpApp(
      fauxqsOptions(fauxqs, { serviceName }),
      [
        handlersController([
          {
            pattern: topic,
            extras: { queueName: serviceName, maxReceiveCount: 1 },
            handle: () => {
              throw new Error('poison');
            },
          },
        ]),
      ],
      { deadLetterThreshold: 0 },
    );
    expect((await http.get('/health')).status).toBe(200);
    await lastValueFrom(http.app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
    const down = await waitFor(
      async () => {
        const response = await http!.get('/health');
        return response.status === 503 ? response : undefined;
      },
      { timeoutMs: 15_000, what: '/health to report the dead letter' },
    );
    expect(down.json().error.messaging.reason).toBe(`dead-letter queue ${serviceName}-dlq holds 1 messages (more than 0)`);
  });
});
