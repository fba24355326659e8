import 'reflect-metadata';
import type { INestApplication, Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { lastValueFrom } from 'rxjs';
import {
  MessagingClient,
  MessagingModule,
  MessagingServer,
  ProvisioningError,
  PublishError,
  type MessagingModuleOptions,
} from '../../lib/index.js';
import { controllerFor } from '../support/controllers.js';
import { deferred } from '../support/deferred.js';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { type Fauxqs, FAUXQS_CREDENTIALS, FAUXQS_REGION, startFauxqs } from '../support/fauxqs.js';
import { closedPort } from '../support/ports.js';
import { startFaultProxy, startStalledEndpoint } from '../support/fault-proxy.js';
import { startTestApp } from '../support/apps.js';
import { uniqueName } from '../support/wait-for.js';
import { AWS_CREDENTIALS, CaptureLogger } from './support/logs.js';

/**
 * Issue 9, findings 2 and 3: every SNS/SQS call has a connection and a request timeout, so that startup, emit and close
 * end in bounded time against an endpoint that accepts TCP and never answers; a provisioning failure is a
 * ProvisioningError naming the endpoint, the operation and what to check.
 */
const PENDING = Symbol('pending');

/** Settles `promise` or gives up after `ms` (reported as PENDING), with the time it took. */
async function timed<T>(promise: Promise<T>, ms: number): Promise<{ ms: number; value?: T | typeof PENDING; error?: unknown }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<typeof PENDING>((resolve) => {
    timer = setTimeout(() => resolve(PENDING), ms);
  });
  try {
    const value = await Promise.race([promise, pending]);
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  } finally {
    clearTimeout(timer);
  }
}

