import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';

describe('GET /metrics without METRICS_TOKEN (the default, HOST=127.0.0.1)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build();
  });
  afterAll(() => app.close());

  it('answers a connection from this host with Prometheus text', async () => {
    for (const remoteAddress of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) {
      const res = await app.inject({ method: 'GET', url: '/metrics', remoteAddress });
      expect(res.statusCode, remoteAddress).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain('chunfeng_messages_in_total');
    }
  });

  it('is not there for anyone else, nor for a request a proxy on this host relays', async () => {
    const remote = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '203.0.113.8' });
    expect(remote.statusCode).toBe(404);
    expect(remote.json()).toMatchObject({ error: { code: 'CHUNFENG_NOT_FOUND' } });
    const relayed = await app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.8' } });
    expect(relayed.statusCode).toBe(404);
    expect(remote.body).not.toContain('chunfeng_');
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'metrics-token-for-prometheus';
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await build({ env: { METRICS_TOKEN: token, HOST: '0.0.0.0' } });
  });
  afterAll(() => app.close());

  it('needs the token as a bearer token, from anywhere', async () => {
    const get = (headers: Record<string, string>, remoteAddress = '198.51.100.20') => app.inject({ method: 'GET', url: '/metrics', headers, remoteAddress });
    expect((await get({})).statusCode).toBe(401);
    expect((await get({}, '127.0.0.1')).statusCode).toBe(401);
    expect((await get({ authorization: 'Bearer wrong-token' })).statusCode).toBe(401);
    const ok = await get({ authorization: `Bearer ${token}` });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('chunfeng_channel_up');
  });
});
