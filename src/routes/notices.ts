import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AUDIENCE_FIELDS, readAudience } from '../core/notices/audience.js';
import { NOTICE_LIMITS, checkNotice, packable, readItems, readTopics, type NoticeItem } from '../core/notices/notice.js';
import { maskName, maskTaxpayerId, summarize, type PlanSummary } from '../core/notices/recipients.js';
import { chinaDay } from '../core/search/index.js';
import { ChunfengError } from '../errors.js';
import { startDelivery } from '../notices/deliver.js';
import { noticeContext, planNotice } from '../notices/plan.js';
import { noticeReport, noticeReportCsv } from '../notices/report.js';
import type { StoredNotice } from '../store/index.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';


const AudienceSchema = Type.Object(
  Object.fromEntries(AUDIENCE_FIELDS.map((f) => [f, Type.Optional(Type.Array(Type.String({ maxLength: 50 }), { maxItems: 200 }))])),
  {
    additionalProperties: false,
    $id: 'Audience',
    description: '发送对象：每个字段是可接受的取值列表（字段内任一即可，字段之间须同时满足）；不写或空列表表示不限；{} 是全部纳税人。'
      + 'taxpayerType 可写“企业”（即一般纳税人和小规模纳税人），industry 可写门类字母或名称（C、制造业、C 制造业）。',
  },
);

const PreviewSchema = Type.Object({
  targeted: Type.Integer({ description: '将收到的聊天数（发送时每个聊天一条）' }),
  households: Type.Integer({ description: '将收到的户数（至少有一个聊天收到）' }),
  matched: Type.Integer({ description: '符合发送对象的户数' }),
  unlinked: Type.Integer({ description: '符合条件但没有绑定聊天的户数' }),
  optedOut: Type.Integer({ description: '退订了该主题（或全部通知）的聊天数' }),
  withoutItems: Type.Integer({ description: '政策包中没有任何一条适用的聊天数（不发送）' }),
  byOffice: Type.Array(Type.Object({ office: Nullable(Type.String()), households: Type.Integer(), chats: Type.Integer() })),
  items: Type.Array(Type.Object({ entryId: Type.String(), title: Type.String(), chats: Type.Integer({ description: '收到这一条的聊天数' }) })),
  sample: Type.Array(Type.Object({
    taxpayerId: Type.String({ description: '中间隐去的纳税人识别号' }),
    name: Type.String({ description: '名称；自然人只显示姓' }),
    taxpayerType: Type.String(),
    industry: Nullable(Type.String()),
    credit: Nullable(Type.String()),
    office: Nullable(Type.String()),
    region: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    channel: Type.String(),
    items: Type.Array(Type.String(), { description: '这个聊天会收到的条目 id（政策包）' }),
  }), { description: '最多 10 户的样例；政策包先列出收到不同条目组合的户' }),
}, { $id: 'Preview' });

const ItemSchema = Type.Object({
  entryId: Type.String(), title: Type.String(), category: Type.String(), body: Type.String(), sources: Type.Array(Type.String()),
  audience: Type.Ref('Audience'),
});

const ReminderSchema = Type.Object({
  afterHours: Type.Integer({ minimum: 1, maximum: NOTICE_LIMITS.reminderHours, description: '发送后多少小时提醒仍未读的人' }),
  text: Type.Optional(Nullable(Type.String({ maxLength: NOTICE_LIMITS.reminderText, description: '提醒的文字；不写则为“【提醒】标题”' }))),
}, { additionalProperties: false });

const noticeFields = {
  id: Type.String(),
  title: Type.String(),
  kind: Type.Enum(['notice', 'pack'], { description: 'notice 通知 / pack 政策包（带知识条目）' }),
  state: Type.String({ description: 'draft 草稿（尚未发送）/ sending 正在排入发送队列 / queued 已全部排队（发送进度见报告）' }),
  number: Nullable(Type.Integer({ description: '通知编号，开始发送时给出；纳税人回复“已读 编号”' })),
  targeted: Type.Integer({ description: '保存时将收到的聊天数' }),
  topics: Type.Array(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  createdBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
};

const PreviewBody = Type.Object({
  audience: Type.Ref('Audience'),
  topics: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: NOTICE_LIMITS.topics })),
  entries: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: NOTICE_LIMITS.entries, description: '政策包的条目：样例中列出每户会收到哪几条' })),
}, { additionalProperties: false });

