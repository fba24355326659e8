import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cleanUpBrokerAfterAll } from '../../support/rabbitmq.js';
import { uniqueName } from '../../support/wait-for.js';

const run = promisify(execFile);
const root = resolve('.');

/** The child app's queues (named after its service) are deleted after all tests. */
const track = cleanUpBrokerAfterAll();

/**
 * The CommonJS build (compiled here into a temp dir with the build's own tsconfig) loaded by a plain AMQP-only
 * consumer app: none of the observability peers, nor the AWS SDK, may be loaded at startup.
 */
describe('optional observability peers are loaded only when used', () => {
  let out: string;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'nestjs-messaging-lazy-'));
    await run(join(root, 'node_modules/.bin/tsc'), ['-p', join(root, 'tsconfig.build.cjs.json'), '--outDir', out], { cwd: root });
    writeFileSync(join(out, 'package.json'), '{"type":"commonjs"}');
  }, 120_000);
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('an AMQP consumer app starts without @nestjs/terminus, prom-client, @opentelemetry/api or the AWS SDK; terminus loads on the first health check', async () => {
    const app = join(out, 'lazy-app.cjs');
    const serviceName = track(uniqueName('lazy-svc'));
    writeFileSync(
      app,
      `
      require('reflect-metadata');
      const { Module, Controller } = require('@nestjs/common');
      const { NestFactory } = require('@nestjs/core');
      const { EventPattern } = require('@nestjs/microservices');
      const { MessagingModule, MessagingServer, MessagingHealthIndicator } = require(${JSON.stringify(join(out, 'index.js'))});
      class Handlers { on() {} }
      Reflect.decorate([EventPattern(${JSON.stringify(uniqueName('lazy'))})], Handlers.prototype, 'on', Object.getOwnPropertyDescriptor(Handlers.prototype, 'on'));
      Reflect.decorate([Controller()], Handlers);
      class AppModule {}
      Reflect.decorate([Module({ imports: [MessagingModule.forRoot({ transport: 'amqp', serviceName: ${JSON.stringify(serviceName)}, amqp: { url: ${JSON.stringify(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672')} } })], controllers: [Handlers] })], AppModule);
      (async () => {
        const app = await NestFactory.create(AppModule, { logger: false });
        app.connectMicroservice({ strategy: app.get(MessagingServer) });
        await app.startAllMicroservices();
        await app.init();
        const indicator = app.get(MessagingHealthIndicator);
        const peers = () => Object.keys(require.cache).filter((p) => /node_modules[\\\\/](@nestjs[\\\\/]terminus|prom-client|@opentelemetry|@aws-sdk)[\\\\/]/.test(p));
        const loaded = peers();
        // the control: the first health check does load terminus, and this check sees it
        const health = await indicator.isHealthy('messaging');
        const afterCheck = peers().some((p) => /@nestjs[\\\\/]terminus/.test(p));
        await app.close();
        console.log(JSON.stringify({ loaded, health, afterCheck }));
      })().catch((e) => { console.error(e); process.exit(1); });
    `,
    );
    const { stdout } = await run(process.execPath, [app], {
      cwd: root,
      env: { ...process.env, NODE_PATH: join(root, 'node_modules') },
      timeout: 60_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    expect(result).toEqual({ loaded: [], health: { messaging: { status: 'up', transport: 'amqp', consumers: 1 } }, afterCheck: true });
  }, 90_000);
});
