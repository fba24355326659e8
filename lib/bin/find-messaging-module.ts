import type { DynamicModule, Type } from '@nestjs/common';
import { brokerTokenConnection } from '../constants.js';
import { DEFAULT_CONNECTION } from '../options/connection-names.js';

/** What the topology CLI asks of the app's MessagingServer (whichever build of the library the app loaded). */
export interface TopologyServer {
  connections(): readonly { name: string }[];
  describeTopology(options?: { connection?: string }): unknown;
  describeTopologies(): { connection: string; topology: unknown }[];
}

/** One `MessagingModule.forRoot(...)` / `forRootAsync(...)` import, the unnamed one or a named one. */
export interface FoundConnectionModule {
  /** `'default'` for the unnamed forRoot, else its `name`. */
  connection: string;
  /** The import itself, to add an override provider to. */
  dynamic: DynamicModule;
  brokerToken: symbol;
}

export interface FoundMessagingModules {
  /** Every MessagingModule import of the module tree, in the order found. */
  connections: FoundConnectionModule[];
  /** The unnamed forRoot's MessagingServer (it describes every connection); undefined when there is no unnamed forRoot. */
  serverClass?: Type<TopologyServer>;
}

const isDynamic = (value: unknown): value is DynamicModule => !!value && typeof value === 'object' && 'module' in value;

/**
 * Finds every MessagingModule import in the module tree (the unnamed forRoot and each named one) by its own metadata
 * (provider tokens, the server's class name), so it works with whichever copy of nestjs-messaging (ESM or CJS build)
 * the user's module loaded. No module is instantiated.
 */
export async function findMessagingModules(root: Type): Promise<FoundMessagingModules> {
  const found: FoundMessagingModules = { connections: [] };
  const seen = new Set<unknown>();
  const visit = async (entry: unknown): Promise<void> => {
    let node = entry instanceof Promise ? await entry : entry;
    if (node && typeof node === 'object' && 'forwardRef' in node) node = (node as { forwardRef: () => unknown }).forwardRef();
    if (!node || seen.has(node)) return;
    seen.add(node);
    const moduleClass = (isDynamic(node) ? node.module : node) as Type;
    if (isDynamic(node)) inspect(node, moduleClass, found);
    const imports = [
      ...((Reflect.getMetadata('imports', moduleClass) as unknown[]) ?? []),
      ...(isDynamic(node) ? (node.imports ?? []) : []),
    ];
    for (const child of imports) await visit(child);
  };
  await visit(root);
  return found;
}

/** A dynamic module that provides a connection's broker is a MessagingModule import; the unnamed one also has the server. */
function inspect(dynamic: DynamicModule, moduleClass: Type, found: FoundMessagingModules): void {
  const providers = [...((Reflect.getMetadata('providers', moduleClass) as unknown[]) ?? []), ...(dynamic.providers ?? [])];
  for (const provider of providers) {
    const token =
      provider && typeof provider === 'object' && 'provide' in provider ? (provider as { provide: unknown }).provide : undefined;
    const connection = brokerTokenConnection(token);
    if (connection === undefined) continue;
    found.connections.push({ connection, dynamic, brokerToken: token as symbol });
    if (connection === DEFAULT_CONNECTION)
      found.serverClass ??= providers.find(
        (p): p is Type<TopologyServer> => typeof p === 'function' && p.name === 'MessagingServer' && 'describeTopologies' in p.prototype,
      );
  }
}
