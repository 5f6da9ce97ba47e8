import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { OUTBOX_PRIORITY, isOverdue, type Account, type ActionMessage, type Store, type Ticket, type TicketDetail } from '../store/index.js';
import { STATE_LABELS, TICKET_STATES, type Actor, type TicketAction, type TicketState } from '../core/tickets/lifecycle.js';
import { deadlines, formatRatingRequest, signed } from '../core/tickets/flow.js';
import { workingDaysLeft } from '../core/tickets/workdays.js';
import type { TicketSettings } from '../knowledge/tickets.js';
import { ChunfengError } from '../errors.js';
import type { Channel } from '../core/conversation/types.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';

const MAX_TEXT = 2000;

const MessageSchema = Type.Object({
  id: Type.String(),
  from: Type.Enum(['user', 'agent', 'bot'], { description: 'user 提问人 / agent 工作人员 / bot 机器人' }),
  text: Type.String({ description: '原文，显示时按纯文本' }),
  at: Type.String({ format: 'date-time' }),
  agent: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  transcript: Type.Boolean({ description: 'true：转人工之前的对话记录' }),
  delivery: Nullable(Type.Object({
    state: Type.String({ description: 'pending 等待发送 / sending 发送中 / sent 已送达 / failed 发送失败 / expired 过期未发 / unreachable 无法送达（被拉黑或移出群）' }),
    attempts: Type.Integer(),
    error: Nullable(Type.String()),
  }, { description: '发到聊天的消息的送达情况；提问人的消息为 null' })),
});

const EventSchema = Type.Object({
  type: Type.String({ description: 'registered 登记 / claimed 认领 / transferred 转交 / replied 回复 / resent 重发 / resolved 办结 / rated 评价 / flagged 标记督办 / followed_up 回访 / archived 归档 / reopened 重新打开 / overdue 超期' }),
  actor: Type.String({ description: '账号 id；user 提问人；system 系统定时任务' }),
  actorName: Nullable(Type.String()),
  at: Type.String({ format: 'date-time' }),
  data: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
});

const ticketFields = {
  id: Type.String(),
  number: Type.String({ description: '工单号，如 CF-20261129-0007' }),
  state: Type.Enum(TICKET_STATES, { description: 'registered 已登记 / assigned 已分派 / in_progress 处理中 / resolved 已答复 / followed_up 已回访 / archived 已归档' }),
  stateLabel: Type.String(),
  channel: Type.String(),
  chatId: Type.String({ description: '聊天在渠道中的编号' }),
  userId: Type.String({ description: '提问人在渠道中的编号' }),
  userName: Nullable(Type.String()),
  chatKind: Type.Enum(['private', 'group']),
  source: Type.Enum(['human', 'complaint', 'offer', 'agent'], { description: 'human 转人工 / complaint 投诉举报 / offer 两次未答后接受转人工 / agent 工作人员接管' }),
  category: Type.String({ description: '服务态度类 / 服务质效类 / 侵害权益类 / 政策咨询类' }),
  priority: Type.Enum(['normal', 'high', 'urgent']),
  assignee: Nullable(Type.String({ description: '处理人账号 id' })),
  assigneeName: Nullable(Type.String()),
  dueAt: Type.String({ format: 'date-time', description: '答复期限（工作日计算）' }),
  firstResponseDueAt: Type.String({ format: 'date-time', description: '首次回复期限' }),
  firstResponseAt: Nullable(Type.String({ format: 'date-time' })),
  workingDaysLeft: Type.Integer({ description: '距答复期限的工作日数：当天为 0，超期为负数' }),
  overdue: Type.Boolean({ description: '仍未办结且已过首次回复或答复期限' }),
  rating: Nullable(Type.Integer({ minimum: 1, maximum: 3, description: '1 非常满意 / 2 满意 / 3 不满意' })),
  ratingComment: Nullable(Type.String()),
  flagged: Type.Boolean({ description: '评价不满意，待负责人督办' }),
  repeatRequester: Type.Boolean({ description: '提问人近 30 天内有 3 张及以上工单' }),
  recentTickets: Type.Integer({ description: '提问人近 30 天内的工单数' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  resolvedAt: Nullable(Type.String({ format: 'date-time' })),
};
const TicketSchema = Type.Object(ticketFields, { $id: 'Ticket' });
const TicketDetailSchema = Type.Object({ ...ticketFields, messages: Type.Array(MessageSchema), events: Type.Array(EventSchema) }, { $id: 'TicketDetail' });

const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: '工单 id 或工单号' }) });
const CONFLICTS = { 404: ErrorSchema, 409: ErrorSchema, ...REFUSALS } as const;

