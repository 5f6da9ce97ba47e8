import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import type { ChannelAdapter } from '../../src/channels/channel.js';
import { realKnowledgeIndex, removeDir, tempDir } from '../helpers/knowledge.js';

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
