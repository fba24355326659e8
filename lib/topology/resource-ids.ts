import { createHash } from 'node:crypto';

/**
 * Stable identifiers for generated resources: readable where they can be, made unique with a short hash of the
 * resource name where two names would collapse into the same identifier.
 */
export class ResourceIds {
  private readonly byKey = new Map<string, string>();
  private readonly used = new Set<string>();

  constructor(private readonly format: (kind: string, name: string) => string) {}

  id(kind: string, name: string): string {
    const key = `${kind}\u0000${name}`;
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.format(kind, name);
      if (this.used.has(id)) id = this.format(kind, `${name}-${createHash('sha256').update(key).digest('hex').slice(0, 8)}`);
      this.used.add(id);
      this.byKey.set(key, id);
    }
    return id;
  }
}

/** CloudFormation logical IDs: alphanumeric, e.g. `QueueBillingOrderPaid`. */
export function cloudFormationId(kind: string, name: string): string {
  const words = `${kind} ${name}`.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return words
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('')
    .slice(0, 255);
}

/** Terraform resource names: letters, digits, `_` and `-`, starting with a letter or `_`. */
export function terraformName(kind: string, name: string): string {
  const safe = name.replace(/[^A-Za-z0-9_-]/g, '_');
  return /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`;
}
