/**
 * Child-process entry: `node dist-sample/bench/child.js <subject module> <export>` with BENCH_PARAMS (JSON).
 * Each measured subject runs in its own process so subjects never share a heap or an event loop.
 */
import { pathToFileURL } from 'node:url';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const [moduleName, exportName] = process.argv.slice(2);
const params = JSON.parse(process.env.BENCH_PARAMS ?? '{}') as Record<string, unknown>;
const here = dirname(fileURLToPath(import.meta.url));

async function main(): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, 'subjects', `${moduleName}.js`)).href)) as Record<
    string,
    (p: unknown) => Promise<unknown>
  >;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`bench/subjects/${moduleName} has no export ${exportName}`);
  const result = await fn(params);
  process.stdout.write(`\nBENCH_RESULT ${JSON.stringify(result)}\n`);
}

main().then(
  () => setTimeout(() => process.exit(0), 50),
  (error) => {
    process.stderr.write(`${moduleName}.${exportName} failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
