import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { DEFAULT_TICKET_RULES, type TicketRules } from '../core/tickets/rules.js';
import { chinaDate, type WorkCalendar } from '../core/tickets/workdays.js';
import type { TicketCategory } from '../core/tickets/intent.js';
import type { Finding } from './parse.js';

/** The working-day calendar and the ticket rules, with what was found wrong in their files. */
export interface TicketSettings {
  readonly calendar: WorkCalendar;
  readonly rules: TicketRules;
  readonly findings: Finding[];
}

/** Where the files are, inside the knowledge folder. */
export const TICKET_FILES = { calendar: 'calendar', rules: 'tickets.yaml' } as const;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;
/** The State Council publishes next year's schedule in November or early December: from December its absence is worth a warning. */
const NEXT_YEAR_FROM_MONTH = 12;

function isDate(text: string): boolean {
  const time = DATE.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/**
 * Reads knowledge/calendar/*.yaml (one file a year: `year`, `holidays` as dates or `A ~ B` ranges,
 * `workdays` for the weekend days worked) and knowledge/tickets.yaml. Missing files give the
 * defaults (weekends only; the statutory deadlines); problems are findings with file and line.
 * When the calendar folder exists, `kb lint` warns that this year is missing, and from December
 * that next year is.
 */
export function readTicketSettings(knowledgeDir: string, now: Date, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): TicketSettings {
  const findings: Finding[] = [];
  const years = new Set<number>();
  const holidays = new Set<string>();
  const workdays = new Set<string>();
  const dir = join(knowledgeDir, TICKET_FILES.calendar);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /\.ya?ml$/i.test(f)).sort() : [];
  for (const name of files) {
    const file = join(dir, name);
    const parsed = yamlMap(file, read(file), findings);
    if (!parsed) continue;
    const { get, lineOf } = parsed;
    const year = Number(get('year'));
    if (!Number.isInteger(year) || year < 2000 || year > 2100) {
      findings.push({ file, line: lineOf('year'), message: 'year 应为四位年份', severity: 'error' });
      continue;
    }
    const dates = (key: string): string[] => {
      const node = parsed.node(key);
      if (node === undefined) return [];
      if (!isSeq(node)) {
        findings.push({ file, line: lineOf(key), message: `${key} 应为日期列表`, severity: 'error' });
        return [];
      }
      return node.items.flatMap((item) => {
        const text = isScalar(item) ? String(item.value).trim() : '';
        const [from, to = from] = text.split(/\s*[~～]\s*/u) as [string, string?];
        const line = parsed.line(item as Node);
        if (!isDate(from) || !isDate(to) || to < from || !from.startsWith(`${year}-`) || !to.startsWith(`${year}-`)) {
          findings.push({ file, line, message: `“${text}”应为 ${year} 年的日期（YYYY-MM-DD）或日期范围（开始 ~ 结束）`, severity: 'error' });
          return [];
        }
        const out: string[] = [];
        for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) out.push(new Date(t).toISOString().slice(0, 10));
        return out;
      });
    };
    years.add(year);
    for (const d of dates('holidays')) holidays.add(d);
    for (const d of dates('workdays')) {
      const weekday = new Date(`${d}T00:00:00Z`).getUTCDay();
      if (weekday !== 0 && weekday !== 6) findings.push({ file, line: lineOf('workdays'), message: `${d} 不是周末，不必列为调休上班日`, severity: 'warning' });
      workdays.add(d);
    }
  }
  const today = chinaDate(now);
  const thisYear = Number(today.slice(0, 4));
  const missing = (year: number): void => void findings.push({
    file: dir, line: 0, severity: 'warning',
    message: `缺少 ${year} 年的节假日安排（calendar/${year}.yaml）：工单期限暂时只跳过周末；国务院公布安排后请补上`,
  });
  // A folder without a calendar at all has not set one up: its deadlines skip weekends only.
  if (existsSync(dir)) {
    if (!years.has(thisYear)) missing(thisYear);
    if (Number(today.slice(5, 7)) >= NEXT_YEAR_FROM_MONTH && !years.has(thisYear + 1)) missing(thisYear + 1);
  }

  return { calendar: { years, holidays, workdays }, rules: readRules(knowledgeDir, read, findings), findings };
}

function readRules(knowledgeDir: string, read: (path: string) => string, findings: Finding[]): TicketRules {
  const file = join(knowledgeDir, TICKET_FILES.rules);
  if (!existsSync(file)) return DEFAULT_TICKET_RULES;
  const parsed = yamlMap(file, read(file), findings);
  if (!parsed) return DEFAULT_TICKET_RULES;
  const days = (value: unknown, key: string, fallback: number): number => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (Number.isInteger(n) && n >= 0 && n <= 365) return n;
    findings.push({ file, line: parsed.lineOf(key), message: `${key} 应为 0-365 的整数天数`, severity: 'error' });
    return fallback;
  };
  const d = DEFAULT_TICKET_RULES;
  const categories = (parsed.get('categories') ?? {}) as Record<string, unknown>;
  const dueDays = Object.fromEntries(
    (Object.keys(d.dueDays) as TicketCategory[]).map((c) => [c, days(categories[c], 'categories', d.dueDays[c])]),
  ) as Record<TicketCategory, number>;
  for (const c of Object.keys(categories)) {
    if (!(c in d.dueDays)) findings.push({ file, line: parsed.lineOf('categories'), message: `未知的工单分类“${c}”，应为 ${Object.keys(d.dueDays).join('、')}`, severity: 'warning' });
  }
  const repeat = (parsed.get('repeat_requester') ?? {}) as Record<string, unknown>;
  return {
    firstResponseDays: days(parsed.get('first_response_days'), 'first_response_days', d.firstResponseDays),
    dueDays,
    followUpDays: days(parsed.get('follow_up_days'), 'follow_up_days', d.followUpDays),
    reopenDays: days(parsed.get('reopen_days'), 'reopen_days', d.reopenDays),
    archiveDays: days(parsed.get('archive_days'), 'archive_days', d.archiveDays),
    repeatRequester: { tickets: days(repeat.tickets, 'repeat_requester', d.repeatRequester.tickets), days: days(repeat.days, 'repeat_requester', d.repeatRequester.days) },
  };
}

/** A YAML mapping with lines to report problems at; null (and a finding) when it is not one. */
function yamlMap(file: string, text: string, findings: Finding[]): {
  get: (key: string) => unknown; node: (key: string) => unknown; lineOf: (key: string) => number; line: (node: Node) => number;
} | null {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const line = (node: Node): number => (node.range ? counter.linePos(node.range[0]).line : 1);
  for (const e of doc.errors) findings.push({ file, line: counter.linePos(e.pos[0]).line, message: `不是合法的 YAML：${e.message.split('\n')[0]}`, severity: 'error' });
  if (doc.errors.length > 0) return null;
  if (!isMap(doc.contents)) {
    findings.push({ file, line: 1, message: '应为“字段: 值”的形式', severity: 'error' });
    return null;
  }
  const map = doc.contents;
  const pair = (key: string): { key: unknown; value: unknown } | undefined => map.items.find((p) => isScalar(p.key) && p.key.value === key);
  const plain = doc.toJS() as Record<string, unknown>;
  return {
    get: (key) => plain[key],
    node: (key) => pair(key)?.value,
    lineOf: (key) => {
      const p = pair(key);
      return p ? line(p.key as Node) : 1;
    },
    line,
  };
}
