import { Validator } from '@seriousme/openapi-schema-validator';
import type { Browser } from 'playwright-core';
import { MissingDependencyError } from '../../../lib/index.js';
import { SWAGGER_UI, SwaggerUi } from '../../../lib/admin/http/swagger-ui.js';
import { fauxqsOptions, startFauxqs, type Fauxqs } from '../../support/fauxqs.js';
import { waitFor } from '../../support/wait-for.js';
import { ADMIN_TOKEN, startAdminApp, TokenGuard, type AdminHttpApp } from './admin-app.js';
import { launchChromium, signIn } from './chromium.js';

let fauxqs: Fauxqs;
let http: AdminHttpApp;
let browser: Browser | undefined;

beforeAll(async () => {
  fauxqs = await startFauxqs();
  http = await startAdminApp(fauxqsOptions(fauxqs, { serviceName: 'docs' }), { path: 'ops', guard: TokenGuard });
});

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await fauxqs?.stop();
});

/** Node's answer for a package that is not installed, as import() gives it. */
const notInstalled = () =>
  Promise.reject(Object.assign(new Error("Cannot find package 'swagger-ui-dist' imported from /app"), { code: 'ERR_MODULE_NOT_FOUND' }));

describe('GET /<path>/openapi.json', () => {
  it('is a valid OpenAPI 3 document', async () => {
    const response = await http.call('GET', '/openapi.json');
    expect(response.status).toBe(200);
    const result = await new Validator().validate(response.json);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(Object.keys(response.json.paths).every((path) => path.startsWith('/ops/'))).toBe(true);
  });
});

describe('Swagger UI at /<path>/docs (swagger-ui-dist)', () => {
  it('serves the page, the bundle and the stylesheet behind the guard', async () => {
    expect((await http.call('GET', '/docs', undefined, null)).status).toBe(401);
    expect((await http.call('GET', '/docs/swagger-ui-bundle.js', undefined, null)).status).toBe(401);
    const page = await http.call('GET', '/docs');
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="swagger-ui"');
    const response = await fetch(`${http.url}/ops/docs/swagger-ui-bundle.js`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(response.headers.get('content-type')).toContain('text/javascript');
    expect((await response.text()).length).toBeGreaterThan(100_000);
    expect((await http.call('GET', '/docs/swagger-ui.css')).text).toContain('.swagger-ui');
  });

  it('renders every operation in a browser signed in with the cookie', async () => {
    browser = await launchChromium();
    const page = await browser.newPage();
    try {
      await signIn(page, `${http.url}/ops`, ADMIN_TOKEN);
      await page.goto(`${http.url}/ops/docs`);
      await waitFor(async () => (await page.locator('.opblock').count()) >= 17, { what: 'Swagger UI to list the operations' });
      expect(await page.locator('.opblock-summary-path').allTextContents()).toEqual(expect.arrayContaining(['/ops/queues/{name}/redrive']));
      expect(page.url()).toBe(`${http.url}/ops/docs`);
    } finally {
      await page.close();
    }
  });

  it('answers 501 naming swagger-ui-dist when it is not installed', async () => {
    await expect(new SwaggerUi(notInstalled).files()).rejects.toThrow(MissingDependencyError);
    const without = await startAdminApp(
      fauxqsOptions(fauxqs, { serviceName: 'docs-missing' }),
      { guard: TokenGuard },
      { overrides: [{ token: SWAGGER_UI, value: new SwaggerUi(notInstalled) }] },
    );
    try {
      const response = await without.call('GET', '/docs');
      expect(response.status).toBe(501);
      expect(response.json.message).toContain('npm install swagger-ui-dist');
      expect((await without.call('GET', '/openapi.json')).status).toBe(200);
    } finally {
      await without.close();
    }
  });
});
