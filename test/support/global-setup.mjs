// jest globalSetup: the directory of the run's own RabbitMQ nodes (test/support/rabbitmq-node.ts), and the nodes of
// earlier runs that were killed before their teardown stopped.
import { createRunDir, reapAbandonedRuns, RUN_DIR_ENV } from './rabbitmq-run.mjs';

export default async function globalSetup() {
  const reaped = await reapAbandonedRuns();
  if (reaped.length > 0) console.log(`\nStopped the RabbitMQ test nodes of ${reaped.length} abandoned run(s): ${reaped.join(', ')}`);
  process.env[RUN_DIR_ENV] = createRunDir(Date.now().toString(36));
}
