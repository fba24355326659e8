import { MissingDependencyError } from '../../lib/index.js';
import { requirePackages } from '../../lib/optional-package.js';

const absent = 'nestjs-messaging-test-package-that-is-not-installed';
const importAbsent = () => import(absent);

describe('optional peer dependencies', () => {
  it('loads packages that are installed without error', async () => {
    await expect(requirePackages([{ name: 'amqplib', load: () => import('amqplib') }], "transport 'amqp'")).resolves.toBeUndefined();
  });

  it('names every missing package, who needs it and the install command', async () => {
    const error = await requirePackages(
      [
        { name: 'amqplib', load: () => import('amqplib') },
        { name: absent, load: importAbsent },
        { name: `${absent}-too`, load: () => import(`${absent}-too`) },
      ],
      'the test transport',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingDependencyError);
    expect((error as MissingDependencyError).packages).toEqual([absent, `${absent}-too`]);
    expect((error as Error).message).toBe(
      `the test transport needs "${absent}" and "${absent}-too", which are not installed: run npm install ${absent} ${absent}-too`,
    );
  });

  it('passes on an error that is not the package itself missing', async () => {
    const broken = Object.assign(new Error("Cannot find module './lib/missing-file.js'"), { code: 'MODULE_NOT_FOUND' });
    await expect(requirePackages([{ name: 'some-package', load: () => Promise.reject(broken) }], 'x')).rejects.toBe(broken);
  });
});
