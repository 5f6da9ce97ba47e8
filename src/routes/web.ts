import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * Where `npm run build:web` puts the pages: dist/web in the package. The same path from
 * src/routes (tests) and dist/routes (production), as both sit two folders below the package.
 */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

/** Options: the built pages' folder (tests point it at one that does not exist). */
export interface WebRouteOptions {
  readonly root?: string;
}

/**
 * The pages' Content-Security-Policy: scripts, styles, fonts and requests only from this service,
 * nothing inline, no plugins, no framing. The pages are Vite's build of web/, which needs nothing
 * more; a script injected through some bug would not run. Not upgrade-insecure-requests: an office
 * may reach the service over plain HTTP on its own network, and the assets would then fail to load.
 */
const CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

/** What `/` and `/console/` answer when only `tsc` ran: how to build the pages, in a few Chinese lines. */
const NOT_BUILT = `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>春风：网页尚未构建</title></head>
<body>
<h1>网页尚未构建</h1>
<p>春风服务已经在运行，但在线试用页和控制台还没有构建。请在项目目录运行 <code>npm run build</code>（或重新运行 <code>npm install</code>），然后重启服务。</p>
<p>接口照常可用，见 <a href="/docs">接口文档</a>。</p>
</body></html>
`;

/** Hashed file names never change content: cache them for a year. Everything else (the two index.html) is checked each time. */
function cacheHeaders(res: { setHeader(name: string, value: string): void }, path: string): void {
  res.setHeader('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
}

/**
 * The web pages, served by the gateway itself (no second server): `/` the try-the-bot page,
 * `/console/` the console, whose paths below it all answer the console's page (history-mode
 * routing in the browser). Security headers (helmet) apply to these routes only: the API and
 * /docs keep theirs. With the pages not built, `/` and `/console/` say how to build them.
 */
const web: FastifyPluginAsync<WebRouteOptions> = async (fastify, opts) => {
  const root = opts.root ?? WEB_ROOT;
  await fastify.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: CSP },
    // HTTPS and its HSTS belong to the proxy in front (README: exposing the service), which knows the domain.
    strictTransportSecurity: false,
    frameguard: { action: 'deny' },
  });

  if (!existsSync(join(root, 'index.html')) || !existsSync(join(root, 'console', 'index.html'))) {
    fastify.log.warn({ root }, '网页尚未构建：运行 npm run build 后重启服务');
    const note = async (_request: unknown, reply: FastifyReply) => reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT);
    for (const url of ['/', '/console', '/console/*']) fastify.get(url, { schema: { hide: true } }, note);
    return;
  }

  // wildcard: false routes exactly the files built at start; anything else stays the API's JSON 404.
  await fastify.register(fastifyStatic, { root, wildcard: false, cacheControl: false, setHeaders: cacheHeaders });
  // What a newcomer who just ran `npm start` should open, in the log beside Fastify's own "listening" line.
  fastify.addHook('onListen', async () => {
    const origin = fastify.listeningOrigin;
    fastify.log.info({ tryPage: `${origin}/`, console: `${origin}/console/` }, `在线试用：${origin}/ ，控制台：${origin}/console/`);
  });
  fastify.get('/console', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/console/', 301));
  fastify.get('/console/*', { schema: { hide: true } }, async (_request, reply) => reply.sendFile('console/index.html'));
};

export default web;
