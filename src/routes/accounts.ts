import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ACCOUNT_ROLES, MAX_ACCOUNT_NAME, checkAccountName } from '../core/accounts.js';
import { ChunfengError } from '../errors.js';
import type { Account } from '../store/index.js';
import { BEARER, ErrorSchema, REFUSALS } from './schemas.js';

const Role = Type.Enum(ACCOUNT_ROLES, { description: 'admin 管理员 / staff 业务人员 / agent 坐席' });

const accountFields = {
  id: Type.String(),
  name: Type.String(),
  role: Role,
  createdAt: Type.String({ format: 'date-time' }),
  disabledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: '停用时间；在用的账号为 null' }),
};
const AccountSchema = Type.Object(accountFields);
const CreatedSchema = Type.Object({ ...accountFields, token: Type.String({ description: 'Bearer 令牌，只显示这一次' }) });

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

/** An account as the API shows it: never its token or the token's hash. */
function toJson(a: Account): { id: string; name: string; role: Account['role']; createdAt: string; disabledAt: string | null } {
  return { id: a.id, name: a.name, role: a.role, createdAt: a.createdAt.toISOString(), disabledAt: a.disabledAt?.toISOString() ?? null };
}

/**
 * Accounts over HTTP: who am I (any account in use), and for admins the list, creating an account
 * (its token answered once and never again) and disabling or enabling one. An admin cannot disable
 * their own account, so the API alone never leaves a service without an admin; `chunfeng user
 * enable` on the server is the way back if two admins disable each other.
 */
const accounts: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  const adminOnly = fastify.authorize([]);

  fastify.get('/api/me', {
    preHandler: fastify.authorize(['agent', 'staff']),
    schema: { summary: '当前登录的账号', tags: ['账号'], security: BEARER, response: { 200: AccountSchema, ...REFUSALS } },
  }, async (request) => toJson(request.account as Account));

  fastify.get('/api/accounts', {
    preHandler: adminOnly,
    schema: { summary: '全部账号（仅管理员），按创建时间先后', tags: ['账号'], security: BEARER, response: { 200: Type.Object({ accounts: Type.Array(AccountSchema) }), ...REFUSALS } },
  }, async () => ({ accounts: (await store.accounts.list()).map(toJson) }));

  // Who a ticket can be transferred to: agents need it, and may not read the full account list.
  fastify.get('/api/agents', {
    preHandler: fastify.authorize(['agent']),
    schema: {
      summary: '可以接手工单的账号（在用的坐席和管理员），按创建时间先后',
      tags: ['账号'],
      security: BEARER,
      response: { 200: Type.Object({ agents: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Role })) }), ...REFUSALS },
    },
  }, async () => ({
    agents: (await store.accounts.list()).filter((a) => a.disabledAt === null && a.role !== 'staff').map((a) => ({ id: a.id, name: a.name, role: a.role })),
  }));

  fastify.post('/api/accounts', {
    preHandler: adminOnly,
    schema: {
      summary: '新建账号（仅管理员）；令牌只在这次应答中出现',
      tags: ['账号'],
      security: BEARER,
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: MAX_ACCOUNT_NAME }), role: Role }, { additionalProperties: false }),
      response: { 201: CreatedSchema, 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request, reply) => {
    const checked = checkAccountName(request.body.name);
    if (!checked.ok) throw new ChunfengError('BAD_REQUEST', `请求格式不正确：${checked.message}`);
    const { account, token } = await store.accounts.create(checked.name, request.body.role);
    // The token goes to the admin who asked and nowhere else: not into the log line.
    request.log.info({ account: account.id, role: account.role, by: request.account?.id }, '已创建账号');
    return reply.code(201).send({ ...toJson(account), token });
  });

  fastify.post('/api/accounts/:id/disable', {
    preHandler: adminOnly,
    schema: {
      summary: '停用账号（仅管理员）：其令牌随即失效；不能停用自己',
      tags: ['账号'],
      security: BEARER,
      params: IdParams,
      response: { 200: AccountSchema, 404: ErrorSchema, 409: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    if (request.params.id === request.account?.id) throw new ChunfengError('CONFLICT', '不能停用自己的账号');
    const account = await store.accounts.disable(request.params.id);
    if (!account) throw new ChunfengError('NOT_FOUND', '没有这个账号');
    request.log.info({ account: account.id, by: request.account?.id }, '已停用账号');
    return toJson(account);
  });

  fastify.post('/api/accounts/:id/enable', {
    preHandler: adminOnly,
    schema: {
      summary: '重新启用账号（仅管理员）：原来的令牌恢复有效',
      tags: ['账号'],
      security: BEARER,
      params: IdParams,
      response: { 200: AccountSchema, 404: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const account = await store.accounts.enable(request.params.id);
    if (!account) throw new ChunfengError('NOT_FOUND', '没有这个账号');
    request.log.info({ account: account.id, by: request.account?.id }, '已启用账号');
    return toJson(account);
  });
};

export default accounts;
