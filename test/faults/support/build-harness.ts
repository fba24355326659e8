import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { FAULTS_DIR } from './paths.js';

const ROOT = resolve(process.cwd());
const SOURCES = [join(ROOT, 'lib'), join(ROOT, 'test/faults/harness')];

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Compiles lib/ and the child-process harness to plain ESM JavaScript (transpile only, as ts-jest does) into a
 * directory under os.tmpdir() named by the hash of the sources, so the child runs compiled JS and the repo stays
 * clean. Parallel jest workers build once: the first to rename its temp dir into place wins. Returns the path
 * of the compiled consumer harness.
 */
export function buildHarness(): string {
  const files = SOURCES.flatMap(tsFiles).sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(readFileSync(file));
  const out = join(FAULTS_DIR, `harness-${hash.digest('hex').slice(0, 16)}`);
  const entry = join(out, 'test/faults/harness/consumer.js');
  if (existsSync(entry)) return entry;
  const tmp = `${out}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const compilerOptions: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    esModuleInterop: true,
    isolatedModules: true,
    sourceMap: false,
  };
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
    const target = join(tmp, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
  writeFileSync(join(tmp, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(ROOT, 'node_modules'), join(tmp, 'node_modules'), 'dir');
  try {
    renameSync(tmp, out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another worker built the same sources first
  }
  return entry;
}
