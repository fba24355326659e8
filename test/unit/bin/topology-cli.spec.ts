import { execFile } from 'node:child_process';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type {
  CloudFormationTemplate,
  ConnectionTopology,
  MessagingTopology,
  RabbitMqDefinitions,
  TerraformJson,
} from '../../../lib/index.js';

const run = promisify(execFile);
const ROOT = resolve('.');

/** The bin and a small app module compiled with the library's ESM build settings into a temporary directory. */
describe('the nestjs-messaging-topology bin (child process, compiled app module, no broker)', () => {
  let out: string;
  const bin = () => join(out, 'lib/bin/nestjs-messaging-topology.js');
  const appModule = () => join(out, 'test/fixtures/topology/topology-app.module.js');
  /** Three connections: default (the app above), 'partner' (SNS+SQS, forRootAsync in a module of its own), 'rabbit' (AMQP). */
  const connectionsModule = () => join(out, 'test/fixtures/topology/connections-app.module.js');
  const connections = (...args: string[]) => topology(...args, '--module', connectionsModule(), '--export', 'ConnectionsAppModule');
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
        files: [
          join(ROOT, 'lib/bin/nestjs-messaging-topology.ts'),
          join(ROOT, 'test/fixtures/topology/topology-app.module.ts'),
          join(ROOT, 'test/fixtures/topology/connections-app.module.ts'),
        ],
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

  it("one connection: --connection default prints what no --connection prints; another name is a usage error naming 'default'", async () => {
    const plain = await topology('--format', 'json', '--module', appModule());
    const chosen = await topology('--format', 'json', '--connection', 'default', '--module', appModule());
    expect(chosen.stdout).toBe(plain.stdout);
    expect((JSON.parse(plain.stdout) as MessagingTopology).transport).toBe('sns-sqs');
    await expect(topology('--format', 'json', '--connection=partner', '--module', appModule())).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--connection partner: the app has no connection of that name (its connections: 'default')"),
    });
  });

  it("several connections: --format json prints every connection's topology, labelled, the default as in a one-connection app", async () => {
    const [{ stdout }, single] = await Promise.all([
      connections('--format', 'json'),
      topology('--format', 'json', '--module', appModule()),
    ]);
    const all = JSON.parse(stdout) as ConnectionTopology[];
    expect(all.map(({ connection, topology: t }) => [connection, t.transport])).toEqual([
      ['default', 'sns-sqs'],
      ['partner', 'sns-sqs'],
      ['rabbit', 'amqp'],
    ]);
    expect(all[0].topology).toEqual(JSON.parse(single.stdout));
    expect(all[1].topology.topics.map((t) => t.name)).toEqual(['partner-invoice-requested']);
    expect(all[2].topology.queues.map((q) => q.name)).toEqual(['stock-changes', 'stock-changes-retry', 'stock-changes-dlq']);
  });

  it("several connections: --connection <name> prints that connection's document in its transport's format", async () => {
    const [partner, rabbit, byDefault] = await Promise.all([
      connections('--format', 'cloudformation', '--connection', 'partner'),
      connections('--format=rabbitmq', '--connection=rabbit'),
      connections('--format', 'terraform', '--connection', 'default'),
    ]);
    const template = JSON.parse(partner.stdout) as CloudFormationTemplate;
    const resources = Object.values(template.Resources);
    expect(resources.filter((r) => r.Type === 'AWS::SNS::Topic').map((r) => r.Properties.TopicName)).toEqual(['partner-invoice-requested']);
    expect(
      resources
        .filter((r) => r.Type === 'AWS::SQS::Queue')
        .map((r) => r.Properties.QueueName)
        .sort(),
    ).toEqual(['billing--invoice-requested', 'billing--invoice-requested-dlq']);
    const definitions = JSON.parse(rabbit.stdout) as RabbitMqDefinitions;
    expect(definitions.queues.map((q) => q.name)).toEqual(['stock-changes', 'stock-changes-retry', 'stock-changes-dlq']);
    expect(definitions.bindings).toEqual([
      expect.objectContaining({ source: 'amq.topic', destination: 'stock-changes', routing_key: 'stock.*' }),
    ]);
    expect(Object.keys((JSON.parse(byDefault.stdout) as TerraformJson).resource.aws_sqs_queue)).toHaveLength(4);
  });

  it('a connection whose transport the format does not describe exits 1 saying so', async () => {
    await expect(connections('--format', 'cloudformation', '--connection', 'rabbit')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("A CloudFormation template describes SNS+SQS resources; this topology's transport is 'amqp'"),
    });
  });

  it('several connections: a one-document format without --connection, or an unknown name, exits 2 listing the connections', async () => {
    const [missing, unknown] = await Promise.all([
      connections('--format', 'cloudformation').then(
        () => undefined,
        (e: unknown) => e,
      ),
      connections('--format', 'json', '--connection', 'partnr').then(
        () => undefined,
        (e: unknown) => e,
      ),
    ]);
    expect(missing).toMatchObject({
      code: 2,
      stdout: '',
      stderr: expect.stringContaining(
        "--format cloudformation prints one deployable document for one connection, and the app has 3 ('default', 'partner', 'rabbit'): choose one with --connection <name>, or use --format json to print them all",
      ),
    });
    expect((missing as { stderr: string }).stderr).toContain('[--connection <name>]');
    expect(unknown).toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "--connection partnr: the app has no connection of that name (its connections: 'default', 'partner', 'rabbit')",
      ),
    });
  });
});
