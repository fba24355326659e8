import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import { MessagingOptionsError } from '../errors.js';

export interface AdminWatchOptions {
  /** Milliseconds between two looks at the broker's queues and topics. */
  intervalMs: number;
  /**
   * Only resources whose names start with this. Default: MessagingModule's queueNamePrefix for queues and topicPrefix
   * for topics; when those are empty too, every queue and topic on the broker.
   */
  prefix?: string;
}

/** What the REST API needs before the app starts: where it is mounted and what protects it. */
export interface MessagingAdminHttpOptions {
  /** URL path of the REST API (default 'messaging'). */
  path?: string;
  /** Guards every endpoint: a CanActivate class (resolved through DI) or instance. Required unless `unprotected: true`. */
  guard?: Type<CanActivate> | CanActivate;
  /** Serve the API without a guard (it can delete and purge queues): only behind your own protection. */
  unprotected?: boolean;
  /** Modules the guard's dependencies come from. */
  imports?: ModuleMetadata['imports'];
}

interface AdminMonitorOptions {
  /**
   * Milliseconds between two looks (default 5000): this app's consumers (`consumer.connected` / `consumer.disconnected`,
   * no broker call) and, while events$ is observed, the depth of every dashboard queue (`queue.depth`, one queue info each).
   */
  intervalMs?: number;
}

/** Options that may also come from DI (forRootAsync's useFactory). */
export interface MessagingAdminRuntimeOptions {
  /** Poll queues and topics and report `resource.appeared` / `resource.disappeared` on events$. Off by default. */
  watch?: AdminWatchOptions | false;
  /** `queue.depth` and consumer events on events$ (on by default; false: off). */
  monitor?: AdminMonitorOptions | false;
}

export type MessagingAdminModuleOptions = MessagingAdminHttpOptions & MessagingAdminRuntimeOptions;

export interface MessagingAdminModuleAsyncOptions extends MessagingAdminHttpOptions {
  inject?: any[];
  useFactory: (...args: any[]) => MessagingAdminRuntimeOptions | Promise<MessagingAdminRuntimeOptions>;
}

/** The checked path (no surrounding slashes) and whether it is served unprotected, for the module's middleware. */
export interface AdminHttpSettings {
  path: string;
  unprotected: boolean;
}
export const ADMIN_HTTP_SETTINGS = Symbol('MESSAGING_ADMIN_HTTP_SETTINGS');

const DEFAULT_ADMIN_PATH = 'messaging';
export const DEFAULT_MONITOR_INTERVAL_MS = 5000;

/** The mount path without surrounding slashes; refuses a start without a guard unless `unprotected: true`. */
export function checkHttpOptions(options: MessagingAdminHttpOptions): string {
  const path = options.path ?? DEFAULT_ADMIN_PATH;
  if (typeof path !== 'string' || !/^\/?[A-Za-z0-9._~\-/]*$/.test(path))
    throw new MessagingOptionsError('MessagingAdminModule.path', 'must be a URL path of letters, digits, ".", "_", "~", "-" and "/"', path);
  if (options.unprotected !== undefined && typeof options.unprotected !== 'boolean')
    throw new MessagingOptionsError('MessagingAdminModule.unprotected', 'must be true or false', options.unprotected);
  const guard = options.guard as unknown;
  if (guard === undefined && options.unprotected !== true)
    throw new MessagingOptionsError(
      'MessagingAdminModule.guard',
      'the admin REST API can delete and purge queues, so it does not start unprotected: pass guard (a CanActivate class or instance), or unprotected: true if something in front of the app protects it',
    );
  if (guard !== undefined && typeof guard !== 'function' && typeof (guard as CanActivate | null)?.canActivate !== 'function')
    throw new MessagingOptionsError('MessagingAdminModule.guard', 'must be a CanActivate class or an object with canActivate()', guard);
  return path.replace(/^\/+|\/+$/g, '');
}

export function checkRuntimeOptions(options: MessagingAdminRuntimeOptions): MessagingAdminRuntimeOptions {
  checkMonitorOptions(options.monitor);
  const watch = options.watch;
  if (watch === undefined || watch === false) return options;
  if (typeof watch !== 'object' || watch === null)
    throw new MessagingOptionsError('MessagingAdminModule.watch', 'must be { intervalMs, prefix? } or false', watch);
  checkInterval(watch.intervalMs, 'MessagingAdminModule.watch.intervalMs');
  if (watch.prefix !== undefined && typeof watch.prefix !== 'string')
    throw new MessagingOptionsError('MessagingAdminModule.watch.prefix', 'must be a string', watch.prefix);
  return options;
}

function checkMonitorOptions(monitor: MessagingAdminRuntimeOptions['monitor']): void {
  if (monitor === undefined || monitor === false) return;
  if (typeof monitor !== 'object' || monitor === null)
    throw new MessagingOptionsError('MessagingAdminModule.monitor', 'must be { intervalMs? } or false', monitor);
  if (monitor.intervalMs !== undefined) checkInterval(monitor.intervalMs, 'MessagingAdminModule.monitor.intervalMs');
}

function checkInterval(value: unknown, option: string): void {
  if (!Number.isInteger(value) || (value as number) < 100)
    throw new MessagingOptionsError(option, 'must be an integer of at least 100 (milliseconds)', value);
}
