import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requirePackages } from '../../optional-package.js';

interface SwaggerUiDist {
  getAbsoluteFSPath(): string;
}

interface SwaggerUiAssets {
  script: string;
  style: string;
}

type SwaggerUiLoader = () => Promise<unknown>;

/** The SwaggerUi instance the controller serves; a provider so that a test can give it another loader. */
export const SWAGGER_UI = Symbol('MESSAGING_ADMIN_SWAGGER_UI');

// A literal import() so that bundlers see the optional peer; loaded on the first request for /docs only.
// @ts-expect-error -- swagger-ui-dist ships no type declarations; only getAbsoluteFSPath() is used
const loadSwaggerUiDist: SwaggerUiLoader = () => import('swagger-ui-dist');

/**
 * Swagger UI at `/<path>/docs`, from the optional peer `swagger-ui-dist`: its bundle and stylesheet are read once
 * and served under `/<path>/docs/` behind the same guard; without the package every call fails with
 * MissingDependencyError (HTTP 501) naming it.
 */
export class SwaggerUi {
  private assets?: Promise<SwaggerUiAssets>;

  constructor(private readonly load: SwaggerUiLoader = loadSwaggerUiDist) {}

  files(): Promise<SwaggerUiAssets> {
    this.assets ??= this.read().catch((error: unknown) => {
      this.assets = undefined;
      throw error;
    });
    return this.assets;
  }

  private async read(): Promise<SwaggerUiAssets> {
    await requirePackages([{ name: 'swagger-ui-dist', load: this.load }], 'Swagger UI at /<path>/docs');
    const loaded = (await this.load()) as SwaggerUiDist & { default?: SwaggerUiDist };
    const dir = (loaded.default ?? loaded).getAbsoluteFSPath();
    const [script, style] = await Promise.all([
      readFile(join(dir, 'swagger-ui-bundle.js'), 'utf8'),
      readFile(join(dir, 'swagger-ui.css'), 'utf8'),
    ]);
    return { script, style };
  }
}

/**
 * The page: it loads the bundle and the stylesheet from `/<path>/docs/` and Swagger UI reads openapi.json, all
 * same-origin, so the sign-in cookie authorizes them and "Try it out" calls alike (no token in the page). Script and
 * style come from the same origin only, which the admin Content-Security-Policy allows.
 */
export const SWAGGER_UI_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>nestjs-messaging admin API</title></head>
<body>
<div id="swagger-ui"></div>
<script>
(function () {
  'use strict';
  var docs = location.pathname.replace(/\\/+$/, '');
  var base = docs.replace(/\\/docs$/, '');
  var failed = function (what) {
    document.getElementById('swagger-ui').textContent = 'Swagger UI could not load ' + what + ' (see the network log).';
  };
  var style = document.createElement('link');
  style.rel = 'stylesheet';
  style.href = docs + '/swagger-ui.css';
  style.onerror = function () { failed('its stylesheet'); };
  document.head.appendChild(style);
  var script = document.createElement('script');
  script.src = docs + '/swagger-ui-bundle.js';
  script.onerror = function () { failed('its script'); };
  script.onload = function () {
    window.SwaggerUIBundle({ url: base + '/openapi.json', dom_id: '#swagger-ui' });
  };
  document.body.appendChild(script);
})();
</script>
</body>
</html>
`;
