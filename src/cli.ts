#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js';
import { openIndex } from './knowledge/open.js';
import { loadKnowledge } from './knowledge/load.js';
import type { Answer, SearchIndex } from './core/search/index.js';
import { percent, score, type EvalCase, type Tally } from './core/eval/score.js';
import { formatAnswer } from './core/conversation/format.js';
import { ACCOUNT_ROLES, ROLE_LABELS, checkAccountName, isAccountRole } from './core/accounts.js';
import { openStore, type Account, type Store } from './store/index.js';
import { CsvFileError, decodeCsv } from './core/notices/csv.js';
import { FIELD_LABELS } from './core/notices/profile.js';
import { importCsv, importJson, type CsvImportReport } from './notices/import.js';
import { noticeReport, noticeReportCsv, reportText } from './notices/report.js';
import { userInfo } from 'node:os';
import { parseDays, parseWeek, weekOf, type Period } from './core/report/period.js';
import { reportCsv, reportTables } from './core/report/tables.js';
import { readTicketSettings } from './knowledge/tickets.js';
import { serviceReport } from './report/service.js';

const USAGE = `用法：chunfeng <命令>
  serve                       启动网关（npm start 即此命令）
  ask [--json] [--explain] [问题 ...]
                              回答问题；不给问题时从标准输入逐行读取；--explain 显示分词和候选
  kb lint                     检查知识库，每个问题输出“文件:行: 说明”
  kb export                   以 JSON 数组输出全部条目
  eval FILE.jsonl [--json]    用 {"q","topic"} 题集评测：top-1、top-3、拒答率、答错率，按分类和问法统计
  user add --role agent|staff|admin --name 名称 [--json]
                              新建控制台账号（坐席、业务人员、管理员），令牌只显示这一次
  user list [--json]          列出全部账号（编号、名称、角色、状态）
  user disable 编号           停用账号，其令牌随即失效
  user enable 编号            重新启用停用的账号，原令牌恢复有效
  subscribers import FILE.csv|FILE.json
                              导入纳税人档案（CSV：UTF-8 或 GBK；JSON：Profile 数组），逐行报告问题
  notices report 编号或ID [--csv]
                              通知的发送和阅读情况（合计、按分局、政策包条目、提醒轮次）；
                              --csv 输出每个收件聊天一行的明细（UTF-8 带 BOM，Excel 可直接打开）
  report [--week 2026-W48 | --from 日期 --to 日期] [--csv]
                              服务报告（北京时间；默认本周至今）；--csv 输出 CSV（UTF-8 带 BOM）
  person export --channel telegram|wechat --user 用户编号 [--note 申请编号]
                              以 JSON 导出一位用户的全部数据，记入操作日志
  person delete --channel telegram|wechat --user 用户编号 --note 申请编号 --yes
                              按本人要求删除一位用户的数据，记入操作日志`;

function indexFor(config: Config): SearchIndex {
  return openIndex({ knowledgeDir: config.knowledgeDir, policyDirs: config.policyDirs, cacheDir: config.cacheDir }).index;
}

function printAnswer(a: Answer, json: boolean): void {
  process.stdout.write(json ? `${JSON.stringify(a)}\n` : `问：${a.q}\n${formatAnswer(a)}\n\n`);
}

async function ask(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false }, explain: { type: 'boolean', default: false } });
  const index = indexFor(config);
  const answer = (q: string): void => {
    printAnswer(index.ask(q), values.json);
    if (values.explain) process.stdout.write(`${JSON.stringify(index.explain(q))}\n`);
  };
  if (positionals.length > 0) {
    for (const q of positionals) answer(q);
    return 0;
  }
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) answer(line);
  return 0;
}

function lint(config: Config): number {
  const knowledge = loadKnowledge(config.knowledgeDir, config.policyDirs);
  for (const f of knowledge.findings) process.stdout.write(`${f.file}:${f.line}: ${f.severity === 'warning' ? '（提醒）' : ''}${f.message}\n`);
  const count = (kind: string): number => knowledge.entries.filter((e) => e.kind === kind).length;
  process.stderr.write(`${knowledge.entries.length} 个条目（问答 ${count('faq')}，转办 ${count('referral')}，政策 ${count('policy')}），${knowledge.statutes.length} 部法规，${knowledge.findings.length} 个问题\n`);
  return knowledge.findings.length > 0 ? 1 : 0;
}

