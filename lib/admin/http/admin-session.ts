import { AsyncLocalStorage } from 'node:async_hooks';

/** The cookie that carries the admin token after sign-in; the middleware turns it into an Authorization header. */
export const ADMIN_TOKEN_COOKIE = 'messaging_admin_token';

export const SIGN_IN = 'sign-in';
export const SIGN_OUT = 'sign-out';

/** The longest token sign-in accepts (a cookie holds about 4 KB). */
export const MAX_TOKEN_LENGTH = 2048;

/**
 * The admin base URL path of the request being handled (`/<global prefix>/<path>`), set by the admin middleware for
 * everything under the path, so that the sign-in page rendered by the exception filter can post to `<base>/sign-in`.
 */
export const adminBaseOfRequest = new AsyncLocalStorage<string>();

/** The value of one cookie of a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    try {
      return decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Set-Cookie for the token (an empty token with Max-Age=0 clears it). */
export function tokenCookie(token: string, base: string, secure: boolean): string {
  const attributes = [`Path=${base}`, 'HttpOnly', 'SameSite=Strict', ...(secure ? ['Secure'] : []), ...(token ? [] : ['Max-Age=0'])];
  return [`${ADMIN_TOKEN_COOKIE}=${encodeURIComponent(token)}`, ...attributes].join('; ');
}