/** What a route needs to describe tickets: names of accounts, tickets per requester, the time and calendar. */
interface Context {
  readonly names: Map<string, string>;
  readonly recent: Map<string, number>;
  readonly now: Date;
  readonly settings: Pick<TicketSettings, 'calendar' | 'rules'>;
}

function ticketJson(t: Ticket, ctx: Context) {
  const recent = ctx.recent.get(`${t.channel}\0${t.userId}`) ?? 0;
  return {
    id: t.id, number: t.number, state: t.state, stateLabel: STATE_LABELS[t.state], channel: t.channel, chatId: t.chatId, userId: t.userId, userName: t.userName,
    chatKind: t.chatKind, source: t.source, category: t.category, priority: t.priority, assignee: t.assignee, assigneeName: t.assignee ? (ctx.names.get(t.assignee) ?? null) : null,
    dueAt: t.dueAt.toISOString(), firstResponseDueAt: t.firstResponseDueAt.toISOString(), firstResponseAt: t.firstResponseAt?.toISOString() ?? null,
    workingDaysLeft: workingDaysLeft(ctx.now, t.dueAt, ctx.settings.calendar), overdue: isOverdue(t, ctx.now), rating: t.rating, ratingComment: t.ratingComment,
    flagged: t.flagged, repeatRequester: recent >= ctx.settings.rules.repeatRequester.tickets, recentTickets: recent,
    createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString(), resolvedAt: t.resolvedAt?.toISOString() ?? null,
  };
}

function detailJson(t: TicketDetail, ctx: Context) {
  return {
    ...ticketJson(t, ctx),
    messages: t.messages.map((m) => ({
      id: m.id, from: m.from, text: m.text, at: m.at.toISOString(), transcript: m.transcript,
      agent: m.accountId ? { id: m.accountId, name: ctx.names.get(m.accountId) ?? m.accountId } : null,
      delivery: m.delivery ? { state: m.delivery.state, attempts: m.delivery.attempts, error: m.delivery.error } : null,
    })),
    events: t.events.map((e) => ({ type: e.type, actor: e.actor, actorName: ctx.names.get(e.actor) ?? null, at: e.at.toISOString(), data: { ...e.data } })),
  };
}

/** The lifecycle's actor for an account. */
function actorOf(account: Account): Actor {
  return { kind: 'account', id: account.id, admin: account.role === 'admin' };
}

/** A message to the requester's chat: in a group, quoting their last message (Telegram) or @-ing them (WeChat). */
async function toChat(store: Store, t: Ticket, from: 'agent' | 'bot', kept: string, text: string, at: Date): Promise<ActionMessage> {
  const group = t.chatKind === 'group';
  const quote = group && t.channel !== 'wechat' ? await store.tickets.lastInbound(t.chatRef, t.userRef) : null;
  return {
    from, text: kept,
    outbound: {
      channel: t.channel, chatId: t.chatRef, channelChatId: t.chatId, kind: from === 'agent' ? 'agent' : 'reply', priority: OUTBOX_PRIORITY.reply, text,
      replyTo: quote, payload: group && t.channel === 'wechat' ? { mention: { userId: t.userId, name: t.userName ?? '' } } : null,
      // Never expired: a person's answer is worth delivering late (the outbox retries it, and the console shows how it stands).
      // A dedupe key keeps the row when finished rows are pruned, so the ticket shows its delivery for good.
      source: `ticket:${t.id}`, dedupeKey: `ticket:${t.id}:${randomUUID()}`, at, expiresAt: null,
    },
  };
}

/**
 * Tickets for agents: the queue, one ticket with its conversation and audit trail, and the
 * lifecycle's actions. Each action is decided on the ticket as read and applied only to that
 * version; the loser of two agents acting at once is told why (409). Messages to the requester go
 * through the outbox, in the same transaction as the action.
 */
