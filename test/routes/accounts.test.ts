import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';

const ADMIN = 'test-admin-token';

let app: FastifyInstance;
const logLines: string[] = [];
beforeAll(async () => {
  app = await build({ log: { write: (line) => void logLines.push(line) } });
});
afterAll(() => app.close());

/** A request with a bearer token (or none), from its own address so the wrong-token throttle stays out of the way. */
function call(instance: FastifyInstance, method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown) {
  return instance.inject({ method, url, payload: payload as object, headers: token ? { authorization: `Bearer ${token}` } : {}, remoteAddress: '198.51.100.20' });
}

async function create(name: string, role: string, instance = app): Promise<{ id: string; token: string }> {
  const res = await call(instance, 'POST', '/api/accounts', ADMIN, { name, role });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe('accounts over HTTP', () => {
  it('an admin creates an account; its token is answered once and signs it in', async () => {
    const res = await call(app, 'POST', '/api/accounts', ADMIN, { name: ' 李工 ', role: 'agent' });
    expect(res.statusCode).toBe(201);
    const created = res.json();
    expect(created).toEqual({ id: expect.any(String), name: '李工', role: 'agent', token: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), createdAt: expect.any(String), disabledAt: null });
    expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);

    const me = await call(app, 'GET', '/api/me', created.token);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ id: created.id, name: '李工', role: 'agent', createdAt: created.createdAt, disabledAt: null });

    const list = await call(app, 'GET', '/api/accounts', ADMIN);
    expect(list.statusCode).toBe(200);
    const { accounts } = list.json() as { accounts: { id: string; name: string; role: string }[] };
    expect(accounts.find((a) => a.id === 'admin')).toMatchObject({ name: '管理员', role: 'admin', disabledAt: null });
    expect(accounts.find((a) => a.id === created.id)).toEqual({ id: created.id, name: '李工', role: 'agent', createdAt: created.createdAt, disabledAt: null });
    expect(list.body).not.toContain(created.token);
    // Nor is it in any log line.
    expect(logLines.join('')).toContain('已创建账号');
    expect(logLines.join('')).not.toContain(created.token);
  });

  it('GET /api/agents lists who can take a ticket: agents and admins in use, for an agent too, not for staff', async () => {
    const agent = await create('钱工', 'agent');
    const gone = await create('孙工', 'agent');
    const staff = await create('周科长', 'staff');
    expect((await call(app, 'POST', `/api/accounts/${gone.id}/disable`, ADMIN)).statusCode).toBe(200);
    const res = await call(app, 'GET', '/api/agents', agent.token);
    expect(res.statusCode, res.body).toBe(200);
    const { agents } = res.json() as { agents: { id: string; name: string; role: string }[] };
    expect(agents).toContainEqual({ id: agent.id, name: '钱工', role: 'agent' });
    expect(agents).toContainEqual({ id: 'admin', name: '管理员', role: 'admin' });
    expect(agents.map((a) => a.id)).not.toContain(gone.id);
    expect(agents.map((a) => a.id)).not.toContain(staff.id);
    expect(res.body).not.toContain('token');
    expect((await call(app, 'GET', '/api/agents', staff.token)).statusCode).toBe(403);
    expect((await call(app, 'GET', '/api/agents', null)).statusCode).toBe(401);
  });

  it('GET /api/me answers the admin too', async () => {
    expect((await call(app, 'GET', '/api/me', ADMIN)).json()).toMatchObject({ id: 'admin', name: '管理员', role: 'admin' });
  });

  it('401 without a token or with a wrong one, 403 for staff and agents on admin routes', async () => {
    const staff = await create('张科长', 'staff');
    const agent = await create('赵工', 'agent');
    for (const [method, url, payload] of [['GET', '/api/accounts'], ['POST', '/api/accounts', { name: '某人', role: 'agent' }], ['POST', `/api/accounts/${agent.id}/disable`], ['POST', `/api/accounts/${agent.id}/enable`]] as const) {
      const none = await call(app, method, url, null, payload);
      expect(none.statusCode, `${method} ${url}`).toBe(401);
      expect(none.json().error.code).toBe('CHUNFENG_UNAUTHORIZED');
      expect((await call(app, method, url, 'not-a-real-token', payload)).statusCode).toBe(401);
      for (const token of [staff.token, agent.token]) {
        const refused = await call(app, method, url, token, payload);
        expect(refused.statusCode, `${method} ${url}`).toBe(403);
        expect(refused.json()).toEqual({ error: { code: 'CHUNFENG_FORBIDDEN', message: '没有权限执行此操作' } });
      }
    }
    expect((await call(app, 'GET', '/api/me', null)).statusCode).toBe(401);
    expect((await call(app, 'GET', '/api/me', staff.token)).json()).toMatchObject({ name: '张科长', role: 'staff' });
  });

  it('a disabled account gets 401 at once; enabled again, its token works again', async () => {
    const agent = await create('钱工', 'agent');
    const disabled = await call(app, 'POST', `/api/accounts/${agent.id}/disable`, ADMIN);
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json()).toMatchObject({ id: agent.id, name: '钱工', disabledAt: expect.any(String) });
    const refused = await call(app, 'GET', '/api/me', agent.token);
    expect(refused.statusCode).toBe(401);
    expect(refused.json().error.code).toBe('CHUNFENG_UNAUTHORIZED');
    const listed = (await call(app, 'GET', '/api/accounts', ADMIN)).json().accounts.find((a: { id: string }) => a.id === agent.id);
    expect(listed.disabledAt).toBe(disabled.json().disabledAt);

    const enabled = await call(app, 'POST', `/api/accounts/${agent.id}/enable`, ADMIN);
    expect(enabled.statusCode).toBe(200);
    expect(enabled.json().disabledAt).toBeNull();
    expect((await call(app, 'GET', '/api/me', agent.token)).statusCode).toBe(200);
  });

  it('404 for an account that does not exist; 409 for an admin disabling their own account', async () => {
    for (const action of ['disable', 'enable']) {
      const res = await call(app, 'POST', `/api/accounts/no-such-account/${action}`, ADMIN);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: { code: 'CHUNFENG_NOT_FOUND', message: '没有这个账号' } });
    }
    const self = await call(app, 'POST', '/api/accounts/admin/disable', ADMIN);
    expect(self.statusCode).toBe(409);
    expect(self.json()).toEqual({ error: { code: 'CHUNFENG_CONFLICT', message: '不能停用自己的账号' } });
    expect((await call(app, 'GET', '/api/me', ADMIN)).statusCode).toBe(200);

    // Another admin may disable the first one.
    const second = await create('王主任', 'admin');
    expect((await call(app, 'POST', '/api/accounts/admin/disable', second.token)).statusCode).toBe(200);
    expect((await call(app, 'GET', '/api/me', ADMIN)).statusCode).toBe(401);
    expect((await call(app, 'POST', '/api/accounts/admin/enable', second.token)).statusCode).toBe(200);
  });

  it.each([
    ['a blank name', { name: '   ', role: 'agent' }, '请求格式不正确：名称不能为空'],
    ['an empty name', { name: '', role: 'agent' }, '请求格式不正确：name 不能为空'],
    ['a name over 40 characters', { name: '李'.repeat(41), role: 'agent' }, '请求格式不正确：name 太长，最多 40 个字'],
    ['a line break in the name', { name: '李工\n管理员', role: 'agent' }, '请求格式不正确：名称不能包含换行或控制字符'],
    ['an unknown role', { name: '李工', role: 'root' }, '请求格式不正确：role 应为 admin、staff、agent 之一'],
    ['a missing role', { name: '李工' }, '请求格式不正确：缺少字段 role'],
    ['an unknown field', { name: '李工', role: 'agent', token: 'mine' }, '请求格式不正确：不认识的字段 token'],
  ])('400 for %s, saying what is wrong', async (_what, payload, message) => {
    const res = await call(app, 'POST', '/api/accounts', ADMIN, payload);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'CHUNFENG_BAD_REQUEST', message } });
  });

  it('keeps a name with markup exactly as typed: it is data, escaped by whoever displays it', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const created = await create(name, 'agent');
    expect((await call(app, 'GET', '/api/me', created.token)).json().name).toBe(name);
  });

  it('/docs/json documents the account routes with the bearer scheme', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as {
      paths: Record<string, Record<string, { security?: unknown; responses?: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(spec.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, method] of [['/api/me', 'get'], ['/api/accounts', 'get'], ['/api/accounts', 'post'], ['/api/accounts/{id}/disable', 'post'], ['/api/accounts/{id}/enable', 'post']] as const) {
      const op = spec.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(op?.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403']));
    }
  });
});

describe.each(BOTH_DATABASES)('accounts across two instances on one database ($label)', ({ pg }) => {
  it.skipIf(pg && !TEST_PG_URL)('an account created on one instance signs in on the other, and is refused there once disabled', async () => {
    const dir = tempDir('chunfeng-accounts-');
    const schema = pg && TEST_PG_URL ? await freshPostgresSchema(TEST_PG_URL) : null;
    const env = { DATABASE_URL: schema?.url ?? `sqlite:${join(dir, 'shared.db')}` };
    const [a, b] = [await build({ env }), await build({ env })];
    try {
      const agent = await create('孙工', 'agent', a);
      expect((await call(b, 'GET', '/api/me', agent.token)).json()).toMatchObject({ id: agent.id, name: '孙工', role: 'agent' });
      expect((await call(b, 'GET', '/api/accounts', ADMIN)).json().accounts.map((x: { name: string }) => x.name)).toEqual(['管理员', '孙工']);
      expect((await call(a, 'POST', `/api/accounts/${agent.id}/disable`, ADMIN)).statusCode).toBe(200);
      expect((await call(b, 'GET', '/api/me', agent.token)).statusCode).toBe(401);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await schema?.cleanup();
      removeDir(dir);
    }
  });
});
