// jest globalTeardown: stops the run's own RabbitMQ nodes and fails the run if it left anything on the shared broker.
//
// Other people's test runs may use the same broker meanwhile, so a plain before/after difference is not proof of a
// leak. What this run created carries its marker (uniqueName puts it into every name, queue names derive from
// those): any queue, exchange, policy, user or vhost whose name contains it fails the run, is named in the error,
// and is deleted. Other new names are only reported, unless NESTJS_MESSAGING_LEAK_CHECK=strict or CI is set (then
// nothing else runs against the broker and every new name counts as a leak).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerResources, deleteResources, RUN_DIR_ENV, RUN_ENV, stopRunNodes } from './rabbitmq-run.mjs';

export default async function globalTeardown() {
  const runId = process.env[RUN_ENV];
  const runDir = process.env[RUN_DIR_ENV];
  const before = JSON.parse(readFileSync(join(runDir, 'broker-before.json'), 'utf8'));
  await stopRunNodes(runDir);
  if (!Array.isArray(before)) {
    console.warn(`\nRabbitMQ leak check skipped: ${before.unavailable}`);
    return;
  }
  const after = await brokerResources();
  const nameOf = (resource) => resource.split(' ').slice(2).join(' ');
  const ours = after.filter((resource) => nameOf(resource).includes(runId));
  const known = new Set([...before, ...ours]);
  const unmarked = after.filter((resource) => !known.has(resource));
  const strict = process.env.NESTJS_MESSAGING_LEAK_CHECK === 'strict' || Boolean(process.env.CI);
  if (unmarked.length > 0) {
    console.warn(
      `\nNew on RabbitMQ since the run started, without this run's marker ${runId}` +
        `${strict ? '' : " (another run's, or made without uniqueName)"}:\n  ${unmarked.join('\n  ')}`,
    );
  }
  const leaks = strict ? [...ours, ...unmarked] : ours;
  if (leaks.length === 0) return;
  const cleanup =
    ours.length === 0
      ? ''
      : await deleteResources(ours, process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').then(
          () => `; those with the marker ${runId} are deleted now`,
          (error) => `; deleting those with the marker ${runId} failed: ${error.message}`,
        );
  throw new Error(
    `the test run left ${leaks.length} resource(s) on the shared RabbitMQ, each to be deleted by the afterAll of ` +
      `the spec file that made it (test/support/rabbitmq.ts: cleanUpBrokerAfterAll)${cleanup}:\n  ${leaks.join('\n  ')}`,
  );
}