/** A plan's summary as the API shows it: personal numbers masked, item titles beside their ids. */
function previewJson(summary: PlanSummary, items: readonly NoticeItem[]) {
  return {
    targeted: summary.targeted, households: summary.households, matched: summary.matched, unlinked: summary.unlinked, optedOut: summary.optedOut, withoutItems: summary.withoutItems,
    byOffice: summary.byOffice.map((o) => ({ ...o })),
    items: summary.items.map((i) => ({ entryId: i.entryId, title: items.find((it) => it.entryId === i.entryId)?.title ?? i.entryId, chats: i.chats })),
    sample: summary.sample.map((r) => ({
      taxpayerId: maskTaxpayerId(r.profile.taxpayerId), name: maskName(r.profile), taxpayerType: r.profile.taxpayerType, industry: r.profile.industry,
      credit: r.profile.credit, office: r.profile.office, region: r.profile.region, tags: [...r.profile.tags], channel: r.chat.channel, items: [...r.items],
    })),
  };
}

/** Refuses a body with the problems listed, as one Chinese message. */
function refuse(errors: readonly string[]): never {
  throw new ChunfengError('BAD_REQUEST', `请求格式不正确：${errors.join('；')}`);
}

/**
 * Notices and policy packs for staff: the knowledge entries a pack can hold, the audience preview,
 * and drafts (saved with a copy of their entries; sending belongs to delivery).
 */
