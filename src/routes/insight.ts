import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { rankTopics } from '../core/insight/board.js';
import { groupQuestions, phrasingsFrom, type QuestionGroup } from '../core/insight/inbox.js';
import { PERIODS, beijingDay, isDay, periodRange, type Period } from '../core/insight/periods.js';
import { ChunfengError } from '../errors.js';
import { checkDraft, draftPath, draftText, entryPath, withQuestions, type EntryDraft } from '../knowledge/edit.js';
import type { BoardFilter } from '../store/index.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';

/** Example questions shown with each inbox group, and kept with a decision (for evaluation). */
const LIST_EXAMPLES = 3;
const KEPT_EXAMPLES = 20;
/** Phrasings an entry learns from a group when staff do not pick them. */
const ATTACHED_PHRASINGS = 3;

const BoardQuery = Type.Object({
  period: Type.Optional(Type.Enum([...PERIODS], { default: 'week', description: 'day 日 / week 周（周一至周日）/ month 月，北京时间；默认 week' })),
  date: Type.Optional(Type.String({ description: '看哪一天所在的日、周、月（YYYY-MM-DD，北京时间）；默认今天' })),
  office: Type.Optional(Type.String({ maxLength: 100, description: '主管分局：只计绑定了该分局纳税人档案的聊天' })),
  chat: Type.Optional(Type.String({ maxLength: 100, description: '只计这个聊天（聊天编号见 GET /api/insight/filters）' })),
});

/** Empty fields pass the schema: the checks of kb lint report them, in its words. */
const DraftBody = Type.Object({
  id: Type.String({ maxLength: 80, description: '条目 id：小写字母、数字和连字符，不能与已有条目重复' }),
  title: Type.String({ maxLength: 60 }),
  category: Type.String({ maxLength: 30, description: '分类，应在 knowledge/categories.txt 中' }),
  questions: Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20, description: '问法，建议 5-10 种' }),
  keywords: Type.Array(Type.String({ minLength: 1, maxLength: 30 }), { maxItems: 30 }),
  sources: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 10, description: '答案依据的文件、文号和日期，至少一个' }),
  answer: Type.String({ maxLength: 2000, description: '答案正文，建议 80-400 字' }),
  validFrom: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
  validUntil: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
}, { additionalProperties: false });

const ProblemSchema = Type.Object({ line: Type.Integer(), message: Type.String(), severity: Type.Enum(['error', 'warning']) });

const GroupParams = Type.Object({ group: Type.String({ maxLength: 40 }) });

/**
 * What staff open every morning: the hot-questions board with the questions behind each topic, and
 * the unanswered inbox, whose groups staff attach to an entry, turn into a new entry or dismiss.
 * Knowledge changes are written into the knowledge folder and reloaded without a restart
 * (plugins/knowledge.ts), on every instance.
 */
