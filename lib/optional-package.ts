import { MissingDependencyError } from './errors.js';

/** An optional peer dependency and how to load it; the loader is a literal `() => import('pkg')` so bundlers see it. */
export interface OptionalPackage {
  name: string;
  load: () => Promise<unknown>;
}

/**
 * Loads optional peer dependencies that a transport, envelope or integration needs, failing with one
 * MissingDependencyError that names every package missing and the install command.
 */
export async function requirePackages(packages: readonly OptionalPackage[], neededBy: string): Promise<void> {
  const missing: string[] = [];
  for (const pkg of packages) {
    try {
      await pkg.load();
    } catch (error) {
      if (!isMissingPackage(error, pkg.name)) throw error;
      missing.push(pkg.name);
    }
  }
  if (missing.length > 0) throw new MissingDependencyError(missing, neededBy);
}

/** Node's "cannot find" error for this package itself, not for something it fails to load in turn. */
function isMissingPackage(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}
