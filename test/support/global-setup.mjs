// jest globalSetup: marks the run and records what the shared RabbitMQ holds before it (global-teardown.mjs checks
// that the run left nothing behind), and removes the RabbitMQ nodes of earlier runs that were killed before their
// teardown.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brokerResources, createRunDir, reapAbandonedRuns, RUN_DIR_ENV, RUN_ENV } from './rabbitmq-run.mjs';

export default async function globalSetup(globalConfig) {
  const reaped = await reapAbandonedRuns();
  if (reaped.length > 0) console.log(`\nStopped the RabbitMQ test nodes of ${reaped.length} abandoned run(s): ${reaped.join(', ')}`);
  const unitOnly = globalConfig.selectProjects?.length === 1 && globalConfig.selectProjects[0] === 'unit';
  const before = unitOnly
    ? { unavailable: 'only the unit project runs, which has no broker' }
    : await brokerResources().catch((error) => ({ unavailable: String(error.message).split('\n')[0] }));
  // The run's marker goes into every uniqueName(): the time the run started, in base 36 (8 characters, like the
  // timestamp uniqueName carried before); never one that names on the broker already carry.
  let runId = Date.now().toString(36);
  while (Array.isArray(before) && before.some((resource) => resource.includes(runId))) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    runId = Date.now().toString(36);
  }
  process.env[RUN_ENV] = runId;
  process.env[RUN_DIR_ENV] = createRunDir(runId);
  writeFileSync(join(process.env[RUN_DIR_ENV], 'broker-before.json'), JSON.stringify(before));
}
