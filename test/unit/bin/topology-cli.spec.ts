import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { CloudFormationTemplate, TerraformJson } from '../../../lib/index.js';

const run = promisify(execFile);
const ROOT = resolve('.');

/** The bin and a small app module compiled with the library's ESM build settings into a temporary directory. */
describe('the nestjs-messaging-topology bin (child process, compiled app module, no broker)', () => {
  let out: string;
  const bin = () => join(out, 'lib/bin/nestjs-messaging-topology.js');
  const appModule = () => join(out, 'test/fixtures/topology/topology-app.module.js');
  const topology = (...args: string[]) => run(process.execPath, [bin(), ...args], { cwd: out, timeout: 30_000 });

  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'nestjs-messaging-topology-'));
    const tsconfig = join(out, 'tsconfig.json');
    await writeFile(
      tsconfig,
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.build.esm.json'),
        compilerOptions: {
          rootDir: ROOT,
          outDir: out,
          declaration: false,
          sourceMap: false,
          inlineSources: false,
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        files: [join(ROOT, 'lib/bin/nestjs-messaging-topology.ts'), join(ROOT, 'test/fixtures/topology/topology-app.module.ts')],
        include: [],
      }),
    );
    await run(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: ROOT, timeout: 120_000 });
    // the compiled files are ES modules and resolve packages from the project's node_modules
    await writeFile(join(out, 'package.json'), '{"type":"module"}');
    await symlink(join(ROOT, 'node_modules'), join(out, 'node_modules'), 'dir');
  }, 180_000);
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('prints a CloudFormation template for the module', async () => {
    const { stdout } = await topology('--format', 'cloudformation', '--module', appModule(), '--export', 'AppModule');
    const template = JSON.parse(stdout) as CloudFormationTemplate;
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::SNS::Topic')).toHaveLength(3);
    expect(types.filter((t) => t === 'AWS::SQS::Queue')).toHaveLength(4);
    expect(types.filter((t) => t === 'AWS::SNS::Subscription')).toHaveLength(3);
    expect(template.Resources.QueueProdBillingOrders.Properties).toMatchObject({ QueueName: 'prod-billing-orders', VisibilityTimeout: 45 });
  });

  it('prints Terraform JSON with --format=terraform and the default export name', async () => {
    const { stdout } = await topology('--format=terraform', '--module', appModule());
    const tf = JSON.parse(stdout) as TerraformJson;
    expect(Object.keys(tf.resource.aws_sqs_queue).sort()).toEqual([
      'prod-billing--ledger-entry_fifo',
      'prod-billing-ledger-dead_fifo',
      'prod-billing-orders',
      'prod-billing-orders-dlq',
    ]);
  });

  it('exits 2 with the usage on a bad format and when the module has no such export', async () => {
    await expect(topology('--format', 'yaml', '--module', appModule())).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--format must be one of cloudformation, terraform, rabbitmq, json'),
    });
    await expect(topology('--format', 'json', '--module', appModule(), '--export', 'Nope')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('has no export Nope'),
    });
  });
});
