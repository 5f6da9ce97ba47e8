import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CsvFileError, HEADER_SYNONYMS, MAX_ROWS, templateCsv, type CsvField } from '../core/notices/csv.js';
import { CHAT_CHANNELS, FIELD_LABELS } from '../core/notices/profile.js';
import { CREDIT_GRADES, INDUSTRY_SECTIONS, TAXPAYER_TYPES, industryLabel, readIndustry, readTaxpayerId } from '../core/notices/vocabulary.js';
import { ChunfengError } from '../errors.js';
import { importCsv, importJson } from '../notices/import.js';
import { knowledgeTopics } from '../notices/plan.js';
import type { StoredProfile } from '../store/index.js';
import { BEARER, ErrorSchema, Nullable, REFUSALS } from './schemas.js';

/** Largest import accepted: a CSV of some fifty thousand rows, or JSON of some ten thousand profiles. */
export const IMPORT_BODY_LIMIT = 5 * 1024 * 1024;

const Channel = Type.Enum(CHAT_CHANNELS);

const SubscriberSchema = Type.Object({
  taxpayerId: Type.String({ description: '纳税人识别号（统一社会信用代码或身份证号）' }),
  name: Type.String(),
  taxpayerType: Type.Enum(TAXPAYER_TYPES),
  industry: Nullable(Type.String({ description: '国民经济行业门类字母 A-T' })),
  industryName: Nullable(Type.String({ description: '门类的名称，如“C 制造业”' })),
  credit: Nullable(Type.Enum(CREDIT_GRADES)),
  office: Nullable(Type.String({ description: '主管分局' })),
  region: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  chats: Type.Array(Type.Object({
    channel: Channel,
    chatId: Type.String(),
    via: Type.Enum(['staff', 'code'], { description: 'staff 工作人员导入 / code 纳税人发送绑定码' }),
    linkedAt: Type.String({ format: 'date-time' }),
  })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
}, { $id: 'Subscriber', description: '纳税人档案（契约中的 Profile 加上行业名称、绑定方式和时间）' });

const Counts = { upserted: Type.Integer({ description: '新增与更新的户数' }), created: Type.Integer(), updated: Type.Integer() };

const JsonReport = Type.Object({
  ...Counts,
  errors: Type.Array(Type.Object({
    index: Type.Integer({ description: '出错的是请求体中的第几项（从 0 开始）' }),
    field: Nullable(Type.String()),
    message: Type.String({ description: '以字段名开头的中文说明' }),
  })),
});

const CsvReport = Type.Object({
  encoding: Type.Enum(['UTF-8', 'GBK', 'UTF-16']),
  rows: Type.Integer({ description: '读到的数据行数（空行不计）' }),
  ...Counts,
  errors: Type.Array(Type.Object({
    row: Type.Integer({ description: '表格中的行号（列名是第 1 行）' }),
    field: Nullable(Type.String()),
    column: Nullable(Type.String({ description: '文件里这一列的列名' })),
    message: Type.String(),
  })),
  unknownColumns: Type.Array(Type.String(), { description: '不认识、已忽略的列名' }),
});

const Facet = Type.Array(Type.Object({ value: Type.String(), count: Type.Integer() }));

const ListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 100, description: '名称的一部分，或识别号的开头' })),
  taxpayerType: Type.Optional(Type.Enum(TAXPAYER_TYPES)),
  industry: Type.Optional(Type.String({ maxLength: 50, description: '门类字母或名称，如 C 或 制造业' })),
  credit: Type.Optional(Type.Enum(CREDIT_GRADES)),
  office: Type.Optional(Type.String({ maxLength: 50 })),
  region: Type.Optional(Type.String({ maxLength: 50 })),
  tag: Type.Optional(Type.String({ maxLength: 20 })),
  linked: Type.Optional(Type.Boolean({ description: 'true 只看已绑定聊天的，false 只看未绑定的' })),
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
});

/** A stored profile as the API shows it. */
function toJson(p: StoredProfile) {
  return {
    taxpayerId: p.taxpayerId, name: p.name, taxpayerType: p.taxpayerType, industry: p.industry, industryName: p.industry ? industryLabel(p.industry) : null,
    credit: p.credit, office: p.office, region: p.region, tags: [...p.tags],
    chats: p.chats.map((c) => ({ channel: c.channel, chatId: c.chatId, via: c.via, linkedAt: c.linkedAt.toISOString() })),
    createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString(),
  };
}

