import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import type { ChannelAdapter } from '../../src/channels/channel.js';
import { realKnowledgeIndex, removeDir, tempDir } from '../helpers/knowledge.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { AUTH_FAILURES } from '../../src/plugins/auth.js';

const apps: FastifyInstance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  dirs.splice(0).forEach(removeDir);
});

/** A channel that logs in by QR code, as WeChat does. */
function qrChannel(qr: { url: string; status: string } | null): ChannelAdapter {
  return { channel: 'wechat', maxLength: 1500, botNames: () => [], start: async () => undefined, send: async () => null, stop: async () => undefined, loginQr: () => qr };
}

async function app(env: Record<string, string>, dir: string, adapters: ChannelAdapter[] = [], announce?: (line: string) => void): Promise<FastifyInstance> {
  const config = loadConfig({ DATA_DIR: join(dir, 'data'), DATABASE_URL: `sqlite:${join(dir, 'chunfeng.db')}`, LOG_LEVEL: 'silent', ...env });
  const server = await buildServer(config, { index: realKnowledgeIndex(), adapters, announce }, false);
  apps.push(server);
  await server.ready();
  return server;
}

describe('admin token and roles', () => {
  it('generates the first admin token once, shows it once, and stores only its hash', async () => {
    const dir = tempDir('chunfeng-auth-');
    dirs.push(dir);
    const shown: string[] = [];
    const first = await app({}, dir, [qrChannel({ url: 'https://login.weixin.qq.com/l/abc', status: 'waiting' })], (l) => shown.push(l));
    expect(shown).toHaveLength(1);
    const token = /：(\S+)$/.exec(shown[0] as string)?.[1] as string;
    expect(token.length).toBeGreaterThanOrEqual(24);

    const ok = await first.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: `Bearer ${token}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ url: 'https://login.weixin.qq.com/l/abc', status: 'waiting' });
    await first.close();

    const second = await app({}, dir, [qrChannel(null)], (l) => shown.push(l));
    expect(shown).toHaveLength(1);
    expect(await second.store.accounts.byToken(token)).toMatchObject({ role: 'admin' });
    const none = await second.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: `Bearer ${token}` } });
    expect(none.statusCode).toBe(404);
    expect(none.json().error.code).toBe('CHUNFENG_NOT_FOUND');
  });

  it('refuses a missing or wrong token with 401 and another role with 403', async () => {
    const dir = tempDir('chunfeng-auth-');
    dirs.push(dir);
    const server = await app({ ADMIN_TOKEN: 'admin-secret-token' }, dir, [qrChannel({ url: 'u', status: 'waiting' })]);
    await server.store.accounts.createOnce('agent-1', '李工', 'agent', 'agent-secret-token');

    const missing = await server.inject({ method: 'GET', url: '/admin/wechat/qr' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.code).toBe('CHUNFENG_UNAUTHORIZED');
    const wrong = await server.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: 'Bearer nope' } });
    expect(wrong.statusCode).toBe(401);
    const agent = await server.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: 'Bearer agent-secret-token' } });
    expect(agent.statusCode).toBe(403);
    expect(agent.json().error.code).toBe('CHUNFENG_FORBIDDEN');
    const admin = await server.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: 'Bearer admin-secret-token' } });
    expect(admin.statusCode).toBe(200);
  });

  it('takes a changed ADMIN_TOKEN as the new admin token', async () => {
    const dir = tempDir('chunfeng-auth-');
    dirs.push(dir);
    await (await app({ ADMIN_TOKEN: 'old-admin-token-value' }, dir)).close();
    const server = await app({ ADMIN_TOKEN: 'new-admin-token-value' }, dir);
    expect(await server.store.accounts.byToken('old-admin-token-value')).toBeNull();
    expect(await server.store.accounts.byToken('new-admin-token-value')).toMatchObject({ role: 'admin' });
  });
});

describe.each(BOTH_DATABASES)('wrong bearer tokens throttled per client on $label', ({ pg }) => {
  it.skipIf(pg && !TEST_PG_URL)(`refuses every token with 429 after ${AUTH_FAILURES.limit} wrong ones from one address, and only from that one`, async () => {
    const dir = tempDir('chunfeng-auth-');
    dirs.push(dir);
    const schema = pg && TEST_PG_URL ? await freshPostgresSchema(TEST_PG_URL) : null;
    try {
      const server = await app({ ADMIN_TOKEN: 'admin-secret-token', ...(schema ? { DATABASE_URL: schema.url } : {}) }, dir, [qrChannel({ url: 'u', status: 'waiting' })]);
      const get = (token: string, remoteAddress: string) => server.inject({ method: 'GET', url: '/admin/wechat/qr', headers: { authorization: `Bearer ${token}` }, remoteAddress });

      // The failures are counted in windows aligned to the clock: start well inside one.
      const untilNextWindow = AUTH_FAILURES.windowMs - (Date.now() % AUTH_FAILURES.windowMs);
      if (untilNextWindow < 10_000) await new Promise((r) => setTimeout(r, untilNextWindow + 50));
      // Right tokens are never counted.
      for (let i = 0; i < AUTH_FAILURES.limit + 2; i++) expect((await get('admin-secret-token', '192.0.2.40')).statusCode).toBe(200);
      for (let i = 0; i < AUTH_FAILURES.limit; i++) expect((await get(`guess-${i}`, '192.0.2.41')).statusCode).toBe(401);
      const throttled = await get('guess-next', '192.0.2.41');
      expect(throttled.statusCode).toBe(429);
      expect(throttled.json()).toEqual({ error: { code: 'CHUNFENG_RATE_LIMITED', message: expect.stringMatching(/^访问令牌错误次数过多，请 \d+ 秒后再试$/) } });
      expect(Number(throttled.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(throttled.headers['retry-after'])).toBeLessThanOrEqual(60);
      // Even the right token: a guesser must not learn that a guess was right.
      expect((await get('admin-secret-token', '192.0.2.41')).statusCode).toBe(429);
      expect((await get('admin-secret-token', '192.0.2.42')).statusCode).toBe(200);
      // A request without a token guesses nothing and is answered 401 as before.
      expect((await server.inject({ method: 'GET', url: '/admin/wechat/qr', remoteAddress: '192.0.2.43' })).statusCode).toBe(401);
    } finally {
      await Promise.all(apps.splice(0).map((a) => a.close()));
      await schema?.cleanup();
    }
  });
});
