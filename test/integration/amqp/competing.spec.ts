import 'reflect-metadata';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { ChannelModel } from 'amqplib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { lastValueFrom } from 'rxjs';
import { MessagingClient } from '../../../lib/index.js';
import { cleanUpBrokerAfterAll, rabbitMqOptions, rawConnection } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName, waitFor } from '../../support/wait-for.js';

const run = promisify(execFile);

function makeController(app: string, seen: Array<{ app: string; kind: string; i: number }>) {
  @Controller()
  class ReplicaController {
    @EventPattern('job')
    job(@Payload() data: { i: number }) {
      seen.push({ app, kind: 'job', i: data.i });
    }

    @EventPattern('cache-invalidate', { competing: false })
    invalidate(@Payload() data: { i: number }) {
      seen.push({ app, kind: 'invalidate', i: data.i });
    }
  }
  return ReplicaController;
}

describe('AMQP competing and per-process queues', () => {
  let raw: ChannelModel;
  const apps: INestApplication[] = [];
  const exchange = uniqueName('ex-compete');
  const serviceName = uniqueName('s');
  const queuePrefix = 'c';

  beforeAll(async () => {
    raw = await rawConnection();
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await raw.close();
  });
  // declared after the hook that closes the apps, so it runs after it (and on a connection of its own)
  const track = cleanUpBrokerAfterAll();
  track(exchange);
  track(serviceName);

  it('replicas share a competing queue (each message handled once) and each gets its own non-competing queue, removed on close', async () => {
    const seen: Array<{ app: string; kind: string; i: number }> = [];
    const options = { serviceName, queueNamePrefix: queuePrefix, amqp: { exchange, prefetch: 5 } };
    const a = await startTestApp(rabbitMqOptions(options), [makeController('a', seen)]);
    apps.push(a);
    const b = await startTestApp(rabbitMqOptions(options), [makeController('b', seen)]);
    apps.push(b);
    const client = a.get(MessagingClient);

    const n = 200;
    await Promise.all(Array.from({ length: n }, (_, i) => lastValueFrom(client.emit('job', { i }))));
    await waitFor(() => seen.filter((s) => s.kind === 'job').length >= n, { what: `${n} jobs` });
    const jobs = seen.filter((s) => s.kind === 'job');
    expect(new Set(jobs.map((j) => j.i)).size).toBe(n);
    expect(jobs).toHaveLength(n);
    expect(jobs.some((j) => j.app === 'a')).toBe(true);
    expect(jobs.some((j) => j.app === 'b')).toBe(true);

    await lastValueFrom(client.emit('cache-invalidate', { i: 1 }));
    await waitFor(() => seen.filter((s) => s.kind === 'invalidate').length === 2, { what: 'fan-out to both processes' });
    expect(
      seen
        .filter((s) => s.kind === 'invalidate')
        .map((s) => s.app)
        .sort(),
    ).toEqual(['a', 'b']);

    const perProcess = await listQueuesLike(raw, `${queuePrefix}${serviceName}--cache-invalidate`);
    expect(perProcess.length).toBeGreaterThanOrEqual(2);
    await b.close();
    apps.pop();
    const remaining = await listQueuesLike(raw, `${queuePrefix}${serviceName}--cache-invalidate`);
    expect(remaining.length).toBeLessThan(perProcess.length);
    await a.close();
    apps.pop();
    expect(await listQueuesLike(raw, `${queuePrefix}${serviceName}--cache-invalidate`)).toEqual([]);
  });
});

/** Queue names on the broker that start with `prefix` (rabbitmqctl: no management plugin needed). */
async function listQueuesLike(_raw: ChannelModel, prefix: string): Promise<string[]> {
  const { stdout } = await run('rabbitmqctl', ['list_queues', '-q', 'name']);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((name) => name.startsWith(prefix));
}
