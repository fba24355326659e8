import 'reflect-metadata';
import { useRabbitNode } from '../support/rabbitmq-node.js';
import { numbers, publishNumbered } from './support/apps.js';
import { waitFor } from '../support/wait-for.js';
import { amqpRecordingSuite } from './support/amqp-recording.js';

/**
 * AMQP connection loss during publish and consume: the broker closes the consumer's and the publisher's own
 * connections (rabbitmqctl close_connection, only ours, on the run's test node). Emits either confirm or reject;
 * consumers re-attach.
 */
const COUNT = 2000;

const rabbit = useRabbitNode();

describe('faults: AMQP connection loss', () => {
  const suite = amqpRecordingSuite('f-conn', rabbit, { cleanupTimeoutMs: 30_000 });
  const { logger, topic } = suite;

  it('5a. connections closed by the broker mid-stream: every emit confirmed or rejected, consumers re-attach, nothing lost', async () => {
    const pair = await suite.startPair(10_000);
    const { handled, publisher, server, client } = pair;
    // closes our own connection once it is up (between a loss and the reconnect there is none)
    const closeOwn = async (owner: { unwrap<T>(): T }, reason: string) => {
      const model = await waitFor(() => owner.unwrap<import('amqplib').ChannelModel | undefined>(), {
        timeoutMs: 30_000,
        what: 'a live connection',
      });
      await rabbit.node.closeConnection(model, reason);
    };
    const publishing = publishNumbered(publisher, topic, numbers(COUNT), { concurrency: 4, pauseMs: 10 });
    const progress = () => new Set(handled).size;
    await waitFor(() => progress() >= 300, { timeoutMs: 30_000, what: '300 handled' });
    await closeOwn(server, 'fault suite: consumer connection');
    await waitFor(() => progress() >= 700, { timeoutMs: 30_000, what: '700 handled after the consumer reconnected' });
    await closeOwn(client, 'fault suite: publisher connection');
    await waitFor(() => progress() >= 1100, { timeoutMs: 30_000, what: '1100 handled after the publisher reconnected' });
    await Promise.all([closeOwn(server, 'fault suite: both'), closeOwn(client, 'fault suite: both')]);
    const published = await publishing;
    const { confirmed, rejected } = published;
    const reconnects = () => logger.count('WARN', /AMQP connection to .* lost/);
    const result = await suite.settle(
      'amqp 5a broker closes connections',
      pair,
      COUNT,
      published,
      () => `4 connections closed by the broker (consumer, publisher, both), ${reconnects()} losses logged`,
    );
    expect(result.lost).toEqual([]);
    expect(confirmed.size + rejected.size).toBe(COUNT);
    expect(reconnects()).toBeGreaterThanOrEqual(4);
  }, 180_000);
});
