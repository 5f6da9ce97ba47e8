import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { build } from '../helpers/build.js';
import { removeDir, tempDir, writeFiles } from '../helpers/knowledge.js';

/** A built folder as Vite leaves it, small enough to know every byte. */
const PAGES = {
  'index.html': '<!doctype html><title>试用</title><script type="module" src="/assets/try-abc123.js"></script>',
  'console/index.html': '<!doctype html><title>控制台</title><script type="module" src="/assets/console-def456.js"></script>',
  'assets/try-abc123.js': 'console.log("try")',
  'assets/console-def456.js': 'console.log("console")',
  'favicon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
};

let dir: string;
let app: FastifyInstance;
beforeAll(async () => {
  dir = writeFiles(tempDir('chunfeng-web-'), PAGES);
  app = await build({ webRoot: dir });
});
afterAll(async () => {
  await app.close();
  removeDir(dir);
});

const get = (url: string) => app.inject({ method: 'GET', url });

describe('the web pages', () => {
  it('/ is the try-the-bot page and /console/ the console, as HTML checked on every visit', async () => {
    for (const [url, page] of [['/', 'index.html'], ['/console/', 'console/index.html']] as const) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toBe(PAGES[page]);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('every path under /console/ answers the console page (routing happens in the browser); /console redirects', async () => {
    for (const url of ['/console/login', '/console/accounts', '/console/a/b?c=1']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(PAGES['console/index.html']);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
    const bare = await get('/console');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/console/');
  });

  it('serves built assets with long caching (their names change with their content)', async () => {
    const res = await get('/assets/try-abc123.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/javascript/);
    expect(res.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('/favicon.svg')).statusCode).toBe(200);
  });

  it('sends a strict CSP and the other security headers with the pages', async () => {
    for (const url of ['/', '/console/accounts', '/assets/try-abc123.js']) {
      const { headers } = await get(url);
      const csp = String(headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self';");
      expect(csp).toContain("style-src 'self';");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('leaves the API, health checks and /docs as they were', async () => {
    const missing = await get('/assets/nope.js');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: { code: 'CHUNFENG_NOT_FOUND', message: expect.any(String) } });
    expect((await get('/nope')).json().error.code).toBe('CHUNFENG_NOT_FOUND');
    const health = await get('/healthz');
    expect(health.json()).toEqual({ status: 'ok' });
    expect(health.headers['content-security-policy']).toBeUndefined();
    expect((await get('/docs')).statusCode).toBeLessThan(400);
    const spec = (await get('/docs/json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(spec.paths).filter((p) => p === '/' || p.startsWith('/console') || p.startsWith('/assets'))).toEqual([]);
    const ask = await app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了怎么办' } });
    expect(ask.statusCode).toBe(200);
  });
});

describe('start-up', () => {
  it('logs where to open the try page and the console once listening', async () => {
    const lines: Record<string, unknown>[] = [];
    const listening = await build({ webRoot: dir, log: { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    try {
      await listening.listen({ host: '127.0.0.1', port: 0 });
      const origin = `http://127.0.0.1:${(listening.server.address() as { port: number }).port}`;
      expect(lines).toContainEqual(expect.objectContaining({ msg: `在线试用：${origin}/ ，控制台：${origin}/console/`, tryPage: `${origin}/`, console: `${origin}/console/` }));
    } finally {
      await listening.close();
    }
  });
});

describe('the web pages not built (tsc only)', () => {
  it('/ and /console/ answer a short Chinese note on how to build them; the API works', async () => {
    const empty = tempDir('chunfeng-web-none-');
    const bare = await build({ webRoot: join(empty, 'web') });
    try {
      for (const url of ['/', '/console', '/console/accounts']) {
        const res = await bare.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(503);
        expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
        expect(res.body).toContain('网页尚未构建');
        expect(res.body).toContain('npm run build');
      }
      expect((await bare.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了怎么办' } })).statusCode).toBe(200);
    } finally {
      await bare.close();
      removeDir(empty);
    }
  });
});