const insight: FastifyPluginAsyncTypebox = async (fastify) => {
  const { store } = fastify;
  const staff = fastify.authorize(['staff']);
  const knowledgeDir = fastify.knowledge.directory;

  const filterOf = (q: { period?: string; date?: string; office?: string; chat?: string }, now: Date): BoardFilter & { period: Period } => {
    const period = (q.period ?? 'week') as Period;
    const day = q.date ?? beijingDay(now);
    if (!isDay(day)) throw new ChunfengError('BAD_REQUEST', `date 应为 YYYY-MM-DD 格式的日期，现为“${day}”`);
    return { period, range: periodRange(period, day), office: q.office?.trim() || null, chatId: q.chat?.trim() || null };
  };
  const titleOf = (id: string): string => {
    try {
      return fastify.knowledge.get().entry(id)?.title ?? id;
    } catch {
      return id;
    }
  };

  fastify.get('/api/insight/hot', {
    preHandler: staff,
    schema: {
      summary: '热搜榜（业务人员、管理员）：一个时期里已回答的提问按主题（知识条目）计数，与上一个时期比较，问得最多的在前',
      description: '时期按北京时间计：日、周（周一至周日）、自然月；previous 是上一个同类时期的次数，change = count - previous（正数为上升）。'
        + '只计机器人作答了的提问；office 按聊天绑定的纳税人档案的主管分局筛选。',
      tags: ['洞察'],
      security: BEARER,
      querystring: BoardQuery,
      response: {
        200: Type.Object({
          period: Type.String(), from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time' }),
          previousFrom: Type.String({ format: 'date-time', description: '上一个时期的开始（它在 from 结束）' }),
          topics: Type.Array(Type.Object({ id: Type.String(), title: Type.String(), count: Type.Integer(), previous: Type.Integer(), change: Type.Integer() })),
        }),
        400: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const now = new Date();
    const filter = filterOf(request.query, now);
    const counts = await store.insight.board(filter, now);
    return {
      period: filter.period, from: filter.range.from.toISOString(), to: filter.range.to.toISOString(), previousFrom: filter.range.previousFrom.toISOString(),
      topics: rankTopics([counts], titleOf),
    };
  });

  fastify.get('/api/insight/hot/:entry/messages', {
    preHandler: staff,
    schema: {
      summary: '热搜榜上一个主题背后的提问（业务人员、管理员），最新的在前；手机号、身份证号等已隐去',
      tags: ['洞察'],
      security: BEARER,
      params: Type.Object({ entry: Type.String({ maxLength: 200 }) }),
      querystring: Type.Intersect([BoardQuery, Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) })]),
      response: {
        200: Type.Object({
          messages: Type.Array(Type.Object({
            id: Type.String(), channel: Type.String(), chat: Type.Object({ id: Type.String(), title: Nullable(Type.String()) }),
            text: Type.String(), score: Nullable(Type.Number()), at: Type.String({ format: 'date-time' }),
          })),
        }),
        400: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const filter = filterOf(request.query, new Date());
    const messages = await store.insight.boardMessages(request.params.entry, filter, request.query.limit ?? 50);
    return { messages: messages.map((m) => ({ id: m.id, channel: m.channel, chat: { id: m.chatId, title: m.chatTitle }, text: m.text, score: m.score, at: m.at.toISOString() })) };
  });

  fastify.get('/api/insight/filters', {
    preHandler: staff,
    schema: {
      summary: '热搜榜的筛选项（业务人员、管理员）：纳税人档案中的主管分局，机器人所在的聊天（群在前）',
      tags: ['洞察'],
      security: BEARER,
      response: {
        200: Type.Object({
          offices: Type.Array(Type.String()),
          chats: Type.Array(Type.Object({ id: Type.String(), channel: Type.String(), kind: Type.String(), title: Nullable(Type.String()), office: Nullable(Type.String()) })),
        }),
        ...REFUSALS,
      },
    },
  }, async () => store.insight.boardFilters());

  /**
   * The open groups as they stand, grouped again only when the open keys changed (their version is
   * read first, so a grouping is never kept under a newer version than its keys), and one of them by
   * id (404 when it was decided or changed meanwhile). Grouping thousands of keys takes a good part
   * of a request; between two declined questions the inbox is read as often as staff like.
   */
  let grouped: { readonly version: string; readonly groups: Promise<readonly QuestionGroup[]> } | null = null;
  const openGroups = async (): Promise<readonly QuestionGroup[]> => {
    const version = await store.insight.openKeysVersion();
    if (grouped?.version !== version) {
      const groups = store.insight.openKeys().then(groupQuestions);
      grouped = { version, groups };
      groups.catch(() => {
        if (grouped?.groups === groups) grouped = null;
      });
    }
    return grouped.groups;
  };
  const findGroup = async (id: string): Promise<QuestionGroup> => {
    const group = (await openGroups()).find((g) => g.id === id);
    if (!group) throw new ChunfengError('NOT_FOUND', '这组问题已处理或已有变化，请刷新待解答列表');
    return group;
  };
  /** The newest distinct texts of a group (the same words asked twice show once). */
  const examplesOf = async (group: QuestionGroup, n: number): Promise<string[]> => [...new Set((await store.insight.examples(group.keys, n * 3)).map((e) => e.text))].slice(0, n);

  fastify.get('/api/insight/unanswered', {
    preHandler: staff,
    schema: {
      summary: '待解答（业务人员、管理员）：机器人没有作答或没有把握的提问，按相似程度分组，问得最多的组在前（同样多时最近的在前）',
      description: '分组用与知识索引相同的分词和同义词：两个提问的实词有一半以上相同即为一组。已加入条目或已忽略的不再列出。',
      tags: ['洞察'],
      security: BEARER,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }),
      response: {
        200: Type.Object({
          total: Type.Integer({ description: '待处理的组数' }),
          groups: Type.Array(Type.Object({
            id: Type.String(), count: Type.Integer(), examples: Type.Array(Type.String(), { description: '最近的几条提问（个人号码已隐去）' }),
            keys: Type.Array(Type.String(), { description: '组内各种问法的实词' }),
            firstAt: Type.String({ format: 'date-time' }), lastAt: Type.String({ format: 'date-time' }),
          })),
        }),
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const groups = await openGroups();
    const shown = groups.slice(0, request.query.limit ?? 50);
    const examples = await Promise.all(shown.map((g) => examplesOf(g, LIST_EXAMPLES)));
    return {
      total: groups.length,
      groups: shown.map((g, i) => ({ id: g.id, count: g.count, examples: examples[i] ?? [], keys: g.keys, firstAt: g.firstAt.toISOString(), lastAt: g.lastAt.toISOString() })),
    };
  });

  fastify.post('/api/insight/unanswered/:group/attach', {
    preHandler: staff,
    schema: {
      summary: '把一组待解答的提问加到已有条目（业务人员、管理员）：提问成为该条目的问法，写入 knowledge/ 中的条目文件，索引随即重新加载，无需重启',
      description: '不给 questions 时取这组最近的几条提问（去掉 @、含隐去号码的和过长的）；条目已有的问法不再重复添加。',
      tags: ['洞察'],
      security: BEARER,
      params: GroupParams,
      body: Type.Object({
        entry: Type.String({ minLength: 1, maxLength: 200 }),
        questions: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 10, description: '要加入的问法' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ entry: Type.String(), title: Type.String(), file: Type.String(), added: Type.Array(Type.String()), decision: Type.String() }),
        400: ErrorSchema,
        404: ErrorSchema,
        503: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const index = fastify.knowledge.get();
    const { entry } = request.body;
    const known = index.entry(entry);
    if (!known) throw new ChunfengError('NOT_FOUND', `知识库中没有条目“${entry}”`);
    const path = entryPath(knowledgeDir, entry);
    if (!path) throw new ChunfengError('BAD_REQUEST', `“${known.title}”不是知识库目录中的问答条目（法规条文不能添加问法）`);
    const group = await findGroup(request.params.group);
    const examples = await examplesOf(group, KEPT_EXAMPLES);
    const phrasings = request.body.questions ?? phrasingsFrom(examples, ATTACHED_PHRASINGS);
    const edited = withQuestions(readFileSync(join(knowledgeDir, path), 'utf8'), phrasings);
    if (edited.added.length > 0) {
      await fastify.knowledge.change({ path, content: edited.text, summary: `待解答的提问加为“${known.title}”的问法：${edited.added.join('；')}`, by: request.account?.id ?? null });
    }
    const decision = await store.insight.decide({ state: 'attached', entryId: entry, keys: group.keys, examples, by: request.account?.id ?? null, at: new Date() });
    request.log.info({ group: group.id, entry, added: edited.added.length, by: request.account?.id }, '待解答的提问已加入条目');
    return { entry, title: known.title, file: path, added: edited.added, decision };
  });

  fastify.post('/api/insight/drafts/check', {
    preHandler: staff,
    schema: {
      summary: '检查新条目的草稿（业务人员、管理员）：与 kb lint 相同的检查，不写入',
      tags: ['洞察'],
      security: BEARER,
      body: DraftBody,
      response: { 200: Type.Object({ file: Type.String(), problems: Type.Array(ProblemSchema) }), 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => ({
    file: draftPath(request.body.id),
    problems: checkDraft(knowledgeDir, request.body).map((f) => ({ line: f.line, message: f.message, severity: f.severity })),
  }));

  fastify.post('/api/insight/unanswered/:group/draft', {
    preHandler: staff,
    schema: {
      summary: '由一组待解答的提问新建条目（业务人员、管理员）：通过与 kb lint 相同的检查后写成 knowledge/faq/<id>.md，索引随即重新加载',
      description: '有任何问题（包括提醒，如问法少于 5 种、答案不足 80 字、分类不在 categories.txt 中）都不写入，400 的说明逐条列出。',
      tags: ['洞察'],
      security: BEARER,
      params: GroupParams,
      body: DraftBody,
      response: {
        201: Type.Object({ entry: Type.String(), file: Type.String(), decision: Type.String() }),
        400: ErrorSchema,
        404: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request, reply) => {
    const draft: EntryDraft = request.body;
    const problems = checkDraft(knowledgeDir, draft);
    if (problems.length > 0) throw new ChunfengError('BAD_REQUEST', `条目没有保存：${problems.map((p) => `第 ${p.line} 行：${p.message}`).join('；')}`);
    const group = await findGroup(request.params.group);
    const examples = await examplesOf(group, KEPT_EXAMPLES);
    const file = draftPath(draft.id);
    await fastify.knowledge.change({ path: file, content: draftText(draft), summary: `由待解答的提问新建条目“${draft.title}”`, by: request.account?.id ?? null });
    const decision = await store.insight.decide({ state: 'attached', entryId: draft.id, keys: group.keys, examples, by: request.account?.id ?? null, at: new Date() });
    request.log.info({ group: group.id, entry: draft.id, by: request.account?.id }, '已由待解答的提问新建条目');
    return reply.code(201).send({ entry: draft.id, file, decision });
  });

  fastify.post('/api/insight/unanswered/:group/dismiss', {
    preHandler: staff,
    schema: {
      summary: '忽略一组待解答的提问（业务人员、管理员）：不属于本服务范围；保留下来，作为评测中“应拒答”的题目（GET /api/insight/eval.jsonl）',
      tags: ['洞察'],
      security: BEARER,
      params: GroupParams,
      response: { 200: Type.Object({ decision: Type.String(), count: Type.Integer() }), 404: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const group = await findGroup(request.params.group);
    const examples = await examplesOf(group, KEPT_EXAMPLES);
    const decision = await store.insight.decide({ state: 'dismissed', entryId: null, keys: group.keys, examples, by: request.account?.id ?? null, at: new Date() });
    request.log.info({ group: group.id, by: request.account?.id }, '已忽略一组待解答的提问');
    return { decision, count: group.count };
  });

  fastify.get('/api/insight/decisions', {
    preHandler: staff,
    schema: {
      summary: '已处理的待解答（业务人员、管理员），最新的在前：此后同样的提问被回答了几次、仍未回答几次',
      tags: ['洞察'],
      security: BEARER,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })) }),
      response: {
        200: Type.Object({
          decisions: Type.Array(Type.Object({
            id: Type.String(), state: Type.Enum(['attached', 'dismissed']), entry: Nullable(Type.String()), title: Nullable(Type.String()),
            examples: Type.Array(Type.String()), decidedAt: Type.String({ format: 'date-time' }), decidedBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
            answeredSince: Type.Integer({ description: '处理之后同样的提问被回答的次数' }),
            declinedSince: Type.Integer({ description: '处理之后同样的提问仍未回答的次数' }),
          })),
        }),
        ...REFUSALS,
      },
    },
  }, async (request) => {
    const [decisions, accounts] = await Promise.all([store.insight.decisions(request.query.limit ?? 50), store.accounts.list()]);
    const names = new Map(accounts.map((a) => [a.id, a.name]));
    return {
      decisions: decisions.map((d) => ({
        id: d.id, state: d.state, entry: d.entryId, title: d.entryId ? titleOf(d.entryId) : null, examples: [...new Set(d.examples)].slice(0, LIST_EXAMPLES),
        decidedAt: d.at.toISOString(), decidedBy: d.by ? { id: d.by, name: names.get(d.by) ?? d.by } : null, answeredSince: d.answeredSince, declinedSince: d.declinedSince,
      })),
    };
  });

  fastify.get('/api/insight/eval.jsonl', {
    preHandler: staff,
    schema: {
      summary: '由已处理的待解答生成的评测题（业务人员、管理员）：每行 {"q","topic"}，忽略的组 topic 为 null（应拒答），可直接用于 chunfeng eval',
      tags: ['洞察'],
      security: BEARER,
      response: { 200: Type.String(), ...REFUSALS },
    },
  }, async (_request, reply) => {
    const cases = await store.insight.evalCases();
    return reply.type('application/x-ndjson; charset=utf-8').send(cases.map((c) => JSON.stringify(c)).join('\n') + (cases.length > 0 ? '\n' : ''));
  });
};

export default insight;
