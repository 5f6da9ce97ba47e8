import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ChunfengError } from '../errors.js';
import type { DataRequest } from '../store/index.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';

const Person = Type.Object({
  channel: Type.String({ minLength: 1, maxLength: 20, description: 'telegram 或 wechat' }),
  user: Type.String({ minLength: 1, maxLength: 200, description: '该渠道的用户编号（Telegram 的用户 id、微信联系人 id）' }),
}, { additionalProperties: false });

const RequestSchema = Type.Object({
  id: Type.String(), kind: Type.Enum(['export', 'delete'], { description: 'export 导出 / delete 删除' }), channel: Type.String(),
  subject: Type.String({ description: '用户编号，中间隐去' }), by: Type.String({ description: '操作人：账号名称，或“命令行（登录名）”' }),
  note: Nullable(Type.String()), counts: Type.Record(Type.String(), Type.Integer(), { description: '每类数据的条数' }), at: Type.String({ format: 'date-time' }),
}, { $id: 'DataRequest' });

/** How staff read the one who acted: an account's name, or the command line's login. */
export function actorName(actor: string, names: ReadonlyMap<string, string>): string {
  if (actor.startsWith('account:')) return names.get(actor.slice('account:'.length)) ?? actor;
  if (actor.startsWith('cli:')) return `命令行（${actor.slice('cli:'.length)}）`;
  return actor;
}

/**
 * A person's data on request (个人信息保护法), for staff: find the person, export everything stored
 * about them, delete it; each export and deletion is logged with who did it.
 */
const people: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  const staff = fastify.authorize(['staff']);
  fastify.addSchema(RequestSchema);
  const requestJson = (r: DataRequest, names: ReadonlyMap<string, string>) => ({
    id: r.id, kind: r.kind, channel: r.channel, subject: r.subjectHint, by: actorName(r.actor, names), note: r.note, counts: { ...r.counts }, at: r.at.toISOString(),
  });
  const notFound = (channel: string): never => {
    throw new ChunfengError('NOT_FOUND', `没有这位用户的数据（渠道 ${channel}）：可能从未联系过机器人，或已经删除`);
  };

  fastify.get('/api/people', {
    preHandler: staff,
    schema: {
      summary: '查找用户（业务人员、管理员）：昵称包含所给文字，或用户编号正好是所给文字',
      tags: ['个人信息'],
      security: BEARER,
      querystring: Type.Object({ q: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ people: Type.Array(Type.Object({ channel: Type.String(), user: Type.String(), displayName: Nullable(Type.String()), firstSeenAt: Type.String({ format: 'date-time' }) })) }),
        400: ErrorSchema, ...REFUSALS,
      },
    },
  }, async (request) => ({
    people: (await store.people.search(request.query.q, 50)).map((p) => ({ channel: p.channel, user: p.userId, displayName: p.displayName, firstSeenAt: p.firstSeenAt.toISOString() })),
  }));

  fastify.post('/api/people/export', {
    preHandler: staff,
    schema: {
      summary: '导出一位用户的全部数据（业务人员、管理员）：消息、聊天、订阅和绑定、通知送达；记入操作日志',
      description: 'POST 而不是 GET：导出是要记录的操作，且用户编号不应出现在网址和访问日志里。',
      tags: ['个人信息'],
      security: BEARER,
      body: Type.Object({ ...Person.properties, note: Type.Optional(Type.String({ maxLength: 200, description: '申请编号或事由' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({}, { additionalProperties: true, description: '该用户的全部数据（见 README“个人信息”）' }), 400: ErrorSchema, 404: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const { channel, user, note } = request.body;
    const data = await store.people.export({ channel, userId: user }, { actor: `account:${request.account?.id ?? ''}`, note });
    if (!data) return notFound(channel);
    request.log.info({ by: request.account?.id, channel, messages: data.messages.length }, '已导出用户数据');
    return data;
  });

  fastify.post('/api/people/delete', {
    preHandler: staff,
    schema: {
      summary: '按本人要求删除一位用户的数据（业务人员、管理员）：消息、私聊、绑定和订阅、待选建议；通知送达记录保留但不再指向本人；记入操作日志',
      tags: ['个人信息'],
      security: BEARER,
      body: Type.Object({ ...Person.properties, note: Type.String({ minLength: 1, maxLength: 200, description: '申请编号或事由（必填，留作记录）' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ deleted: Type.Record(Type.String(), Type.Integer(), { description: '每类数据删除（或去标识）的条数' }) }), 400: ErrorSchema, 404: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const { channel, user, note } = request.body;
    const counts = await store.people.delete({ channel, userId: user }, { actor: `account:${request.account?.id ?? ''}`, note });
    if (!counts) return notFound(channel);
    request.log.info({ by: request.account?.id, channel, counts }, '已删除用户数据');
    return { deleted: { ...counts } };
  });

  fastify.get('/api/people/requests', {
    preHandler: staff,
    schema: {
      summary: '个人信息操作日志（业务人员、管理员）：谁在何时导出或删除了哪位用户的数据，最新的在前',
      tags: ['个人信息'],
      security: BEARER,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ requests: Type.Array(Type.Ref('DataRequest')) }), ...REFUSALS },
    },
  }, async (request) => {
    const [list, accounts] = await Promise.all([store.people.requests(request.query.limit ?? 200), store.accounts.list()]);
    const names = new Map(accounts.map((a) => [a.id, a.name]));
    return { requests: list.map((r) => requestJson(r, names)) };
  });
};

export default people;
