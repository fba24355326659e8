import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';

/** The handlers a browser opens by navigating, which cannot send an Authorization header. */
export const BROWSER_PAGES = new Set(['dashboard', 'docs']);

/**
 * Runs before the module's guard. For the pages a browser navigates to (dashboard, Swagger UI), a bearer token in
 * `?access_token=` (RFC 6750 section 2.3) becomes the request's Authorization header, so that the same guard decides
 * about the page as about the JSON API and the event stream (which the pages call with the header). Never refuses.
 */
@Injectable()
export class AccessTokenFromQueryGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (!BROWSER_PAGES.has(context.getHandler().name)) return true;
    const request = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | string[] | undefined>; query?: Record<string, unknown> }>();
    const token = request.query?.access_token;
    if (request.headers.authorization === undefined && typeof token === 'string' && token !== '')
      request.headers.authorization = `Bearer ${token}`;
    return true;
  }
}