const tickets: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  fastify.metrics.ticketProbe = () => store.tickets.counts(new Date());
  fastify.addSchema(TicketSchema);
  fastify.addSchema(TicketDetailSchema);
  const agents = fastify.authorize(['agent']);

  const context = async (now = new Date()): Promise<Context> => {
    const s = fastify.knowledge.tickets();
    const [accounts, recent] = await Promise.all([
      store.accounts.list(),
      store.tickets.requesterCounts(new Date(now.getTime() - s.rules.repeatRequester.days * 86_400_000)),
    ]);
    return { names: new Map(accounts.map((a) => [a.id, a.name])), recent, now, settings: s };
  };

  const detail = async (id: string) => {
    const [t, ctx] = await Promise.all([store.tickets.get(id), context()]);
    if (!t) throw new ChunfengError('NOT_FOUND', '没有这张工单');
    return detailJson(t, ctx);
  };

  /** Applies an action of the signed-in account; 404 for no such ticket, 409 (from the lifecycle) for one it may not do. */
  const act = async (id: string, account: Account, action: TicketAction, send?: (t: Ticket, now: Date) => Promise<ActionMessage[]>) => {
    const now = new Date();
    const ticket = await store.tickets.find(id);
    if (!ticket) throw new ChunfengError('NOT_FOUND', '没有这张工单');
    const messages = send ? await send(ticket, now) : [];
    const applied = await store.tickets.apply(ticket.id, action, actorOf(account), now, fastify.knowledge.tickets().rules, () => messages);
    if (!applied) throw new ChunfengError('NOT_FOUND', '没有这张工单');
    if (applied.outboxIds.length > 0) fastify.dispatcher.offer(ticket.channel as Channel, applied.outboxIds);
    return detail(ticket.id);
  };

  const common = { tags: ['工单'], security: BEARER } as const;

  fastify.get('/api/tickets', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '工单列表（坐席、管理员）：超期的在前，其余最新的在前；最多 limit 张（默认 500）',
      querystring: Type.Object({
        state: Type.Optional(Type.String({ maxLength: 200, description: '状态，可逗号分隔多个；open 表示未办结（registered、assigned、in_progress）' })),
        mine: Type.Optional(Type.Boolean({ description: 'true：只看我处理的' })),
        overdue: Type.Optional(Type.Boolean({ description: 'true：只看超期的' })),
        flagged: Type.Optional(Type.Boolean({ description: 'true：只看评价不满意、待负责人督办的' })),
        channel: Type.Optional(Type.String({ maxLength: 20 })),
        userId: Type.Optional(Type.String({ maxLength: 200, description: '与 channel 一起：这位提问人的全部工单（历史）' })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ tickets: Type.Array(Type.Ref('Ticket')) }), 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const q = request.query;
    const states = (q.state ?? '').split(',').map((s) => s.trim()).filter(Boolean).flatMap((s): TicketState[] => {
      if (s === 'open') return ['registered', 'assigned', 'in_progress'];
      if ((TICKET_STATES as readonly string[]).includes(s)) return [s as TicketState];
      throw new ChunfengError('BAD_REQUEST', `请求格式不正确：state 应为 open 或 ${TICKET_STATES.join('、')}`);
    });
    if (q.userId && !q.channel) throw new ChunfengError('BAD_REQUEST', '请求格式不正确：按提问人查询时需同时给出 channel');
    const [list, ctx] = await Promise.all([
      store.tickets.list({
        states, ...(q.mine ? { assignee: request.account!.id } : {}), ...(q.userId && q.channel ? { requester: { channel: q.channel, userId: q.userId } } : {}), limit: q.limit ?? 500,
      }),
      context(),
    ]);
    const shown = list.map((t) => ticketJson(t, ctx)).filter((t) => (!q.overdue || t.overdue) && (!q.flagged || t.flagged));
    // Overdue first, each group newest first (the list comes newest first; the sort is stable).
    shown.sort((a, b) => Number(b.overdue) - Number(a.overdue));
    return { tickets: shown };
  });

  fastify.post('/api/tickets', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '接管聊天（坐席、管理员）：为这位提问人新建工单并由自己处理；已有未办结工单时返回该工单',
      description: '聊天和提问人须已和机器人说过话。接管后提问人在该聊天中的消息转给工单，机器人不再自动回答。',
      body: Type.Object({
        channel: Type.Enum(['telegram', 'wechat']),
        chatId: Type.String({ minLength: 1, maxLength: 200 }),
        userId: Type.String({ minLength: 1, maxLength: 200 }),
      }, { additionalProperties: false }),
      response: { 200: Type.Ref('TicketDetail'), 201: Type.Ref('TicketDetail'), 404: ErrorSchema, 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request, reply) => {
    const { channel, chatId, userId } = request.body;
    const who = await store.tickets.requester(channel, chatId, userId);
    if (!who) throw new ChunfengError('NOT_FOUND', '这个聊天或提问人还没有和机器人说过话，无法接管');
    const at = new Date();
    const account = request.account!;
    const s = fastify.knowledge.tickets();
    const { ticket, created } = await store.tickets.open({
      channel, chatId, userId, ...who, source: 'agent', category: '政策咨询类', priority: 'normal', ...deadlines('政策咨询类', at, s.rules, s.calendar),
      actor: account.id, assignee: account.id, at,
    });
    return reply.code(created ? 201 : 200).send(await detail(ticket.id));
  });

  fastify.get('/api/tickets/:id', {
    preHandler: agents,
    schema: { ...common, summary: '一张工单：对话（含转人工前的记录）、送达情况和处理记录', params: IdParams, response: { 200: Type.Ref('TicketDetail'), 404: ErrorSchema, ...REFUSALS } },
  }, async (request) => detail(request.params.id));

  fastify.post('/api/tickets/:id/claim', {
    preHandler: agents,
    schema: { ...common, summary: '认领工单；已被他人认领时 409', params: IdParams, response: { 200: Type.Ref('TicketDetail'), ...CONFLICTS } },
  }, async (request) => act(request.params.id, request.account!, { type: 'claim' }));

  fastify.post('/api/tickets/:id/reply', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '回复提问人：经机器人发到原聊天，署名为工作人员姓名（群聊中引用或 @ 提问人）',
      params: IdParams,
      body: Type.Object({ text: Type.String({ minLength: 1, maxLength: MAX_TEXT }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('TicketDetail'), 400: ErrorSchema, ...CONFLICTS },
    },
  }, async (request) => {
    const account = request.account!;
    const text = request.body.text.trim();
    if (!text) throw new ChunfengError('BAD_REQUEST', '请求格式不正确：回复内容不能为空');
    return act(request.params.id, account, { type: 'reply' }, async (t, now) => [await toChat(store, t, 'agent', text, signed(account.name, text), now)]);
  });

  fastify.post('/api/tickets/:id/transfer', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '转交给另一位坐席',
      params: IdParams,
      body: Type.Object({ to: Type.String({ minLength: 1, maxLength: 100, description: '接手的账号 id' }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('TicketDetail'), 400: ErrorSchema, ...CONFLICTS },
    },
  }, async (request) => {
    const to = await store.accounts.get(request.body.to);
    if (!to || to.disabledAt || (to.role !== 'agent' && to.role !== 'admin')) throw new ChunfengError('BAD_REQUEST', '请求格式不正确：只能转交给在用的坐席或管理员账号');
    return act(request.params.id, request.account!, { type: 'transfer', to: to.id });
  });

  fastify.post('/api/tickets/:id/resolve', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '办结工单：答复意见发给提问人，并请其评价（1 非常满意 2 满意 3 不满意）',
      params: IdParams,
      body: Type.Object({ resolution: Type.String({ minLength: 1, maxLength: MAX_TEXT }) }, { additionalProperties: false }),
      response: { 200: Type.Ref('TicketDetail'), 400: ErrorSchema, ...CONFLICTS },
    },
  }, async (request) => {
    const resolution = request.body.resolution.trim();
    return act(request.params.id, request.account!, { type: 'resolve', resolution }, async (t, now) =>
      resolution ? [await toChat(store, t, 'bot', formatRatingRequest(t.number, resolution), formatRatingRequest(t.number, resolution), now)] : []);
  });

  fastify.post('/api/tickets/:id/messages/:messageId/resend', {
    preHandler: agents,
    schema: {
      ...common,
      summary: '重发一条没有送达的消息（发送失败、过期或无法送达）：作为新消息再次排队，原消息的失败记录保留',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }), messageId: Type.String({ minLength: 1, maxLength: 200 }) }),
      response: { 200: Type.Ref('TicketDetail'), ...CONFLICTS },
    },
  }, async (request) => {
    const ticket = await store.tickets.find(request.params.id);
    const outboxId = ticket ? await store.tickets.resend(ticket.id, request.params.messageId, request.account!.id, new Date()) : null;
    if (!ticket || !outboxId) throw new ChunfengError('NOT_FOUND', '这张工单没有这条消息');
    fastify.dispatcher.offer(ticket.channel as Channel, [outboxId]);
    return detail(ticket.id);
  });

  fastify.post('/api/tickets/:id/reopen', {
    preHandler: agents,
    schema: { ...common, summary: '重新打开已答复或已回访的工单（答复后 7 天内）', params: IdParams, response: { 200: Type.Ref('TicketDetail'), ...CONFLICTS } },
  }, async (request) => act(request.params.id, request.account!, { type: 'reopen' }));
};

export default tickets;