/** Options: how long a binding code stays valid (BINDING_CODE_DAYS). */
export interface SubscriberRoutesOptions {
  readonly bindingCodeDays: number;
}

/**
 * Taxpayer profiles for staff: the list with filters, imports (a JSON array of Profiles, or a CSV
 * file sent as the raw body with Content-Type text/csv: a file input's bytes, no multipart wrapping,
 * so a script can `curl --data-binary @file.csv` and the page can send the File as it is), the CSV
 * template, the choices for filters and audiences, and binding codes.
 */
const subscribers: FastifyPluginAsyncTypebox<SubscriberRoutesOptions> = async (fastify, opts) => {
  const { store } = fastify;
  const staff = fastify.authorize(['staff']);
  fastify.addSchema(SubscriberSchema);
  // Bytes as sent: core/notices/csv.ts decides between UTF-8 and GBK. Scoped to this plugin's routes.
  fastify.addContentTypeParser(['text/csv', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));

  fastify.get('/api/subscribers', {
    preHandler: staff,
    schema: {
      summary: '纳税人档案列表（业务人员、管理员），按更新时间从新到旧，分页',
      tags: ['纳税人'],
      security: BEARER,
      querystring: ListQuery,
      response: { 200: Type.Object({ total: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer(), subscribers: Type.Array(Type.Ref('Subscriber')) }), 400: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const { page, pageSize, industry, ...rest } = request.query;
    let section: string | undefined;
    if (industry !== undefined && industry.trim() !== '') {
      const reading = readIndustry(industry);
      if (!reading.ok || reading.value === null) throw new ChunfengError('BAD_REQUEST', `请求格式不正确：industry ${reading.ok ? '不能为空' : reading.message}`);
      section = reading.value;
    }
    const { total, profiles } = await store.subscribers.list({ ...rest, industry: section }, (page - 1) * pageSize, pageSize);
    return { total, page, pageSize, subscribers: profiles.map(toJson) };
  });

  fastify.post('/api/subscribers', {
    preHandler: staff,
    bodyLimit: IMPORT_BODY_LIMIT,
    schema: {
      summary: '导入纳税人档案（JSON，业务人员、管理员）：按纳税人识别号新增或更新',
      description: '请求体是 Profile 数组：{"taxpayerId","name","taxpayerType","industry","credit","office","region","tags":[],"chats":[{"channel","chatId"}]}。'
        + 'taxpayerId、name、taxpayerType 必填；其他字段不给时保留已存的值，给 null 或空串时清空；chats 只会新增绑定，不会解除已有的绑定。'
        + '有问题的项不写入任何内容，其余照常写入；errors 逐项说明（index 从 0 开始）。',
      tags: ['纳税人'],
      security: BEARER,
      body: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 20_000, description: 'Profile 数组（字段见说明和 Subscriber）' }),
      response: { 200: JsonReport, 400: ErrorSchema, 413: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    const report = await importJson(store.subscribers, request.body);
    request.log.info({ upserted: report.upserted, errors: report.errors.length, by: request.account?.id }, '已导入纳税人档案（JSON）');
    return report;
  });

  fastify.post('/api/subscribers/import', {
    preHandler: staff,
    schema: {
      summary: '导入纳税人档案（CSV 文件，业务人员、管理员）',
      description: '请求体就是 CSV 文件本身（Content-Type: text/csv，不用 multipart），UTF-8 或 GBK 编码、有无 BOM 均可，'
        + `最大 ${IMPORT_BODY_LIMIT / 1024 / 1024} MB、${MAX_ROWS} 行。第一行是列名（纳税人识别号、名称、纳税人类型必需；行业、信用等级、主管分局、地区、标签可选，`
        + '常见的别名都认，见 GET /api/subscribers/options 的 columns）。文件里没有的列保留已存的值。有问题的行不写入，其余照常写入；errors 逐行说明。'
        + '例：curl -H "Authorization: Bearer 令牌" -H "Content-Type: text/csv" --data-binary @纳税人.csv http://127.0.0.1:3000/api/subscribers/import',
      tags: ['纳税人'],
      security: BEARER,
      response: { 200: CsvReport, 400: ErrorSchema, 413: ErrorSchema, ...REFUSALS },
    },
  }, async (request) => {
    if (!Buffer.isBuffer(request.body)) throw new ChunfengError('BAD_REQUEST', '请求格式不正确：请求体应为 CSV 文件（Content-Type: text/csv）');
    try {
      const report = await importCsv(store.subscribers, request.body);
      request.log.info({ rows: report.rows, upserted: report.upserted, errors: report.errors.length, encoding: report.encoding, by: request.account?.id }, '已导入纳税人档案（CSV）');
      return report;
    } catch (err) {
      if (err instanceof CsvFileError) throw new ChunfengError('BAD_REQUEST', err.message);
      throw err;
    }
  });

  fastify.get('/api/subscribers/template.csv', {
    preHandler: staff,
    schema: {
      summary: '纳税人导入模板（CSV，只有列名；UTF-8 带 BOM，Excel 直接打开不乱码）',
      tags: ['纳税人'],
      security: BEARER,
      produces: ['text/csv'],
      response: { 200: Type.String({ description: 'CSV 文本' }), ...REFUSALS },
    },
  }, async (_request, reply) =>
    reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="subscribers-template.csv"; filename*=UTF-8''${encodeURIComponent('纳税人导入模板.csv')}`)
      .send(templateCsv()));

  fastify.get('/api/subscribers/options', {
    preHandler: staff,
    schema: {
      summary: '档案字段的可选值：纳税人类型、信用等级、行业门类、已有的分局、地区、标签（按户数从多到少）、主题、CSV 列名及别名',
      tags: ['纳税人'],
      security: BEARER,
      response: {
        200: Type.Object({
          taxpayerTypes: Type.Array(Type.String()),
          credits: Type.Array(Type.String()),
          industries: Type.Array(Type.Object({ code: Type.String(), name: Type.String(), label: Type.String() })),
          offices: Facet,
          regions: Facet,
          tags: Facet,
          topics: Type.Array(Type.String(), { description: '可订阅、退订的主题（知识库的分类）；知识库未就绪时为空' }),
          columns: Type.Array(Type.Object({ field: Type.String(), label: Type.String(), required: Type.Boolean(), synonyms: Type.Array(Type.String()) })),
        }),
        ...REFUSALS,
      },
    },
  }, async () => {
    const facets = await store.subscribers.facets();
    return {
      taxpayerTypes: [...TAXPAYER_TYPES],
      credits: [...CREDIT_GRADES],
      industries: INDUSTRY_SECTIONS.map((s) => ({ code: s.code, name: s.name, label: industryLabel(s.code) })),
      ...facets,
      topics: fastify.knowledge.ready ? knowledgeTopics(fastify.knowledge.get()) : [],
      columns: (Object.entries(HEADER_SYNONYMS) as [CsvField, readonly string[]][]).map(([field, names]) => ({
        field, label: FIELD_LABELS[field], required: ['taxpayerId', 'name', 'taxpayerType'].includes(field), synonyms: names.filter((n) => !/^[a-z]/.test(n)),
      })),
    };
  });

  fastify.post('/api/subscribers/:taxpayerId/binding-code', {
    preHandler: staff,
    schema: {
      summary: '生成绑定码（业务人员、管理员）：6 位数字，一次有效，过期作废；同一纳税人之前未用的绑定码随即作废',
      description: '纳税人在微信或 Telegram 里向机器人发送“绑定 123456”，这个聊天就与档案关联。有效天数由 BINDING_CODE_DAYS 设置（默认 7 天）。',
      tags: ['纳税人'],
      security: BEARER,
      params: Type.Object({ taxpayerId: Type.String({ minLength: 1, maxLength: 40 }) }),
      response: {
        201: Type.Object({ taxpayerId: Type.String(), name: Type.String(), code: Type.String({ pattern: '^\\d{6}$' }), expiresAt: Type.String({ format: 'date-time' }) }),
        404: ErrorSchema,
        ...REFUSALS,
      },
    },
  }, async (request, reply) => {
    const id = readTaxpayerId(request.params.taxpayerId);
    const profile = id.ok ? await store.subscribers.get(id.value) : null;
    if (!profile) throw new ChunfengError('NOT_FOUND', '没有这个纳税人的档案，请先导入');
    const issued = await store.bindings.issue(profile.id, opts.bindingCodeDays * 86_400_000, request.account?.id ?? null);
    // The code is a secret of the taxpayer's: not in the log.
    request.log.info({ subscriber: profile.id, by: request.account?.id }, '已生成绑定码');
    return reply.code(201).send({ taxpayerId: profile.taxpayerId, name: profile.name, code: issued.code, expiresAt: issued.expiresAt.toISOString() });
  });
};

export default subscribers;