function exportEntries(config: Config): number {
  const index = indexFor(config);
  const out = [...index.entries, ...index.articles()].map((e) => ({
    id: e.id, kind: e.kind, title: e.title, category: e.category, questions: e.questions, keywords: e.keywords,
    answer: e.answer, sources: e.sources, valid_from: e.validFrom, valid_until: e.validUntil,
  }));
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

function evaluate(config: Config, args: string[]): number {
  const { values, positionals } = parse(args, { json: { type: 'boolean', default: false } });
  const file = positionals[0];
  if (!file) throw new UsageError('eval 需要一个 .jsonl 题集文件');
  const cases: EvalCase[] = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as EvalCase;
    } catch {
      throw new UsageError(`${file}:${i + 1}: 不是合法的 JSON`);
    }
  });
  const index = indexFor(config);
  const answers = cases.map((c) => index.ask(c.q));
  const report = score(cases, answers, (id) => index.entry(id));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [];
  for (const m of report.misses) out.push(`未命中  ${m.q}  期望 ${m.expected ?? '拒答'}  得到 ${m.got ?? '拒答'}${m.suggestions.length ? `（建议 ${m.suggestions.join(', ')}）` : ''}`);
  const rows = (title: string, slices: Record<string, Tally>): void => {
    out.push('', `${column(title)}  题数   top-1    top-3    答错    转办    拒答`);
    for (const [name, t] of Object.entries(slices).sort()) {
      out.push(`${column(name)}  ${String(t.total).padStart(4)}  ${[t.top1, t.top3, t.wrong, t.referred, t.declined].map((n) => percent(n, t.total).padStart(6)).join('  ')}`);
    }
  };
  rows('分类', report.byCategory);
  // Styles and areas may hold questions to decline: there top-1 and top-3 count the declines.
  if (Object.keys(report.byStyle).length) rows('问法', report.byStyle);
  if (Object.keys(report.byArea).length) rows('领域', report.byArea);
  if (report.missingEntries > 0) out.push('', `${report.missingEntries} 题期望的条目不在知识库中，按应拒答计分`);
  const { inScope: s, outOfScope: o, overall: all } = report;
  out.push(
    '',
    `top-1: ${percent(s.top1, s.total)} (${s.top1}/${s.total})`,
    `top-3: ${percent(s.top3, s.total)} (${s.top3}/${s.total})`,
    `out-of-scope rejection: ${percent(o.rejected, o.total)} (${o.rejected}/${o.total})`,
    `wrong answers: ${percent(all.wrong, all.total)} (${all.wrong}/${all.total})`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/** A table column, padded to `cells` terminal cells (16 by default): a Chinese character takes two. */
function column(name: string, width = 16): string {
  return name + ' '.repeat(Math.max(1, width - cells(name)));
}

/** Terminal cells a text takes: a Chinese character takes two. */
function cells(text: string): number {
  return [...text].reduce((w, ch) => w + (/[\u1100-\uffdc]/u.test(ch) ? 2 : 1), 0);
}

/** A mistake in how a command was called: the message, then the usage; exit code 2. */
class UsageError extends Error {}

/** A command that was called right but could not be done (no such account): the message only; exit code 1. */
class CommandError extends Error {}

/** parseArgs with its refusals (unknown flag, flag without a value) said in Chinese, as usage errors. */
function parse<O extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const flag = /'(-{1,2}[^' ]+)/.exec((err as Error).message)?.[1] ?? '';
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw new UsageError(`不认识的参数：${flag}`);
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`参数 ${flag} 的值不正确（${flag} 后面要跟一个值）`);
    throw err;
  }
}

/** An instant as staff in China read it: 2026-11-22 16:30. */
function chinaTime(at: Date): string {
  return at.toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' }).slice(0, 16);
}

/** An account as the API shows it (`--json`). */
function accountJson(a: Account): Record<string, unknown> {
  return { id: a.id, name: a.name, role: a.role, createdAt: a.createdAt.toISOString(), disabledAt: a.disabledAt?.toISOString() ?? null };
}

