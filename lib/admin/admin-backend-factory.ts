import { requirePackages } from '../optional-package.js';
import type { AdminBackend } from '../transport/admin-backend.js';
import type { Connection } from '../transport/connection.js';

/**
 * The admin operations of one connection: its own transport definition (the one its broker was made with) and its
 * options and broker; the transport's optional peer packages are checked first.
 */
export async function createAdminBackend({ transport, options, broker }: Connection): Promise<AdminBackend> {
  await requirePackages(transport.packages, `MessagingAdminService on transport ${transport.name}`);
  const { backend, translateError } = await transport.createAdminBackend(options, broker);
  return withBrokerErrors(backend, translateError);
}

/**
 * The backend with every operation's broker errors turned into the admin errors the HTTP API answers with a status
 * (409 refused, 502 failed, 503 unavailable): one translation per transport instead of one per call site.
 */
function withBrokerErrors(backend: AdminBackend, translate: (operation: string, error: unknown) => unknown): AdminBackend {
  return new Proxy(backend, {
    get(target, key, receiver) {
      const member: unknown = Reflect.get(target, key, receiver);
      if (typeof member !== 'function') return member;
      return async (...args: unknown[]) => {
        try {
          return await (member as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw translate(String(key), error);
        }
      };
    },
  });
}
