import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { busiestHours } from '../core/report/figures.js';
import { firstDayOf, lastDayOf, parseDays, parseWeek, weekOf, type Period } from '../core/report/period.js';
import { TABLE_NAMES, reportCsv, reportTables, tableCsv, type ServiceReport, type TableName } from '../core/report/tables.js';
import { ChunfengError } from '../errors.js';
import { readTicketSettings } from '../knowledge/tickets.js';
import { serviceReport } from '../report/service.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';

const ShareSchema = Type.Object({
  count: Type.Integer(), of: Type.Integer(), rate: Nullable(Type.Number({ description: '0 到 1；分母为 0 时为 null' })),
});
const ComplianceSchema = Type.Object({ ...ShareSchema.properties, running: Type.Integer({ description: '尚未到期、仍在办理的工单数（不计入按时率）' }) });
const CountSchema = Type.Object({ key: Type.String(), count: Type.Integer() });

const ReportSchema = Type.Object({
  period: Type.Object({
    label: Type.String({ description: '2026-W48，或 2026-11-01 至 2026-11-30' }),
    from: Type.String({ format: 'date-time' }), to: Type.String({ format: 'date-time', description: '不含' }),
    firstDay: Type.String({ description: '第一天（北京时间）' }), lastDay: Type.String({ description: '最后一天（北京时间，含）' }),
  }),
  generatedAt: Type.String({ format: 'date-time' }),
  questions: Type.Object({
    total: Type.Integer({ description: '咨询量：机器人作答、给出建议或未能回答的问题（不含问候、选号、转人工）' }),
    answered: Type.Integer(), referred: Type.Integer({ description: '答复了应向哪个部门办理' }), offered: Type.Integer({ description: '给出“您是不是想问”建议' }),
    accepted: Type.Integer({ description: '建议被提问人选中' }), declined: Type.Integer({ description: '没有匹配的条目' }),
    deflection: { ...ShareSchema, description: '机器人解答率：机器人作答（含转办、选中建议）且提问人之后在本期没有转人工的问题 / 咨询量' },
    acceptance: { ...ShareSchema, description: '建议采纳率：被选中的建议 / 给出的建议' },
  }),
  tickets: Type.Object({
    total: Type.Integer({ description: '本期登记的工单' }),
    escalation: { ...ShareSchema, description: '转人工率：本期登记的工单 / 咨询量' },
    byCategory: Type.Array(CountSchema), byChannel: Type.Array(CountSchema),
    sla: Type.Object({
      firstResponse: { ...ComplianceSchema, description: '本期登记的工单在时限（工作日）内首次回复的比例' },
      resolution: { ...ComplianceSchema, description: '本期登记的工单在类别时限（工作日）内办结的比例' },
    }),
    medianFirstResponseMinutes: Nullable(Type.Number({ description: '本期首次回复的工单，从登记到首次回复的分钟数中位数' })),
    medianResolutionMinutes: Nullable(Type.Number({ description: '本期办结的工单，从登记到办结的分钟数中位数' })),
    csat: Type.Array(Type.Object({ rating: Type.Integer(), label: Type.String(), count: Type.Integer(), rate: Nullable(Type.Number()) }), { description: '本期收到的评价' }),
    dissatisfied: Type.Array(Type.Object({
      number: Type.String(), category: Type.String(), assignee: Nullable(Type.String()), ratedAt: Type.String({ format: 'date-time' }),
      followUpAt: Nullable(Type.String({ format: 'date-time' })), followUpBy: Nullable(Type.String()),
    }), { description: '本期的“不满意”评价及其回访' }),
    repeatRequesters: Type.Array(Type.Object({ userId: Type.String(), userName: Nullable(Type.String()), channel: Type.String(), tickets: Type.Integer() }), { description: '统计期末前若干天内工单达到次数的用户' }),
  }),
  reads: Type.Object({
    total: ShareSchema,
    byOffice: Type.Array(Type.Object({ office: Type.String(), targeted: Type.Integer(), read: Type.Integer(), readRate: Nullable(Type.Number()) }), { description: '本期发出的通知，按分局，阅读率低的在前' }),
  }),
  hours: Type.Array(Type.Integer(), { minItems: 24, maxItems: 24, description: '每个小时（北京时间 0-23 时）的咨询量' }),
  busiest: Type.Array(Type.Object({ hour: Type.Integer(), count: Type.Integer() }), { description: '咨询最多的三个时段' }),
}, { $id: 'ServiceReport' });

