import { createHash } from 'node:crypto';
import { DASHBOARD_PAGE } from './dashboard-page.js';
import { loginPage } from './login-page.js';
import { SWAGGER_UI_PAGE } from './swagger-ui.js';

const INLINE_BLOCK = /<(script|style)(\s[^>]*)?>([\s\S]*?)<\/\1\s*>/gi;

/** `'sha256-…'` sources of the inline <script> and <style> blocks of `pages` (a <script src> has none). */
function inlineBlockHashes(pages: string[]): { script: string[]; style: string[] } {
  const hashes = { script: new Set<string>(), style: new Set<string>() };
  for (const page of pages)
    for (const [, tag, attributes = '', body] of page.matchAll(INLINE_BLOCK)) {
      if (tag.toLowerCase() === 'script' && /\ssrc\s*=/i.test(attributes)) continue;
      hashes[tag.toLowerCase() as 'script' | 'style'].add(`'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`);
    }
  return { script: [...hashes.script], style: [...hashes.style] };
}

/**
 * The admin pages' policy: nothing from elsewhere, inline code only by the hash of the blocks the pages carry (so a
 * change of the dashboard needs no change here), no framing, forms post to the same origin only.
 */
function adminContentSecurityPolicy(): string {
  const inline = inlineBlockHashes([DASHBOARD_PAGE, loginPage(401, ''), SWAGGER_UI_PAGE]);
  return [
    "default-src 'none'",
    ["script-src 'self'", ...inline.script].join(' '),
    ["style-src 'self'", ...inline.style].join(' '),
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** Headers of every response under the admin path (pages, JSON, event stream, errors). */
export const ADMIN_SECURITY_HEADERS: ReadonlyArray<[string, string]> = [
  ['content-security-policy', adminContentSecurityPolicy()],
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['referrer-policy', 'no-referrer'],
  ['cache-control', 'no-store'],
];
