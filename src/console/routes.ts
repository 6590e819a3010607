/**
 * The web console on the REST port (on unless --disable_console): the page at `/` and
 * `/console/`, its script and style under `/console/`, and `/console/api/state` (see state.ts).
 * Everything else the page shows comes from the public APIs (metadata, infer, /metrics), so the
 * console is also an example of using them.
 *
 * With an API key, the static files stay open and the page asks for the key (CONSOLE_STATIC_PATHS).
 *
 * The page is plain HTML, CSS and browser code kept as TypeScript modules in page/ (no framework,
 * no bundler): they compile with the server, so wherever dist/src goes (npm package, container
 * image) the console goes too. Bodies are built once at start.
 */
import type { ServableRegistry } from '../core/servable.js';
import type { ManagerControl } from '../serving/repository-control.js';
import type { HttpResponse, Router } from '../api/http/router.js';
import { consoleApp } from './page/app.js';
import { indexHtml } from './page/index-html.js';
import { styleCss } from './page/style-css.js';
import { consoleState } from './state.js';

export interface ConsoleRouteOptions {
  readonly registry: ServableRegistry;
  readonly manager?: ManagerControl;
  readonly metricsEnabled: boolean;
}

function staticFile(body: string, type: string): HttpResponse {
  return {
    status: 200,
    body: Buffer.from(body),
    headers: {
      'Content-Type': type,
      // Revalidated on each visit: a new server version's console is picked up at once.
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      // Only its own files and the server's APIs; uploaded images are shown from blob: URLs.
      'Content-Security-Policy': "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    },
  };
}

/** The browser script: the compiled consoleApp function, called. */
export function consoleScript(): string {
  return `'use strict';\n(${consoleApp.toString()})();\n`;
}

const HTML = 'text/html; charset=utf-8';

/** The console's static files by path: [path, content type, body]. */
const STATIC_FILES: readonly (readonly [string, string, () => string])[] = [
  ['/', HTML, () => indexHtml],
  ['/console', HTML, () => indexHtml],
  ['/console/', HTML, () => indexHtml],
  ['/console/console.js', 'text/javascript; charset=utf-8', consoleScript],
  ['/console/console.css', 'text/css; charset=utf-8', () => styleCss],
];

/**
 * The paths of the console's static files: the same bytes for everyone, no model or server data.
 * They are served without the API key (--api_key_file), so a browser can load the page, which then
 * asks for the key and sends it with every request for data, /console/api/state included.
 */
export const CONSOLE_STATIC_PATHS: ReadonlySet<string> = new Set(STATIC_FILES.map(([path]) => path));

/** A route pattern matching exactly these paths. */
function exactly(paths: ReadonlySet<string>): RegExp {
  return new RegExp(`^(?:${[...paths].map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`);
}

export function registerConsoleRoutes(router: Router, opts: ConsoleRouteOptions): void {
  const files = new Map(STATIC_FILES.map(([path, type, body]) => [path, staticFile(body(), type)]));
  router.add(exactly(CONSOLE_STATIC_PATHS), { GET: (ctx) => files.get(ctx.path)! });
  router.add(/^\/console\/api\/state$/, {
    GET: () => ({
      status: 200,
      body: JSON.stringify(consoleState(opts.registry, opts.manager, opts.metricsEnabled)),
      headers: { 'Cache-Control': 'no-store' },
    }),
  });
}
