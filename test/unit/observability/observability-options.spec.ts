import { Registry } from 'prom-client';
import { MessagingOptionsError } from '../../../lib/errors.js';
import { DEFAULTS } from '../../../lib/messaging.options.js';
import { resolveModuleOptions } from '../../../lib/options/resolve-options.js';

const base = { transport: 'amqp' as const, serviceName: 'billing' };

function rejection(options: Record<string, unknown>): MessagingOptionsError {
  try {
    resolveModuleOptions({ ...base, ...options } as never);
  } catch (error) {
    expect(error).toBeInstanceOf(MessagingOptionsError);
    return error as MessagingOptionsError;
  }
  throw new Error(`accepted ${JSON.stringify(options)}`);
}

describe('metrics and tracing options', () => {
  it('are off by default', () => {
    expect(DEFAULTS).toMatchObject({ metrics: false, tracing: false });
    const resolved = resolveModuleOptions(base);
    expect(resolved.metrics).toBe(false);
    expect(resolved.tracing).toBe(false);
  });

  it('accept true, false and { registry } and keep the registry instance', () => {
    const registry = new Registry();
    expect(resolveModuleOptions({ ...base, metrics: true, tracing: true })).toMatchObject({ metrics: true, tracing: true });
    expect(resolveModuleOptions({ ...base, metrics: {} }).metrics).toEqual({});
    const resolved = resolveModuleOptions({ ...base, metrics: { registry } });
    expect((resolved.metrics as { registry: Registry }).registry).toBe(registry);
  });

  it('reject a metrics value that is neither a boolean nor an object', () => {
    const error = rejection({ metrics: 'prometheus' });
    expect(error.option).toBe('metrics');
    expect(error.message).toContain('must be true, false or { registry?, queueDepth? }');
  });

  it('reject a metrics.queueDepth that is not a boolean', () => {
    const error = rejection({ metrics: { queueDepth: 'yes' } });
    expect(error.option).toBe('metrics.queueDepth');
    expect(error.message).toContain('must be true or false');
  });

  it('reject unknown keys under metrics, naming the known ones', () => {
    const error = rejection({ metrics: { prefix: 'app_' } });
    expect(error.option).toBe('metrics.prefix');
    expect(error.message).toContain('use one of registry');
  });

  it('reject a registry that is not a prom-client Registry', () => {
    const error = rejection({ metrics: { registry: { metrics: () => '' } } });
    expect(error.option).toBe('metrics.registry');
    expect(error.message).toContain('must be a prom-client Registry');
  });

  it('reject a non-boolean tracing', () => {
    const error = rejection({ tracing: 'otel' });
    expect(error.option).toBe('tracing');
    expect(error.message).toContain('must be true or false');
  });
});
