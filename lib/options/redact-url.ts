/**
 * A URL with its password replaced, safe to log or put in an error. Any scheme (or none): the URLs that need it most
 * are the malformed ones an error message echoes. Redacts up to the last `@` of the authority, so an unencoded `@`
 * in the password does not leak its tail.
 */
export function redactUrl(url: string): string {
  return url.replace(/^((?:[A-Za-z][A-Za-z0-9+.-]*:\/*)?[^:@/\s]*:)[^/\s]*@/, '$1***@');
}