const notices: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  const staff = fastify.authorize(['staff']);
  fastify.addSchema(AudienceSchema);
  fastify.addSchema(PreviewSchema);

  /** Account names for "created by", looked up once per request. */
  const namesOf = async (): Promise<Map<string, string>> => new Map((await store.accounts.list()).map((a) => [a.id, a.name]));
  const summaryJson = (n: Omit<StoredNotice, 'items'>, itemCount: number, names: Map<string, string>) => ({
    id: n.id, title: n.title, kind: itemCount > 0 ? ('pack' as const) : ('notice' as const), state: n.state, number: n.number, targeted: n.targeted, topics: [...n.topics],
    createdAt: n.createdAt.toISOString(), createdBy: n.createdBy ? { id: n.createdBy, name: names.get(n.createdBy) ?? n.createdBy } : null,
  });

  fastify.get('/api/entries', {
    preHandler: staff,
    schema: {
      summary: '可放进政策包的知识条目（业务人员、管理员）：在有效期内的问答和政策摘要，不含转办条目',
      tags: ['通知'],
      security: BEARER,
      response: {
        200: Type.Object({
          entries: Type.Array(Type.Object({
            id: Type.String(), title: Type.String(), kind: Type.String(), category: Type.String(),
            audience: Type.Record(Type.String(), Type.Array(Type.String()), { description: '条目前言里的推送对象标签；没有则为 {}（发给所有人）' }),
            validUntil: Nullable(Type.String()),
          })),
        }),
        503: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async () => {
    const index = fastify.knowledge.get();
    const day = chinaDay(new Date());
    return {
      entries: index.entries.filter((e) => packable(e, day)).map((e) => ({
        id: e.id, title: e.title, kind: e.kind, category: e.category, audience: Object.fromEntries(Object.entries(e.audience).map(([k, v]) => [k, [...v]])), validUntil: e.validUntil,
      })),
    };
  });

  fastify.post('/api/audiences/preview', {
    preHandler: staff,
    schema: {
      summary: '预览发送对象（业务人员、管理员）：将收到的户数和聊天数、按分局统计、最多 10 户样例（识别号隐去中间）',
      description: '带 topics 时不计退订了这些主题的聊天；带 entries（政策包）时只计至少有一条适用的聊天，样例列出每户会收到哪几条。',
      tags: ['通知'],
      security: BEARER,
      body: PreviewBody,
      response: { 200: Type.Ref('Preview'), 400: ErrorSchema, 503: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const context = noticeContext(fastify.knowledge.get());
    const audience = readAudience(request.body.audience);
    const items = readItems(request.body.entries ?? [], context);
    const topics = readTopics(request.body.topics ?? [], context);
    const errors = [...(audience.ok ? [] : audience.errors), ...items.errors, ...topics.errors];
    if (!audience.ok || errors.length > 0) refuse(errors);
    const plan = await planNotice(store.subscribers, { audience: audience.audience, topics: topics.topics, items: items.items });
    return previewJson(summarize(plan, items.items.map((i) => i.entryId)), items.items);
  });

  fastify.post('/api/notices', {
    preHandler: staff,
    schema: {
      summary: '新建通知或政策包（业务人员、管理员）：保存为草稿，尚未发送；返回将收到的聊天数',
      description: '带 entries 的是政策包：正文是封面说明，每户只收到推送对象标签与其档案相符的条目（没有标签的条目发给所有人）。'
        + 'topics 是通知的主题（知识库分类），退订了其中任一主题的聊天不会收到；政策包的每一条还按它自己的分类计算退订。',
      tags: ['通知'],
      security: BEARER,
      body: Type.Object({
        title: Type.String({ minLength: 1, maxLength: NOTICE_LIMITS.title }),
        text: Type.String({ minLength: 1, maxLength: NOTICE_LIMITS.text, description: '通知正文；政策包的封面说明' }),
        entries: Type.Optional(Type.Array(Type.String({ maxLength: 200 }), { maxItems: NOTICE_LIMITS.entries })),
        audience: Type.Ref('Audience'),
        topics: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: NOTICE_LIMITS.topics })),
        reminders: Type.Optional(Type.Array(ReminderSchema, { maxItems: NOTICE_LIMITS.reminders, description: '提醒计划：每轮在发送后若干小时提醒仍未读的人，按时间先后' })),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({ id: Type.String(), targeted: Type.Integer({ description: '将收到的聊天数' }), households: Type.Integer({ description: '将收到的户数' }) }),
        400: ErrorSchema,
        503: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request, reply) => {
    const checked = checkNotice(request.body, noticeContext(fastify.knowledge.get()));
    if (!checked.ok) refuse(checked.errors);
    const summary = summarize(await planNotice(store.subscribers, checked.draft), []);
    const notice = await store.notices.create(checked.draft, summary.targeted, request.account?.id ?? null);
    request.log.info({ notice: notice.id, items: notice.items.length, targeted: summary.targeted, by: request.account?.id }, '已保存通知草稿');
    return reply.code(201).send({ id: notice.id, targeted: summary.targeted, households: summary.households });
  });

  fastify.get('/api/notices', {
    preHandler: staff,
    schema: {
      summary: '全部通知和政策包（业务人员、管理员），最新的在前',
      tags: ['通知'],
      security: BEARER,
      response: { 200: Type.Object({ notices: Type.Array(Type.Object({ ...noticeFields, itemCount: Type.Integer() })) }), ...REFUSALS },
    },
  }, async () => {
    const [list, names] = await Promise.all([store.notices.list(), namesOf()]);
    return { notices: list.map((n) => ({ ...summaryJson(n, n.itemCount, names), itemCount: n.itemCount })) };
  });

  fastify.get('/api/notices/:id', {
    preHandler: staff,
    schema: {
      summary: '一条通知（业务人员、管理员）：内容、条目、提醒计划，以及按当前档案计算的发送预览（政策包列出样例每户会收到哪几条）',
      tags: ['通知'],
      security: BEARER,
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: {
        200: Type.Object({
          ...noticeFields,
          text: Type.String(),
          audience: Type.Ref('Audience'),
          reminders: Type.Array(Type.Object({ afterHours: Type.Integer(), text: Nullable(Type.String()) })),
          items: Type.Array(ItemSchema),
          preview: Type.Ref('Preview'),
        }),
        404: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const notice = await store.notices.get(request.params.id);
    if (!notice) throw new ChunfengError('NOT_FOUND', '没有这条通知');
    const [plan, names] = await Promise.all([planNotice(store.subscribers, notice), namesOf()]);
    return {
      ...summaryJson(notice, notice.items.length, names),
      text: notice.text,
      audience: notice.audience,
      reminders: notice.reminders.map((r) => ({ ...r })),
      items: notice.items.map((i) => ({ ...i, sources: [...i.sources] })),
      preview: previewJson(summarize(plan, notice.items.map((i) => i.entryId)), notice.items),
    };
  });

  const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });
  const noticeOr404 = async (id: string): Promise<StoredNotice> => {
    const notice = await store.notices.get(id);
    if (!notice) throw new ChunfengError('NOT_FOUND', '没有这条通知');
    return notice;
  };

  fastify.post('/api/notices/:id/send', {
    preHandler: staff,
    schema: {
      summary: '发送通知（业务人员、管理员）：按当前档案确定收件人并开始发送，返回 202；进度和结果见报告',
      description: '每个聊天只会收到一次（重复调用、重启、多实例都不会重发）。发送按渠道限额进行，回答纳税人提问的消息始终优先。',
      tags: ['通知'],
      security: BEARER,
      params: IdParams,
      response: {
        202: Type.Object({
          id: Type.String(), number: Nullable(Type.Integer()), state: Type.String(),
          targeted: Type.Integer({ description: '收件聊天数' }),
          started: Type.Boolean({ description: 'false：此前已开始发送，这次没有改变什么' }),
        }),
        404: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request, reply) => {
    const before = await noticeOr404(request.params.id);
    const notice = await startDelivery(store, before.id, fastify.noticeJob.now());
    if (!notice) throw new ChunfengError('NOT_FOUND', '没有这条通知');
    const targeted = (await store.notices.recipients(notice.id)).length;
    fastify.noticeJob.kick();
    request.log.info({ notice: notice.id, number: notice.number, targeted, by: request.account?.id }, before.state === 'draft' ? '开始发送通知' : '通知此前已开始发送');
    return reply.code(202).send({ id: notice.id, number: notice.number, state: notice.state, targeted, started: before.state === 'draft' });
  });

  const Counts = {
    targeted: Type.Integer({ description: '收件聊天数' }),
    sent: Type.Integer({ description: '已发出' }),
    delivered: Type.Integer({ description: '渠道已确认收下（返回了消息编号）' }),
    failed: Type.Integer({ description: '发送失败（被拒绝或多次重试仍失败）' }),
    unreachable: Type.Integer({ description: '无法送达（用户屏蔽了机器人、机器人被移出群）' }),
    read: Type.Integer({ description: '已确认阅读' }),
    readRate: Type.Number({ description: '阅读率：已读 / 收件聊天数' }),
  };
  fastify.get('/api/notices/:id/report', {
    preHandler: staff,
    schema: {
      summary: '通知报告（业务人员、管理员）：发送与阅读情况，合计和按主管分局；提醒轮次；政策包每条发给了多少聊天；顺延到以后发送的数量',
      description: '发送中也可随时调用，作为进度。每个收件人的明细（收到哪些条目、何时阅读）见 /api/notices/{id}/report.csv。',
      tags: ['通知'],
      security: BEARER,
      params: IdParams,
      response: {
        200: Type.Object({
          id: Type.String(), number: Nullable(Type.Integer()), title: Type.String(), state: Type.String(), sentAt: Nullable(Type.String({ format: 'date-time' })),
          ...Counts,
          pending: Type.Integer({ description: '尚未发出（排队、等待限额或重试）' }),
          byOffice: Type.Array(Type.Object({ office: Nullable(Type.String()), ...Counts })),
          items: Type.Array(Type.Object({ entryId: Type.String(), title: Type.String(), recipients: Type.Integer({ description: '收到这一条的聊天数' }) })),
          reminders: Type.Array(Type.Object({
            round: Type.Integer(), afterHours: Type.Integer(), startedAt: Type.String({ format: 'date-time' }), recipients: Type.Integer({ description: '这一轮提醒的聊天数' }),
            finishedAt: Nullable(Type.String({ format: 'date-time' })),
          })),
          nextReminder: Nullable(Type.Object({
            round: Type.Integer(), afterHours: Type.Integer(),
            at: Type.String({ format: 'date-time', description: '预计发出的时间：到点后的第一个办公时间（工作日的 REMINDER_HOURS，节假日顺延，调休上班日照发）' }),
          }, { description: '提醒计划中还没开始的下一轮；没有则为 null' })),
          deferred: Type.Object({
            count: Type.Integer({ description: '因当日发送额度用完而顺延的聊天数（微信）' }),
            until: Nullable(Type.String({ description: '最早顺延到的日期（北京时间）' })),
          }),
        }),
        404: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const report = await noticeReport(store, await noticeOr404(request.params.id), fastify.noticeJob.schedule(), fastify.noticeJob.now());
    return {
      ...report,
      sentAt: report.sentAt?.toISOString() ?? null,
      byOffice: report.byOffice.map((o) => ({ ...o })),
      items: report.items.map((i) => ({ ...i })),
      reminders: report.reminders.map((r) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null })),
      nextReminder: report.nextReminder && { ...report.nextReminder, at: report.nextReminder.at.toISOString() },
      deferred: { ...report.deferred },
    };
  });

  fastify.get('/api/notices/:id/report.csv', {
    preHandler: staff,
    schema: {
      summary: '通知报告明细 CSV（业务人员、管理员）：每个收件聊天一行：纳税人、分局、收到的条目、发送状态与时间、阅读时间、提醒次数；UTF-8 带 BOM，Excel 可直接打开',
      tags: ['通知'],
      security: BEARER,
      params: IdParams,
      response: { 200: Type.String(), 404: ErrorSchema, ...REFUSALS },
    },
  }, async (request, reply) => {
    const notice = await noticeOr404(request.params.id);
    const csv = await noticeReportCsv(store, notice);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="notice-${notice.number ?? notice.id}.csv"; filename*=UTF-8''${encodeURIComponent(`通知${notice.number ?? ''}报告.csv`)}`)
      .send(csv);
  });
};

export default notices;