/** Runs `work` with the store of DATABASE_URL open (migrated if needed), and closes it. */
async function withStore<T>(config: Config, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(config.databaseUrl);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/**
 * `chunfeng user ...`: accounts of the console and the staff API, straight in the database the
 * server uses, for the first accounts and for whoever has the server but no admin token.
 */
async function user(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { values, positionals } = parse(rest, { role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } });
      if (positionals.length > 0) throw new UsageError(`user add 不接受多余的参数：${positionals.join(' ')}（名称里有空格时请加引号）`);
      if (values.role === undefined || !isAccountRole(values.role)) throw new UsageError(`user add 需要 --role，应为 ${ACCOUNT_ROLES.join('、')} 之一`);
      if (values.name === undefined) throw new UsageError('user add 需要 --name 名称');
      const checked = checkAccountName(values.name);
      if (!checked.ok) throw new UsageError(`--name 不正确：${checked.message}`);
      const role = values.role;
      const { account, token } = await withStore(config, (store) => store.accounts.create(checked.name, role));
      if (values.json) process.stdout.write(`${JSON.stringify({ ...accountJson(account), token })}\n`);
      else process.stdout.write(`已创建账号“${account.name}”（${ROLE_LABELS[account.role]}），编号 ${account.id}\n令牌只显示这一次，请交给本人妥善保存：\n${token}\n`);
      return 0;
    }
    case 'list': {
      const { values } = parse(rest, { json: { type: 'boolean', default: false } });
      const accounts = await withStore(config, (store) => store.accounts.list());
      if (values.json) {
        process.stdout.write(`${JSON.stringify(accounts.map(accountJson))}\n`);
        return 0;
      }
      const idWidth = Math.max(4, ...accounts.map((a) => a.id.length)) + 2;
      const lines = [`${column('编号', idWidth)}${column('名称', 22)}${column('角色', 10)}${column('创建时间', 18)}状态`];
      for (const a of accounts) {
        const state = a.disabledAt ? `已停用（${chinaTime(a.disabledAt)}）` : '在用';
        lines.push(`${column(a.id, idWidth)}${column(a.name, 22)}${column(ROLE_LABELS[a.role], 10)}${column(chinaTime(a.createdAt), 18)}${state}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    case 'disable':
    case 'enable': {
      const { positionals } = parse(rest, {});
      const [id, ...extra] = positionals;
      if (!id || extra.length > 0) throw new UsageError(`user ${sub} 需要一个账号编号（见 chunfeng user list）`);
      const account = await withStore(config, (store) => (sub === 'disable' ? store.accounts.disable(id) : store.accounts.enable(id)));
      if (!account) throw new CommandError(`没有编号为 ${id} 的账号（见 chunfeng user list）`);
      const label = `账号“${account.name}”（${ROLE_LABELS[account.role]}）`;
      process.stdout.write(sub === 'disable' ? `已停用${label}，其令牌随即失效\n` : `已启用${label}，原令牌恢复有效\n`);
      return 0;
    }
    default:
      throw new UsageError(`未知的 user 子命令：${sub ?? '（空）'}`);
  }
}

/** A row or item number and its problems, as a clerk reads them. */
function reportLines(errors: readonly { where: string; message: string }[]): string[] {
  return errors.map((e) => `  ${e.where}  ${e.message}`);
}

/**
 * `chunfeng subscribers import FILE`: the same import as the console's, straight into the database
 * the server uses. A .json file is an array of contract Profiles, anything else a CSV file. Exit 1
 * when any row was refused (the others are imported) or the file could not be read.
 */
async function subscribers(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'import') throw new UsageError(`未知的 subscribers 子命令：${sub ?? '（空）'}`);
  const { positionals } = parse(rest, {});
  const [file, ...extra] = positionals;
  if (!file || extra.length > 0) throw new UsageError('subscribers import 需要一个 .csv 或 .json 文件');
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new CommandError(`无法读取文件 ${file}：${(err as NodeJS.ErrnoException).code === 'ENOENT' ? '文件不存在' : (err as Error).message}`);
  }
  const out: string[] = [];
  let failed: number;
  if (extname(file).toLowerCase() === '.json') {
    let items: unknown;
    try {
      items = JSON.parse(decodeCsv(bytes).text);
    } catch {
      throw new CommandError(`${file} 不是合法的 JSON`);
    }
    if (!Array.isArray(items)) throw new CommandError(`${file} 应为纳税人（Profile）数组`);
    const list = items;
    const report = await withStore(config, (store) => importJson(store.subscribers, list));
    out.push(`读取 ${list.length} 项，导入 ${report.upserted} 户（新增 ${report.created}，更新 ${report.updated}）`);
    failed = new Set(report.errors.map((e) => e.index)).size;
    if (failed > 0) out.push(`${failed} 项有问题，没有导入：`, ...reportLines(report.errors.map((e) => ({ where: `第 ${e.index + 1} 项`, message: e.message }))));
  } else {
    let report: CsvImportReport;
    try {
      report = await withStore(config, (store) => importCsv(store.subscribers, bytes));
    } catch (err) {
      if (err instanceof CsvFileError) throw new CommandError(`${file}：${err.message}`);
      throw err;
    }
    out.push(`读取 ${report.rows} 行（${report.encoding} 编码），导入 ${report.upserted} 户（新增 ${report.created}，更新 ${report.updated}）`);
    if (report.unknownColumns.length > 0) out.push(`不认识的列（已忽略）：${report.unknownColumns.join('、')}`);
    failed = new Set(report.errors.map((e) => e.row)).size;
    if (failed > 0) {
      out.push(`${failed} 行有问题，没有导入：`, ...reportLines(report.errors.map((e) => ({ where: `第 ${e.row} 行`, message: `${e.column ?? (e.field ? FIELD_LABELS[e.field] : '整行')}：${e.message}` }))));
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return failed > 0 ? 1 : 0;
}

/**
 * `chunfeng notices report ID [--csv]`: a notice's figures from the database the server uses, by
 * its id or its number (通知 12). Exit 1 when there is no such notice.
 */
async function notices(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'report') throw new UsageError(`未知的 notices 子命令：${sub ?? '（空）'}`);
  const { values, positionals } = parse(rest, { csv: { type: 'boolean', default: false } });
  const [ref, ...extra] = positionals;
  if (!ref || extra.length > 0) throw new UsageError('notices report 需要一个通知编号或 ID');
  return withStore(config, async (store) => {
    const id = /^\d{1,9}$/.test(ref) ? (await store.notices.list()).find((n) => n.number === Number(ref))?.id : ref;
    const notice = id ? await store.notices.get(id) : null;
    if (!notice) throw new CommandError(`没有通知 ${ref}`);
    const schedule = { hours: config.reminderHours, calendar: readTicketSettings(config.knowledgeDir, new Date()).calendar };
    process.stdout.write(values.csv ? await noticeReportCsv(store, notice) : reportText(await noticeReport(store, notice, schedule)));
    return 0;
  });
}

/** The period `report` is asked for: --week, or --from and --to; this week so far by default. */
function reportPeriod(values: { week?: string; from?: string; to?: string }): Period {
  if (values.week !== undefined && (values.from !== undefined || values.to !== undefined)) throw new UsageError('--week 与 --from/--to 只能选一种');
  if (values.from === undefined && values.to === undefined) {
    const week = parseWeek(values.week ?? weekOf(new Date()));
    if (!week.ok) throw new UsageError(`--week 不正确：${week.message}`);
    return week.value;
  }
  if (values.from === undefined || values.to === undefined) throw new UsageError('--from 和 --to 要一起给出（YYYY-MM-DD，北京时间，含两端）');
  const days = parseDays(values.from, values.to);
  if (!days.ok) throw new UsageError(days.message);
  return days.value;
}

/** `chunfeng report`: the service report of the console's 服务报告 page, as tables or CSV. */
async function report(config: Config, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
    week: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, csv: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`report 不接受多余的参数：${positionals.join(' ')}`);
  const period = reportPeriod(values);
  const now = new Date();
  const { calendar, rules } = readTicketSettings(config.knowledgeDir, now);
  const r = await withStore(config, (store) => serviceReport(store, period, { calendar, rules }, now));
  if (values.csv) {
    process.stdout.write(reportCsv(r));
    return 0;
  }
  const out = [`春风服务报告  ${r.period.label}（北京时间）  生成于 ${chinaTime(r.generatedAt)}`];
  for (const table of reportTables(r)) {
    const widths = table.headings.map((h, i) => Math.max(cells(h), ...table.rows.map((row) => cells(String(row[i] ?? '')))) + 2);
    out.push('', `【${table.title}】`, table.headings.map((h, i) => column(h, widths[i])).join('').trimEnd());
    if (table.rows.length === 0) out.push('（无）');
    for (const row of table.rows) out.push(row.map((c, i) => column(String(c ?? ''), widths[i])).join('').trimEnd());
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return 0;
}

/**
 * `chunfeng person export|delete`: a person's data on request (个人信息保护法), straight in the
 * database, logged as done by `cli:<login>`. Delete asks for --yes, as there is no undo.
 */
async function person(config: Config, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'export' && sub !== 'delete') throw new UsageError(`未知的 person 子命令：${sub ?? '（空）'}`);
  const { values, positionals } = parse(rest, {
    channel: { type: 'string' }, user: { type: 'string' }, note: { type: 'string' }, yes: { type: 'boolean', default: false },
  });
  if (positionals.length > 0) throw new UsageError(`person ${sub} 不接受多余的参数：${positionals.join(' ')}`);
  const { channel, user: userId } = values;
  if (channel !== 'telegram' && channel !== 'wechat') throw new UsageError(`person ${sub} 需要 --channel telegram 或 --channel wechat`);
  if (!userId) throw new UsageError(`person ${sub} 需要 --user 用户编号（该渠道的用户 id）`);
  const by = { actor: `cli:${userInfo().username}`, note: values.note ?? null };
  if (sub === 'export') {
    const data = await withStore(config, (store) => store.people.export({ channel, userId }, by));
    if (!data) throw new CommandError(`没有这位用户的数据（${channel} ${userId}）：可能从未联系过机器人，或已经删除`);
    process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  }
  if (!values.note?.trim()) throw new UsageError('person delete 需要 --note 申请编号或事由（留作记录）');
  if (!values.yes) throw new UsageError('删除不可撤销：确认无误后加 --yes 再运行');
  const counts = await withStore(config, (store) => store.people.delete({ channel, userId }, by));
  if (!counts) throw new CommandError(`没有这位用户的数据（${channel} ${userId}）：可能从未联系过机器人，或已经删除`);
  const parts = Object.entries(counts).map(([kind, n]) => `${DELETED_LABELS[kind] ?? kind} ${n}`);
  process.stdout.write(`已删除 ${channel} 用户 ${userId} 的数据：${parts.join('，')}\n`);
  return 0;
}

/** What each count of a deletion is, as a clerk reads it. */
const DELETED_LABELS: Readonly<Record<string, string>> = {
  outbox: '待发消息', messages: '消息', suggestions: '待选建议', bindings: '绑定', topics: '订阅选择', codes: '绑定码记录', deliveries: '通知送达（去标识）', chats: '私聊', person: '用户',
  tickets: '工单（保留，身份已替换）', redacted: '工单中本人的话（已抹去）',
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  loadDotEnv();
  const config = loadConfig();
  switch (command) {
    case 'serve': {
      const { serve } = await import('./server.js');
      await serve(config);
      return -1;
    }
    case 'ask':
      return ask(config, rest);
    case 'kb':
      if (rest[0] === 'lint') return lint(config);
      if (rest[0] === 'export') return exportEntries(config);
      throw new UsageError(`未知的 kb 子命令：${rest[0] ?? '（空）'}`);
    case 'eval':
      return evaluate(config, rest);
    case 'user':
      return user(config, rest);
    case 'subscribers':
      return subscribers(config, rest);
    case 'notices':
      return notices(config, rest);
    case 'report':
      return report(config, rest);
    case 'person':
      return person(config, rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`未知命令：${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CommandError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
    } else if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${err instanceof UsageError ? `${USAGE}\n` : ''}`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
