import { UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** The standalone admin server's guard: `Authorization: Bearer <token>`; 401 without one, 403 for another token. */
export class BearerTokenGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    if (typeof header !== 'string' || !/^Bearer /i.test(header))
      throw new UnauthorizedException('A bearer token is required: Authorization: Bearer <MESSAGING_ADMIN_TOKEN>');
    // digests: equal length for timingSafeEqual, and no timing hint of the token's length
    return timingSafeEqual(digest(header.slice('Bearer '.length)), this.expected);
  }
}
