import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { renderTopology, TOPOLOGY_FORMATS, type TopologyFormat } from '../topology/generators.js';
import type { MessagingTopology } from '../topology/topology.types.js';
import { findMessagingModule } from './find-messaging-module.js';
import { NoIoBroker } from './no-io-broker.js';

export const USAGE = `Usage: nestjs-messaging-topology --format ${TOPOLOGY_FORMATS.join('|')} [--module <compiled module file>] [--export <name>]
  Prints the topics, queues and subscriptions the app's handlers need, without connecting to a broker.
  --module  the compiled file exporting the Nest module (default: dist/app.module.js)
  --export  the module's export name (default: AppModule)`;

interface CliArguments {
  format: TopologyFormat;
  module: string;
  exportName: string;
}

export class UsageError extends Error {}

function parseArguments(argv: readonly string[]): CliArguments {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (!['--format', '--module', '--export'].includes(flag)) throw new UsageError(`Unknown argument ${argv[i]}`);
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

/** The app's topology: an application context whose broker is a no-I/O one, the server's describeTopology(). */
async function describeModule(root: Type): Promise<MessagingTopology> {
  const found = await findMessagingModule(root);
  if (!found) throw new UsageError(`${root.name} does not import MessagingModule.forRoot(...) or forRootAsync(...)`);
  found.dynamic.providers = [...(found.dynamic.providers ?? []), { provide: found.brokerToken, useValue: new NoIoBroker() }];
  const app = await NestFactory.createApplicationContext(root, { logger: ['error'], abortOnError: false });
  try {
    return app.get(found.serverClass, { strict: false }).describeTopology() as MessagingTopology;
  } finally {
    await app.close();
  }
}

export async function runTopologyCli(argv: readonly string[], out: (text: string) => void): Promise<void> {
  const args = parseArguments(argv);
  const topology = await describeModule(await loadModuleExport(args.module, args.exportName));
  out(`${JSON.stringify(renderTopology(topology, args.format), null, 2)}\n`);
}