const PeriodQuery = Type.Object({
  from: Type.Optional(Type.String({ description: '开始日期 YYYY-MM-DD（北京时间）' })),
  to: Type.Optional(Type.String({ description: '结束日期 YYYY-MM-DD（北京时间，含当天）' })),
  week: Type.Optional(Type.String({ description: 'ISO 周，例如 2026-W48（北京时间周一 0 时至下周一 0 时）；代替 from/to' })),
}, { additionalProperties: false });

/** The period a request asks for: `week`, or `from` and `to`; this week so far when none is given. */
function periodOf(query: { from?: string; to?: string; week?: string }, now: Date): Period {
  const { from, to, week } = query;
  if (week !== undefined && (from !== undefined || to !== undefined)) throw new ChunfengError('BAD_REQUEST', 'week 与 from/to 只能选一种');
  if (from === undefined && to === undefined) {
    const parsed = parseWeek(week ?? weekOf(now));
    if (!parsed.ok) throw new ChunfengError('BAD_REQUEST', parsed.message);
    return parsed.value;
  }
  if (from === undefined || to === undefined) throw new ChunfengError('BAD_REQUEST', 'from 和 to 要一起给出（YYYY-MM-DD，北京时间，含两端）');
  const parsed = parseDays(from, to);
  if (!parsed.ok) throw new ChunfengError('BAD_REQUEST', parsed.message);
  return parsed.value;
}

/** The report as the API returns it. */
export function reportJson(r: ServiceReport) {
  const t = r.tickets;
  return {
    period: { label: r.period.label, from: r.period.from.toISOString(), to: r.period.to.toISOString(), firstDay: firstDayOf(r.period), lastDay: lastDayOf(r.period) },
    generatedAt: r.generatedAt.toISOString(),
    questions: r.questions,
    tickets: {
      ...t,
      dissatisfied: t.dissatisfied.map((d) => ({ ...d, ratedAt: d.ratedAt.toISOString(), followUpAt: d.followUpAt?.toISOString() ?? null })),
    },
    reads: r.reads,
    hours: [...r.hours],
    busiest: busiestHours(r.hours),
  };
}

/** The service report for staff: figures as JSON, and every table as CSV. */
const report: FastifyPluginAsyncTypebox<{ knowledgeDir: string }> = async (fastify, opts) => {
  const { store } = fastify;
  const staff = fastify.authorize(['staff']);
  fastify.addSchema(ReportSchema);

  const gather = (query: { from?: string; to?: string; week?: string }): Promise<ServiceReport> => {
    const now = new Date();
    const period = periodOf(query, now);
    // Read on each request: a calendar edited in the knowledge folder counts from the next report.
    const { calendar, rules } = readTicketSettings(opts.knowledgeDir, now);
    return serviceReport(store, period, { calendar, rules }, now);
  };

  fastify.get('/api/insight/report', {
    preHandler: staff,
    schema: {
      summary: '服务报告（业务人员、管理员）：机器人解答率、建议采纳率、转人工率、工单分类和渠道、按时率、响应和办结时间、满意度、重复求助、通知阅读率、咨询时段',
      description: '统计区间用 from/to（北京时间的日期，含两端）或 week（ISO 周）；都不给时为本周至今。口径见各字段说明和 README。',
      tags: ['报告'],
      security: BEARER,
      querystring: PeriodQuery,
      response: { 200: Type.Ref('ServiceReport'), 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => reportJson(await gather(request.query)));

  fastify.get('/api/insight/report.csv', {
    preHandler: staff,
    schema: {
      summary: '服务报告的 CSV（业务人员、管理员）：table 指定一张表，不给则全部表依次排列；UTF-8 带 BOM，Excel 直接打开',
      tags: ['报告'],
      security: BEARER,
      querystring: Type.Object({ ...PeriodQuery.properties, table: Type.Optional(Type.Enum([...TABLE_NAMES], { description: '表名' })) }, { additionalProperties: false }),
      produces: ['text/csv'],
      response: { 200: Type.String({ description: 'CSV 文件' }), 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request, reply) => {
    const r = await gather(request.query);
    const name = request.query.table as TableName | undefined;
    const table = name ? reportTables(r).find((t) => t.name === name) : undefined;
    const file = `服务报告-${r.period.label.replace(/\s+/g, '')}${table ? `-${table.title}` : ''}.csv`;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="report.csv"; filename*=UTF-8''${encodeURIComponent(file)}`)
      .send(table ? tableCsv(table) : reportCsv(r));
  });
};

export default report;
