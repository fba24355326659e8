import type { DynamicModule, Type } from '@nestjs/common';

interface FoundMessagingModule {
  /** The `MessagingModule.forRoot(...)` / `forRootAsync(...)` import, to add an override provider to. */
  dynamic: DynamicModule;
  brokerToken: symbol;
  serverClass: Type<{ describeTopology(): unknown }>;
}

const isDynamic = (value: unknown): value is DynamicModule => !!value && typeof value === 'object' && 'module' in value;

/**
 * Finds the MessagingModule import in the module tree by its own metadata (name, provider tokens), so it works with
 * whichever copy of nestjs-messaging (ESM or CJS build) the user's module loaded. No module is instantiated.
 */
export async function findMessagingModule(root: Type): Promise<FoundMessagingModule | undefined> {
  const seen = new Set<unknown>();
  const visit = async (entry: unknown): Promise<FoundMessagingModule | undefined> => {
    let node = entry instanceof Promise ? await entry : entry;
    if (node && typeof node === 'object' && 'forwardRef' in node) node = (node as { forwardRef: () => unknown }).forwardRef();
    if (!node || seen.has(node)) return undefined;
    seen.add(node);
    const moduleClass = (isDynamic(node) ? node.module : node) as Type;
    if (isDynamic(node) && moduleClass.name === 'MessagingModule') {
      const found = inspect(node, moduleClass);
      if (found) return found;
    }
    const imports = [
      ...((Reflect.getMetadata('imports', moduleClass) as unknown[]) ?? []),
      ...(isDynamic(node) ? (node.imports ?? []) : []),
    ];
    for (const child of imports) {
      const found = await visit(child);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root);
}

function inspect(dynamic: DynamicModule, moduleClass: Type): FoundMessagingModule | undefined {
  const providers = (Reflect.getMetadata('providers', moduleClass) as unknown[]) ?? [];
  const brokerToken = providers
    .map((p) => (p && typeof p === 'object' && 'provide' in p ? (p as { provide: unknown }).provide : undefined))
    .find((token): token is symbol => typeof token === 'symbol' && token.description === 'MESSAGING_BROKER');
  const serverClass = providers.find(
    (p): p is FoundMessagingModule['serverClass'] =>
      typeof p === 'function' && p.name === 'MessagingServer' && 'describeTopology' in p.prototype,
  );
  return brokerToken && serverClass ? { dynamic, brokerToken, serverClass } : undefined;
}