describe('faults: SNS+SQS calls against a stalled or refusing endpoint', () => {
  let fauxqs: Fauxqs;
  const logger = new CaptureLogger();
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });
  afterAll(async () => {
    await fauxqs?.stop();
  });

  const requestTimeout = 500;
  const maxAttempts = 2;
  // each call: maxAttempts × requestTimeout plus the SDK's retry delay (well under a second at attempt 2) and the app's
  // own startup around it (3,054 ms was seen once on a CI machine at load 12 with a 2 s margin: 3 s leaves room for that)
  const callBound = maxAttempts * requestTimeout + 3000;
  const options = (endpoint: string, extra: Partial<MessagingModuleOptions['snsSqs']> = {}): MessagingModuleOptions => ({
    transport: 'sns-sqs',
    serviceName: uniqueName('svc'),
    drainTimeout: 2000,
    snsSqs: {
      region: 'us-east-1',
      endpoint,
      credentials: AWS_CREDENTIALS,
      waitTimeSeconds: 1,
      maxAttempts,
      requestTimeout,
      connectTimeout: 500,
      ...extra,
    },
  });

  /** Starts the microservice; resolves with the startup error (or undefined), the app closed either way. */
  async function startupError(moduleOptions: MessagingModuleOptions, controllers: Type[]): Promise<unknown> {
    const moduleRef = await Test.createTestingModule({ imports: [MessagingModule.forRoot(moduleOptions)], controllers }).compile();
    const app = moduleRef.createNestApplication({ logger });
    cleanups.push(() => app.close());
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    try {
      await app.startAllMicroservices();
      return undefined;
    } catch (error) {
      return error;
    }
  }

  it('startup against a stalled endpoint fails in bounded time with a ProvisioningError naming the endpoint and the operation', async () => {
    const stalled = await startStalledEndpoint();
    cleanups.push(() => stalled.close());
    const queueName = uniqueName('f-stalled');
    const result = await timed(
      startupError(options(stalled.endpoint), [controllerFor([{ pattern: queueName, extras: { queueName }, handle: () => undefined }])]),
      30_000,
    );
    process.stderr.write(
      `[finding 2] startup against a stalled endpoint: ${result.value === PENDING ? 'still pending after' : 'failed after'} ${result.ms} ms: ${String(result.value === PENDING ? '' : result.value)}\n`,
    );
    expect(result.value).not.toBe(PENDING);
    expect(result.value).toBeInstanceOf(ProvisioningError);
    const error = result.value as ProvisioningError;
    expect(error.endpoint).toBe(stalled.endpoint);
    expect(error.operation).toBe(`ListQueues (queues named ${queueName}…)`);
    expect(error.message).toContain(stalled.endpoint);
    expect(error.message).toMatch(/no response within snsSqs\.requestTimeout \(500 ms\)/);
    // the first provisioning call timed out after its attempts; nothing else waited
    expect(result.ms).toBeLessThan(callBound);
  }, 40_000);

  it('startup against a closed port: a ProvisioningError that says nothing accepts connections there', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const queueName = uniqueName('f-refused');
    const error = await startupError(options(endpoint), [
      controllerFor([{ pattern: queueName, extras: { queueName, deadLetterQueueName: false }, handle: () => undefined }]),
    ]);
    expect(error).toBeInstanceOf(ProvisioningError);
    expect((error as ProvisioningError).message).toContain(
      `sns-sqs provisioning failed at ${endpoint}: ListQueues (queues named ${queueName}…): connection refused (ECONNREFUSED`,
    );
    expect((error as ProvisioningError).message).toContain(`Nothing accepts connections at ${endpoint}: check snsSqs.endpoint`);
  }, 20_000);

  it('AccessDenied on CreateQueue: a ProvisioningError naming the IAM action sqs:CreateQueue', async () => {
    const queueName = uniqueName('f-denied');
    const moduleRef = await Test.createTestingModule({
      imports: [MessagingModule.forRoot(options(fauxqs.endpoint))],
      controllers: [controllerFor([{ pattern: queueName, extras: { queueName, deadLetterQueueName: false }, handle: () => undefined }])],
    }).compile();
    const app = moduleRef.createNestApplication({ logger });
    cleanups.push(() => app.close());
    const { sqs } = app.get(MessagingServer).unwrap<{ sqs: { middlewareStack: { add: Function } } }>();
    sqs.middlewareStack.add(
      (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
        if (context.commandName === 'CreateQueueCommand') {
          throw Object.assign(new Error('User: arn:aws:iam::000000000000:user/ci is not authorized to perform: sqs:createqueue'), {
            name: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'denyCreateQueue' },
    );
    app.connectMicroservice({ strategy: app.get(MessagingServer) }, { inheritAppConfig: true });
    const error = await app.startAllMicroservices().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvisioningError);
    const e = error as ProvisioningError;
    expect(e.operation).toBe(`CreateQueue ${queueName}`);
    expect(e.endpoint).toBe(fauxqs.endpoint);
    expect(e.message).toContain('AccessDenied: User: arn:aws:iam::000000000000:user/ci is not authorized');
    expect(e.message).toContain('allows sqs:CreateQueue');
  }, 20_000);

  it('emit against a stalled endpoint rejects with a PublishError within its timeout', async () => {
    const stalled = await startStalledEndpoint();
    cleanups.push(() => stalled.close());
    const app = await startTestApp(options(stalled.endpoint), [], { logger, listen: false });
    cleanups.push(() => app.close());
    const result = await timed(
      lastValueFrom(app.get(MessagingClient).emit(uniqueName('f-stalled-emit'), { n: 1 }), { defaultValue: undefined }),
      30_000,
    );
    process.stderr.write(
      `[finding 2] emit against a stalled endpoint: ${result.value === PENDING ? 'still pending after' : 'rejected after'} ${result.ms} ms: ${String(result.error ?? '')}\n`,
    );
    expect(result.value).not.toBe(PENDING);
    expect(result.error).toBeInstanceOf(PublishError);
    expect(String(result.error)).toContain(stalled.endpoint);
    // the topic lookup (ListTopics) is the one call that timed out
    expect(result.ms).toBeLessThan(callBound);
  }, 40_000);

  it('a large-payload emit whose S3 upload stalls rejects with a PublishError within the S3 client timeout', async () => {
    const url = new URL(fauxqs.endpoint);
    const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
    cleanups.push(() => proxy.close());
    const bucket = uniqueName('f-claims').toLowerCase();
    const s3 = new S3Client({ region: FAUXQS_REGION, endpoint: fauxqs.endpoint, credentials: FAUXQS_CREDENTIALS, forcePathStyle: true });
    cleanups.push(async () => s3.destroy());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const app = await startTestApp(
      { ...options(proxy.endpoint), snsSqs: { ...options(proxy.endpoint).snsSqs, largePayload: { bucket, thresholdBytes: 1024 } } },
      [],
      {
        logger,
        listen: false,
      },
    );
    cleanups.push(() => app.close());
    proxy.stall();
    const result = await timed(
      lastValueFrom(app.get(MessagingClient).emit(uniqueName('f-stalled-s3'), { blob: 'x'.repeat(4096) }), { defaultValue: undefined }),
      30_000,
    );
    process.stderr.write(
      `[S3] large-payload emit with a stalled S3: ${result.value === PENDING ? 'still pending after' : 'rejected after'} ${result.ms} ms: ${String(result.error ?? '')}\n`,
    );
    expect(result.value).not.toBe(PENDING);
    expect(result.error).toBeInstanceOf(PublishError);
    expect(String(result.error)).toContain(`S3 bucket "${bucket}"`);
    // the PutObject was the call that timed out: the S3 client has the SNS/SQS clients' timeouts
    expect(result.ms).toBeLessThan(callBound);
  }, 40_000);

  it('app.close() honours drainTimeout when the endpoint stalls mid-run (deletes, releases, queue removal, emits in flight)', async () => {
    const url = new URL(fauxqs.endpoint);
    const proxy = await startFaultProxy({ host: url.hostname, port: Number(url.port) });
    cleanups.push(() => proxy.close());
    const topic = uniqueName('f-stall-close');
    const started = deferred();
    const finish = deferred();
    const drainTimeout = 2000;
    // requestTimeout far above drainTimeout: close() must not depend on it
    const moduleOptions = { ...options(proxy.endpoint, { requestTimeout: 60_000, maxAttempts: 3 }), drainTimeout };
    const app: INestApplication = await startTestApp(
      moduleOptions,
      [
        controllerFor([
          {
            pattern: topic,
            extras: { queueName: topic },
            handle: async () => {
              started.resolve();
              await finish.promise;
            },
          },
          { pattern: topic, extras: { competing: false }, handle: () => undefined },
        ]),
      ],
      { logger },
    );
    await lastValueFrom(app.get(MessagingClient).emit(topic, { n: 1 }), { defaultValue: undefined });
    await started.promise;
    proxy.stall();
    finish.resolve(); // its delete now hangs
    const inFlightEmit = lastValueFrom(app.get(MessagingClient).emit(topic, { n: 2 }), { defaultValue: undefined }).catch(
      (e: unknown) => e,
    );
    const result = await timed(app.close(), 60_000);
    process.stderr.write(
      `[finding 2] close() with a stalled endpoint, drainTimeout ${drainTimeout} ms: ${result.value === PENDING ? 'still pending after' : 'resolved after'} ${result.ms} ms\n`,
    );
    expect(result.value).not.toBe(PENDING);
    expect(result.error).toBeUndefined();
    // drain deadline + the 1 s grace for releases and removals, plus scheduling margin
    expect(result.ms).toBeLessThan(drainTimeout + 2500);
    // the emit that was in flight does not hang either: closing the clients ends it
    expect(await timed(inFlightEmit, 5000)).not.toMatchObject({ value: PENDING });
  }, 90_000);
});
