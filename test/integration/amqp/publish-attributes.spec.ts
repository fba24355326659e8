import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { lastValueFrom } from 'rxjs';
import { MessagingClient, MessagingRecord, PublishError, type AttributeValue } from '../../../lib/index.js';
import { rabbitMqOptions, shareBroker } from '../../support/rabbitmq.js';
import { startTestApp } from '../../support/apps.js';
import { uniqueName } from '../../support/wait-for.js';

shareBroker();

/** Issue 9, finding 13 (AMQP): attributes AMQP headers cannot carry fail with a PublishError naming topic and attribute. */
describe('AMQP publish: unencodable attributes', () => {
  let app: INestApplication;
  let client: MessagingClient;

  beforeAll(async () => {
    app = await startTestApp(rabbitMqOptions({ serviceName: uniqueName('svc'), amqp: { exchange: 'amq.topic' } }), [], { listen: false });
    client = app.get(MessagingClient);
  });
  afterAll(() => app.close());

  it.each([
    ['a BigInt', { amount: 100n }, 'amount', /a BigInt \(100n\)/],
    ['a Symbol', { tag: Symbol('x') }, 'tag', /a Symbol/],
    ['a function inside an array', { list: ['a', () => 1] }, 'list', /an array holding a function/],
    ['NaN', { ratio: Number.NaN }, 'ratio', /the number NaN/],
  ])('%s → PublishError naming the topic and the attribute', async (_what, attributes, name, problem) => {
    const topic = uniqueName('attr');
    const error = await lastValueFrom(
      client.emit(topic, new MessagingRecord({ a: 1 }, { attributes: attributes as unknown as Record<string, AttributeValue> })),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`topic "${topic}"`);
    expect((error as Error).message).toContain(`attribute "${name}"`);
    expect((error as Error).message).toMatch(problem);
  });

  it('headers too large for a frame → PublishError naming the routing key, and the client keeps working', async () => {
    const topic = uniqueName('attr-big');
    const error = await lastValueFrom(client.emit(topic, new MessagingRecord({ a: 1 }, { attributes: { big: 'x'.repeat(70_000) } }))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PublishError);
    expect((error as Error).message).toContain(`routing key "${topic}"`);
    expect((error as Error).message).toMatch(/exceeds the 65536 byte encoding buffer/);
    await expect(
      lastValueFrom(client.emit(topic, new MessagingRecord({ a: 2 }, { attributes: { small: 'ok' } }))),
    ).resolves.toBeUndefined();
  });
});
