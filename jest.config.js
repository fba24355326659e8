/**
 * One jest run, four projects: `npm test` runs them all (as before); `--selectProjects` picks some:
 *   unit         test/unit: no broker at all (fauxqs is stubbed out, AMQP_URL points at a closed port)
 *   integration  test/integration: fauxqs in-process and the shared RabbitMQ
 *   contract     test/contract: the broker port's promises, run over both brokers
 *   faults       test/faults: fault injection with accounting lines
 *   other        any spec elsewhere under test/, so that `npm test` still runs every spec
 *
 * globalSetup / globalTeardown (whatever projects run): the run's marker for uniqueName, the RabbitMQ node of the
 * destructive tests stopped at the end, and a failed run if a spec left a queue, exchange, user, vhost or policy of
 * its own on the shared RabbitMQ (test/support/global-teardown.mjs).
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
};

const project = (name, extra = {}) => ({
  ...shared,
  ...extra,
  displayName: name,
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.spec.ts'],
});

/** @type {import('jest').Config} */
export default {
  testTimeout: 60000,
  maxWorkers: 2,
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  projects: [
    project('unit', {
      moduleNameMapper: { ...shared.moduleNameMapper, '^fauxqs$': '<rootDir>/test/support/no-brokers/fauxqs.ts' },
      setupFiles: ['<rootDir>/test/support/no-brokers/setup.ts'],
    }),
    project('integration'),
    project('contract'),
    project('faults'),
    {
      ...shared,
      displayName: 'other',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.spec.ts'],
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/(unit|integration|contract|faults)/'],
    },
  ],
};
