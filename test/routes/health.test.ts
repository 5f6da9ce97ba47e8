import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';

let app: FastifyInstance | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
});

describe('GET /healthz', () => {
  it('answers 200 while the process lives, even before the index is loaded', async () => {
    app = await build({ index: null });
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('GET /readyz', () => {
  it('answers 503 before the index is loaded and 200 once it is', async () => {
    app = await build({ index: null });
    await app.ready();
    const before = await app.inject({ method: 'GET', url: '/readyz' });
    expect(before.statusCode).toBe(503);

    await app.knowledge.loaded;
    expect(app.knowledge.ready).toBe(true);
    const after = await app.inject({ method: 'GET', url: '/readyz' });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toEqual({ status: 'ready' });
  });

  it('stays 503 when the index cannot be loaded, and questions get CHUNFENG_NOT_READY', async () => {
    const knowledgeDir = tempDir('chunfeng-gone-');
    app = await build({ index: null, env: { KNOWLEDGE_DIR: knowledgeDir } });
    removeDir(knowledgeDir); // the folder disappears between start-up checks and loading
    await app.ready();
    await app.knowledge.loaded;
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    const ask = await app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了怎么办' } });
    expect(ask.statusCode).toBe(503);
    expect(ask.json()).toMatchObject({ error: { code: 'CHUNFENG_NOT_READY' } });
  });

  it('answers 200 at once with a prebuilt index', async () => {
    app = await build();
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
