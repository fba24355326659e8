import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FORMAT_HOLDS_SEVERAL_TOPOLOGIES, renderTopology, TOPOLOGY_FORMATS, type TopologyFormat } from '../topology/generators.js';
import type { MessagingTopology } from '../topology/topology.types.js';
import { findMessagingModules, type TopologyServer } from './find-messaging-module.js';
import { provideNoIoBrokers } from './no-io-broker.js';

const SEVERAL = TOPOLOGY_FORMATS.filter((format) => FORMAT_HOLDS_SEVERAL_TOPOLOGIES[format]);
const ONE = TOPOLOGY_FORMATS.filter((format) => !FORMAT_HOLDS_SEVERAL_TOPOLOGIES[format]);

export const USAGE = `Usage: nestjs-messaging-topology --format ${TOPOLOGY_FORMATS.join('|')} [--connection <name>] [--module <compiled module file>] [--export <name>]
  Prints the topics, queues and subscriptions the app's handlers need, without connecting to a broker.
  --connection  the connection to describe: a MessagingModule.forRoot({ name }), or 'default' for the unnamed forRoot.
                With several connections, ${ONE.join(', ')} need it (one document per connection); without it,
                ${SEVERAL.join(', ')} prints every connection's topology, labelled: [{ "connection": "<name>", "topology": ... }]
  --module      the compiled file exporting the Nest module (default: dist/app.module.js)
  --export      the module's export name (default: AppModule)`;

interface CliArguments {
  format: TopologyFormat;
  module: string;
  exportName: string;
  connection?: string;
}

export class UsageError extends Error {}

function parseArguments(argv: readonly string[]): CliArguments {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!['--format', '--module', '--export', '--connection'].includes(flag)) throw new UsageError(`Unknown argument ${argv[i]}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    values[flag.slice(2)] = value;
  }
  if (!values.format) throw new UsageError('--format is required');
  if (!(TOPOLOGY_FORMATS as readonly string[]).includes(values.format))
    throw new UsageError(`--format must be one of ${TOPOLOGY_FORMATS.join(', ')}; got ${values.format}`);
  return {
    format: values.format as TopologyFormat,
    module: values.module ?? 'dist/app.module.js',
    exportName: values.export ?? 'AppModule',
    ...(values.connection !== undefined ? { connection: values.connection } : {}),
  };
}

/** Loads the compiled module file (ESM or CJS) and returns its Nest module export. */
async function loadModuleExport(file: string, exportName: string): Promise<Type> {
  const path = resolve(file);
  // The ESM build imports a file URL; the CJS build compiles import() to require(), which takes a path.
  const specifier = typeof require === 'function' ? path : pathToFileURL(path).href;
  const namespace = (await import(specifier)) as Record<string, unknown> & { default?: Record<string, unknown> };
  const found = namespace[exportName] ?? namespace.default?.[exportName];
  if (typeof found !== 'function')
    throw new UsageError(`${file} has no export ${exportName} (exports: ${Object.keys(namespace).join(', ')})`);
  return found as Type;
}

/**
 * The app's topology in the format: an application context in which every connection's broker is a no-I/O one, and
 * the server's describeTopology() / describeTopologies().
 */
async function describeModule(root: Type, args: CliArguments): Promise<object> {
  const found = await findMessagingModules(root);
  if (!found.serverClass)
    throw new UsageError(
      found.connections.length > 0
        ? `${root.name} imports only named MessagingModule.forRoot({ name }) connections; import the unnamed MessagingModule.forRoot(...) too: it provides the MessagingServer`
        : `${root.name} does not import MessagingModule.forRoot(...) or forRootAsync(...)`,
    );
  provideNoIoBrokers(found.connections);
  const app = await NestFactory.createApplicationContext(root, { logger: ['error'], abortOnError: false });
  try {
    return describeApp(app.get(found.serverClass, { strict: false }), args);
  } finally {
    await app.close();
  }
}

/**
 * The connection asked for (or the only one) in the format; with several connections and no --connection, every
 * connection's topology labelled with its name, where the format can hold several.
 */
function describeApp(server: TopologyServer, args: CliArguments): object {
  const names = server.connections().map((c) => c.name);
  const listed = names.map((name) => `'${name}'`).join(', ');
  if (args.connection !== undefined && !names.includes(args.connection))
    throw new UsageError(`--connection ${args.connection}: the app has no connection of that name (its connections: ${listed})`);
  const connection = args.connection ?? (names.length === 1 ? names[0] : undefined);
  if (connection !== undefined) return renderTopology(server.describeTopology({ connection }) as MessagingTopology, args.format);
  if (!FORMAT_HOLDS_SEVERAL_TOPOLOGIES[args.format])
    throw new UsageError(
      `--format ${args.format} prints one deployable document for one connection, and the app has ${names.length} (${listed}): choose one with --connection <name>, or use --format ${SEVERAL.join('|')} to print them all`,
    );
  return server.describeTopologies().map(({ connection: name, topology }) => ({
    connection: name,
    topology: renderTopology(topology as MessagingTopology, args.format),
  }));
}

export async function runTopologyCli(argv: readonly string[], out: (text: string) => void): Promise<void> {
  const args = parseArguments(argv);
  const output = await describeModule(await loadModuleExport(args.module, args.exportName), args);
  out(`${JSON.stringify(output, null, 2)}\n`);
}
