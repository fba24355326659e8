import { Body, Controller, HttpCode, Post, Req, Res, UseFilters, type Type } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AdminInvalidArgumentError } from '../../transport/admin.errors.js';
import { AdminExceptionFilter } from './admin-exception.filter.js';
import { MAX_TOKEN_LENGTH, SIGN_IN, SIGN_OUT, tokenCookie } from './admin-session.js';

type SignInRequest = IncomingMessage & { originalUrl?: string; secure?: boolean };

/**
 * `POST /<path>/sign-in` (form field `token`) keeps the token in an HttpOnly cookie and `POST /<path>/sign-out`
 * clears it; both answer 303 to the dashboard. No guard: the module's guard judges the token on the next request.
 * The admin middleware refuses them from another site (login CSRF).
 */
export function signInController(path: string): Type {
  @Controller(path)
  @UseFilters(AdminExceptionFilter)
  class MessagingAdminSignInController {
    @Post(SIGN_IN)
    @HttpCode(303)
    signIn(@Body() body: unknown, @Req() request: SignInRequest, @Res() response: ServerResponse): void {
      const token = (body as { token?: unknown } | undefined)?.token;
      if (typeof token !== 'string' || token.trim() === '' || token.length > MAX_TOKEN_LENGTH)
        throw new AdminInvalidArgumentError('token', `must be a form field of 1 to ${MAX_TOKEN_LENGTH} characters`);
      redirectHome(request, response, SIGN_IN, token);
    }

    @Post(SIGN_OUT)
    @HttpCode(303)
    signOut(@Req() request: SignInRequest, @Res() response: ServerResponse): void {
      redirectHome(request, response, SIGN_OUT, '');
    }
  }
  return MessagingAdminSignInController;
}

function redirectHome(request: SignInRequest, response: ServerResponse, route: string, token: string): void {
  const base = (request.originalUrl ?? request.url ?? '').split('?')[0].replace(/\/+$/, '').slice(0, -`/${route}`.length) || '/';
  response.setHeader('set-cookie', tokenCookie(token, base, request.secure === true));
  response.setHeader('location', base);
  response.statusCode = 303;
  response.end();
}
