import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { buildServer, type ServerOptions } from '../src/server.js';
import { realKnowledgeIndex, removeDir, seededCacheDir, tempDir } from './helpers/knowledge.js';

/** The real server with its production logger writing into `lines`. */
async function server(env: Record<string, string> = {}, lines: Record<string, unknown>[] = [], options: ServerOptions = {}): Promise<FastifyInstance> {
  const dir = tempDir('chunfeng-server-');
  seededCacheDir(join(dir, 'data', 'cache'));
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), DATABASE_URL: `sqlite:${join(dir, 'chunfeng.db')}`, ADMIN_TOKEN: 'server-test-admin-token', LOG_LEVEL: 'info', ...env });
  const fastify = await buildServer(config, { index: realKnowledgeIndex(), ...options }, { write: (line) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  fastify.addHook('onClose', async () => removeDir(dir));
  apps.push(fastify);
  return fastify;
}

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

/** Opens a raw connection to a listening server. */
async function rawConnection(fastify: FastifyInstance): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  const { port } = fastify.server.address() as AddressInfo;
  const socket = connect(port, '127.0.0.1');
  let data = '';
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
  socket.on('error', () => undefined);
  const opened = performance.now();
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - opened)));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received: () => data, closed };
}

describe('access log', () => {
  it('writes one line per request with method, route, status, client address and time', async () => {
    const lines: Record<string, unknown>[] = [];
    const app = await server({}, lines);
    await app.inject({ method: 'POST', url: '/api/ask?from=widget', payload: { q: '发票丢了怎么办' }, remoteAddress: '203.0.113.5' });
    await app.inject({ method: 'GET', url: '/nope/13812345678', remoteAddress: '203.0.113.6' });
    await app.inject({ method: 'GET', url: '/healthz' });
    const access = lines.filter((l) => l.msg === '请求完成');
    expect(access).toHaveLength(2);
    expect(access[0]).toMatchObject({ level: 30, method: 'POST', route: '/api/ask', url: '/api/ask', status: 200, client: '203.0.113.5', ms: expect.any(Number) });
    expect(access[1]).toMatchObject({ method: 'GET', route: null, url: '/nope/[手机号]', status: 404, client: '203.0.113.6' });
    // No line carries Fastify's request object flattened to nothing.
    expect(JSON.stringify(lines)).not.toContain('"req":{}');
  });
});

describe('request bodies are taken as sent', () => {
  it('refuses a number where text is expected, and unknown fields, naming the field', async () => {
    const app = await server();
    const numeric = await app.inject({ method: 'POST', url: '/api/ask', payload: { q: 123 } });
    expect(numeric.statusCode).toBe(400);
    expect(numeric.json()).toEqual({ error: { code: 'CHUNFENG_BAD_REQUEST', message: '请求格式不正确：q 应为文字' } });
    const extra = await app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了怎么办', lang: 'zh' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.message).toBe('请求格式不正确：不认识的字段 lang');
    expect((await app.inject({ method: 'POST', url: '/api/ask', payload: { q: true } })).statusCode).toBe(400);
  });

  it('still reads numbers in query strings, which always arrive as text', async () => {
    const app = await server();
    app.get('/test/coerce', { schema: { querystring: Type.Object({ n: Type.Integer() }) } }, async (request) => request.query);
    const res = await app.inject({ method: 'GET', url: '/test/coerce?n=5' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ n: 5 });
  });
});

describe('timeouts', () => {
  it('answers 408 and closes a connection whose body does not arrive within the request timeout', async () => {
    const app = await server({}, [], { timeouts: { requestMs: 400 } });
    const { socket, received, closed } = await rawConnection(app);
    socket.write('POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"q": "发');
    const after = await closed;
    expect(received()).toMatch(/^HTTP\/1\.1 408/);
    expect(after).toBeGreaterThanOrEqual(350);
    expect(after).toBeLessThan(5_000);
  });

  it('closes a connection that sends nothing within the connection timeout', async () => {
    const app = await server({}, [], { timeouts: { connectionMs: 300 } });
    const { closed } = await rawConnection(app);
    const after = await closed;
    expect(after).toBeGreaterThanOrEqual(250);
    expect(after).toBeLessThan(5_000);
  });
});
