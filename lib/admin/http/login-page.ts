import { adminBaseOfRequest, SIGN_IN } from './admin-session.js';
import { escapeHtml } from './html.js';

/**
 * What a browser gets instead of a JSON error when the guard refuses one of the pages: a token field posted to
 * `<base>/sign-in`, which keeps the token in an HttpOnly cookie (never in a URL). It shows nothing of the broker.
 */
export function loginPage(status: number, message: string): string {
  const action = `${adminBaseOfRequest.getStore() ?? ''}/${SIGN_IN}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>nestjs-messaging admin: sign in</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;background:#f5f6f8;color:#1d2330;display:grid;place-items:center;min-height:90vh;margin:0}
form{background:#fff;border:1px solid #d8dce3;border-radius:8px;padding:24px 28px;min-width:320px}
h1{font-size:18px;margin:0 0 8px}p{color:#5a6372;margin:0 0 16px}
input{width:100%;box-sizing:border-box;padding:8px;border:1px solid #b9c0cc;border-radius:4px;font:inherit}
button{margin-top:12px;padding:8px 14px;border:0;border-radius:4px;background:#2f6fde;color:#fff;font:inherit;cursor:pointer}
</style></head>
<body><form method="post" action="${escapeHtml(action)}">
<h1>nestjs-messaging admin</h1>
<p>${status}: ${escapeHtml(message)}</p>
<label for="token">Bearer token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form></body></html>
`;
}
