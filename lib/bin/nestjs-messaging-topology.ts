#!/usr/bin/env node
import { runTopologyCli, UsageError, USAGE } from './topology-cli.js';

runTopologyCli(process.argv.slice(2), (text) => process.stdout.write(text)).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof UsageError) process.stderr.write(`${USAGE}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
