import { Injectable, type CanActivate } from '@nestjs/common';

/**
 * Formerly turned `?access_token=` into the Authorization header; tokens no longer travel in URLs (browsers sign in
 * by POST and carry an HttpOnly cookie, which adminHttpMiddleware turns into the header for every route). It reads
 * nothing and refuses nothing; it stays only while admin.controller.ts still names it, and goes with that reference.
 */
@Injectable()
export class AccessTokenFromQueryGuard implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}
