import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMIN_SECURITY_HEADERS } from './content-security-policy.js';
import { ADMIN_TOKEN_COOKIE, adminBaseOfRequest, readCookie, SIGN_IN, SIGN_OUT } from './admin-session.js';

type AdminRequest = IncomingMessage & { originalUrl?: string; baseUrl?: string };

const READ_ONLY_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** The content types a cross-site HTML form or a fetch without preflight can send. */
const FORM_CONTENT_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain']);

/**
 * Express middleware for everything under the admin path, before the guard: the security headers, the sign-in
 * cookie as `Authorization: Bearer` (when the request has no Authorization header of its own), and the refusal of
 * changes a browser sends from another site, so that a cookie-based guard is not open to cross-site requests.
 */
export function adminHttpMiddleware(path: string) {
  return (request: AdminRequest, response: ServerResponse, next: (error?: unknown) => void): void => {
    response.removeHeader('x-powered-by');
    for (const [name, value] of ADMIN_SECURITY_HEADERS) response.setHeader(name, value);
    const base = adminBase(request, path);
    const refusal = crossSiteRefusal(request, base);
    if (refusal) {
      response.statusCode = refusal.status;
      response.setHeader('content-type', 'application/json; charset=utf-8');
      response.end(JSON.stringify({ statusCode: refusal.status, error: refusal.error, message: refusal.message }));
      return;
    }
    const token = readCookie(request.headers.cookie, ADMIN_TOKEN_COOKIE);
    if (request.headers.authorization === undefined && token) request.headers.authorization = `Bearer ${token}`;
    adminBaseOfRequest.run(base, next);
  };
}

/** `/<global prefix>/<path>`: the request's path up to the admin path (Express strips the mount path from `url`). */
function adminBase(request: AdminRequest, path: string): string {
  if (path === '') return '';
  const full = (request.originalUrl ?? request.url ?? '').split('?')[0];
  const at = full.indexOf(`/${path}`);
  return at < 0 ? `/${path}` : full.slice(0, at + path.length + 1);
}

function crossSiteRefusal(request: AdminRequest, base: string): { status: number; error: string; message: string } | undefined {
  if (READ_ONLY_METHODS.has(request.method ?? 'GET')) return undefined;
  const site = header(request, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    return {
      status: 403,
      error: 'Forbidden',
      message: `Sec-Fetch-Site is "${site}": the admin API accepts ${request.method} only from its own origin (same-origin or none)`,
    };
  const origin = header(request, 'origin');
  // Under Referrer-Policy: no-referrer a browser's own form post says "Origin: null"; its Sec-Fetch-Site still tells
  const ownFormPost = origin === 'null' && site === 'same-origin';
  if (origin !== undefined && !ownFormPost && originHost(origin) !== header(request, 'host'))
    return {
      status: 403,
      error: 'Forbidden',
      message: `Origin "${origin}" does not match Host "${header(request, 'host') ?? ''}": the admin API accepts ${request.method} only from its own origin`,
    };
  const route = (request.originalUrl ?? request.url ?? '').split('?')[0].replace(/\/+$/, '');
  if (route === `${base}/${SIGN_IN}` || route === `${base}/${SIGN_OUT}`) return undefined;
  const type = (header(request, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
  if (FORM_CONTENT_TYPES.has(type))
    return {
      status: 415,
      error: 'Unsupported Media Type',
      message: `Content-Type "${type}" is refused for ${request.method} (a form or another site can send it): send application/json`,
    };
  return undefined;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
