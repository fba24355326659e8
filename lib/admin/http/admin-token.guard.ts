import {
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  Optional,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import { MessagingOptionsError } from '../../errors.js';

/** Optional provider of AdminTokenGuard's token (a string); without it the guard reads MESSAGING_ADMIN_TOKEN. */
export const ADMIN_GUARD_TOKEN = Symbol('MESSAGING_ADMIN_GUARD_TOKEN');

const MIN_ADMIN_TOKEN_LENGTH = 32;
const MIN_TOKEN_BITS = 96;
const MAKE_ONE = 'make one with `openssl rand -hex 32`';

/**
 * The token itself when it is long and varied enough to withstand guessing; otherwise a MessagingOptionsError naming
 * `source` (the variable or option) and how to make one. The token never appears in the message.
 */
export function checkAdminToken(token: unknown, source: string): string {
  if (typeof token !== 'string' || token === '')
    throw new MessagingOptionsError(
      source,
      `is required: the admin API can delete and purge queues, so every request must carry Authorization: Bearer <token>; ${MAKE_ONE}`,
    );
  if (/[\s\p{Cc}]/u.test(token))
    throw new MessagingOptionsError(source, `must not contain whitespace or control characters (a newline from a file?); ${MAKE_ONE}`);
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    throw new MessagingOptionsError(source, `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters (got ${token.length}); ${MAKE_ONE}`);
  if (estimatedBits(token) < MIN_TOKEN_BITS)
    throw new MessagingOptionsError(source, `is too easy to guess (too few different characters, or repeated runs); ${MAKE_ONE}`);
  return token;
}

/**
 * Length times the Shannon entropy of the character frequencies, of the token's repeating unit when it repeats one
 * ("changeme" eight times counts as "changeme"): low for repeats and short alphabets.
 */
function estimatedBits(token: string): number {
  const unit = token.slice(0, period(token));
  const counts = new Map<string, number>();
  for (const c of unit) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perCharacter = 0;
  for (const count of counts.values()) perCharacter -= (count / unit.length) * Math.log2(count / unit.length);
  return perCharacter * unit.length;
}

/** The shortest p such that every character equals the one p before it (the length when none repeats). */
function period(text: string): number {
  for (let p = 1; p <= text.length / 2; p++) {
    let i = p;
    while (i < text.length && text[i] === text[i - p]) i++;
    if (i === text.length) return p;
  }
  return text.length;
}

interface FailureThrottleLimits {
  /** Wrong tokens a client address may send before it has to wait. */
  freeFailures: number;
  /** The first wait; each further wrong token doubles it, up to `windowMs`. */
  baseDelayMs: number;
  /** A client's failures are forgotten this long after its last one. */
  windowMs: number;
  /** Client addresses tracked at most; a new one pushes out the one that failed longest ago. */
  maxClients: number;
}

const DEFAULT_LIMITS: FailureThrottleLimits = { freeFailures: 5, baseDelayMs: 1000, windowMs: 15 * 60_000, maxClients: 10_000 };

interface ClientFailures {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

/** Counts wrong tokens per client address and says how long a client must wait; bounded memory. */
export class FailureThrottle {
  private readonly clients = new Map<string, ClientFailures>();

  constructor(
    private readonly limits: FailureThrottleLimits = DEFAULT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  get trackedClients(): number {
    return this.clients.size;
  }

  /** Whole seconds `client` must still wait, 0 when it may try. */
  retryAfterSeconds(client: string): number {
    const entry = this.current(client);
    return entry ? Math.max(0, Math.ceil((entry.blockedUntil - this.now()) / 1000)) : 0;
  }

  failed(client: string): void {
    const now = this.now();
    const entry = this.current(client) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    entry.failures += 1;
    entry.lastFailure = now;
    const beyond = entry.failures - this.limits.freeFailures;
    if (beyond > 0) entry.blockedUntil = now + Math.min(this.limits.windowMs, this.limits.baseDelayMs * 2 ** (beyond - 1));
    this.clients.delete(client); // re-inserted last: the Map's order is the order of last failure
    this.clients.set(client, entry);
    for (const oldest of this.clients.keys()) {
      if (this.clients.size <= this.limits.maxClients) break;
      this.clients.delete(oldest);
    }
  }

  succeeded(client: string): void {
    this.clients.delete(client);
  }

  private current(client: string): ClientFailures | undefined {
    const entry = this.clients.get(client);
    if (entry && this.now() - entry.lastFailure > this.limits.windowMs) {
      this.clients.delete(client);
      return undefined;
    }
    return entry;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

interface GuardedRequest {
  headers: Record<string, unknown>;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/**
 * `Authorization: Bearer <token>` (or the sign-in cookie, which the admin middleware turns into that header): 401
 * without one, 403 for another token, 429 with Retry-After for a client address that sent too many wrong ones.
 * As a class in `guard:` it takes the token from an ADMIN_GUARD_TOKEN provider, else from MESSAGING_ADMIN_TOKEN;
 * `new AdminTokenGuard(token)` takes it directly. A missing or weak token fails at startup.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer;
  private readonly throttle = new FailureThrottle();

  constructor(@Optional() @Inject(ADMIN_GUARD_TOKEN) token?: string) {
    this.expected =
      token === undefined
        ? digest(checkAdminToken(process.env.MESSAGING_ADMIN_TOKEN, 'MESSAGING_ADMIN_TOKEN'))
        : digest(checkAdminToken(token, 'AdminTokenGuard token'));
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<GuardedRequest>();
    const client = request.ip ?? request.socket?.remoteAddress ?? 'unknown';
    const wait = this.throttle.retryAfterSeconds(client);
    if (wait > 0) {
      http.getResponse<{ setHeader(name: string, value: string): void }>().setHeader('retry-after', String(wait));
      throw new HttpException(
        `Too many wrong admin tokens from ${client}: try again in ${wait} s (each further wrong token doubles the wait)`,
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !/^Bearer /i.test(header))
      throw new UnauthorizedException('A bearer token is required: Authorization: Bearer <MESSAGING_ADMIN_TOKEN>, or sign in');
    // digests: equal length for timingSafeEqual, and no timing hint of the token's length
    if (timingSafeEqual(digest(header.slice('Bearer '.length)), this.expected)) {
      this.throttle.succeeded(client);
      return true;
    }
    this.throttle.failed(client);
    return false;
  }
}
