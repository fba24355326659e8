import { jest } from '@jest/globals';
import { createAdminBackend } from '../../../lib/admin/admin-backend-factory.js';
import { MissingDependencyError } from '../../../lib/index.js';
import type { AdminBackend } from '../../../lib/transport/admin-backend.js';
import type { Connection } from '../../../lib/transport/connection.js';
import type { AdminBackendParts, TransportDefinition } from '../../../lib/transport/transport-definition.js';

class TranslatedError extends Error {}

/** A connection whose transport definition is a stub: only the connection's own definition can make its backend. */
function connectionWith(createAdminBackend: TransportDefinition['createAdminBackend'], packages: TransportDefinition['packages'] = []) {
  const transport = { name: 'sns-sqs', packages, createAdminBackend } as unknown as TransportDefinition;
  return {
    name: 'partner',
    options: { transport: 'sns-sqs', serviceName: 'partner-service' },
    transport,
    broker: { status$: undefined },
  } as unknown as Connection;
}

describe('createAdminBackend', () => {
  it("makes the backend with the connection's own transport definition, options and broker, its errors translated by it", async () => {
    const backend = {
      listQueues: async () => {
        throw new Error('AccessDenied');
      },
    } as unknown as AdminBackend;
    const make = jest.fn<TransportDefinition['createAdminBackend']>(async () => ({
      backend,
      translateError: (operation) => new TranslatedError(`${operation} refused`),
    }));
    const connection = connectionWith(make);
    const made = await createAdminBackend(connection);
    expect(make).toHaveBeenCalledTimes(1);
    expect(make.mock.calls[0][0]).toBe(connection.options);
    expect(make.mock.calls[0][1]).toBe(connection.broker);
    await expect(made.listQueues({})).rejects.toEqual(new TranslatedError('listQueues refused'));
  });

  it("checks the definition's optional packages first, naming the transport", async () => {
    const make = jest.fn(async (): Promise<AdminBackendParts> => ({ backend: {} as AdminBackend, translateError: (_, e) => e }));
    // what Node's import() throws for a package that is not installed
    const notFound = Object.assign(new Error("Cannot find package 'not-installed-package' imported from lib/"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const missing = { name: 'not-installed-package', load: () => Promise.reject(notFound) };
    const error = await createAdminBackend(connectionWith(make, [missing])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as Error).message).toContain('not-installed-package');
    expect((error as Error).message).toContain('MessagingAdminService on transport sns-sqs');
    expect(make).not.toHaveBeenCalled();
  });
});
