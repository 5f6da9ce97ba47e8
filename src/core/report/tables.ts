/**
 * The service report as tables, one per section of the page: what the CSV export, the command line
 * and the printed report show, with the same headings. No I/O.
 */
import { busiestHours, type Compliance, type QuestionFigures, type Share, type TicketFigures, type readRates } from './figures.js';
import type { Period } from './period.js';

/** Everything the report says about a period. */
export interface ServiceReport {
  readonly period: Period;
  /** When the figures were gathered. */
  readonly generatedAt: Date;
  readonly questions: QuestionFigures;
  readonly tickets: TicketFigures;
  readonly reads: ReturnType<typeof readRates>;
  /** Questions in each hour of the day (Beijing time, 0-23). */
  readonly hours: readonly number[];
}

/** A cell: text, a number, or empty. */
export type Cell = string | number | null;

/** One table of the report. */
export interface ReportTable {
  /** Its name in `?table=` and file names. */
  readonly name: TableName;
  readonly title: string;
  readonly headings: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/** The report's tables, in the order of the page. */
export const TABLE_NAMES = ['summary', 'categories', 'channels', 'csat', 'dissatisfied', 'repeat', 'reads', 'hours'] as const;
export type TableName = (typeof TABLE_NAMES)[number];

/** A rate as staff read it: 87.5%; — when there was nothing to count. */
export function percentText(rate: number | null): string {
  return rate === null ? '—' : `${(Math.round(rate * 1000) / 10).toFixed(1)}%`;
}

/** Minutes as staff read them: 45 分钟, 3.5 小时, 2.1 天; — for none. */
export function durationText(minutes: number | null): string {
  if (minutes === null) return '—';
  if (minutes < 60) return `${minutes} 分钟`;
  if (minutes < 24 * 60) return `${(minutes / 60).toFixed(1)} 小时`;
  return `${(minutes / 1440).toFixed(1)} 天`;
}

/** An instant in Beijing time: 2026-11-23 09:05. */
export function chinaTimeText(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ');
}

const shareRow = (label: string, s: Share, note: string): Cell[] => [label, percentText(s.rate), `${s.count} / ${s.of}`, note];
const slaRow = (label: string, c: Compliance, note: string): Cell[] => [label, percentText(c.rate), `${c.count} / ${c.of}`, `${note}；未到期 ${c.running} 件`];

/** Every table of a report. */
export function reportTables(r: ServiceReport): ReportTable[] {
  const q = r.questions;
  const t = r.tickets;
  return [
    {
      name: 'summary', title: '总体指标', headings: ['指标', '数值', '计数', '口径'],
      rows: [
        ['咨询量', q.total, null, '向机器人提出的问题（不含问候、选号和转人工）'],
        shareRow('机器人解答率（无需人工）', q.deflection, '机器人作答（含转办、选中建议）且提问人之后未转人工'),
        shareRow('建议采纳率', q.acceptance, '给出“您是不是想问”后提问人选了其中一条'),
        ['未能回答', q.declined, null, '没有匹配的条目'],
        shareRow('转人工率', t.escalation, '登记的工单数 / 咨询量'),
        ['工单数', t.total, null, '本期登记'],
        slaRow('首次响应按时率', t.sla.firstResponse, '工作日计'),
        slaRow('办结按时率', t.sla.resolution, '按类别时限，工作日计'),
        ['首次响应时间（中位数）', durationText(t.medianFirstResponseMinutes), null, '本期首次回复的工单'],
        ['办结时间（中位数）', durationText(t.medianResolutionMinutes), null, '本期办结的工单'],
        shareRow('通知阅读率', r.reads.total, '本期发出的通知'),
        ['咨询最多的时段', busiestHours(r.hours).map((h) => `${String(h.hour).padStart(2, '0')}时（${h.count}）`).join('、') || '—', null, '北京时间'],
      ],
    },
    { name: 'categories', title: '工单分类', headings: ['类别', '工单数'], rows: t.byCategory.map((c) => [c.key, c.count]) },
    { name: 'channels', title: '工单渠道', headings: ['渠道', '工单数'], rows: t.byChannel.map((c) => [c.key, c.count]) },
    { name: 'csat', title: '满意度', headings: ['评价', '件数', '占比'], rows: t.csat.map((c) => [c.label, c.count, percentText(c.rate)]) },
    {
      name: 'dissatisfied', title: '不满意回访', headings: ['工单号', '类别', '处理人', '评价时间', '回访时间', '回访人'],
      rows: t.dissatisfied.map((d) => [d.number, d.category, d.assignee, chinaTimeText(d.ratedAt), d.followUpAt ? chinaTimeText(d.followUpAt) : '未回访', d.followUpBy]),
    },
    { name: 'repeat', title: '重复求助', headings: ['用户', '渠道', '工单数'], rows: t.repeatRequesters.map((u) => [u.userName ?? u.userId, u.channel, u.tickets]) },
    { name: 'reads', title: '通知阅读率（按分局）', headings: ['分局', '发送', '已读', '阅读率'], rows: r.reads.byOffice.map((o) => [o.office, o.targeted, o.read, percentText(o.readRate)]) },
    { name: 'hours', title: '咨询时段（北京时间）', headings: ['时段', '咨询量'], rows: r.hours.map((n, h) => [`${String(h).padStart(2, '0')}:00-${String(h + 1).padStart(2, '0')}:00`, n]) },
  ];
}

function csvCell(cell: Cell): string {
  const text = cell === null ? '' : String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Rows as CSV: CRLF line ends, fields quoted where needed, no BOM. */
export function csvRows(rows: readonly (readonly Cell[])[]): string {
  return rows.map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}

/** One table as a CSV file Excel opens with the Chinese intact: UTF-8 with a BOM. */
export function tableCsv(table: ReportTable): string {
  return `\uFEFF${csvRows([table.headings, ...table.rows])}`;
}

/** The whole report as one CSV file: each table under its title, a blank line between them. */
export function reportCsv(r: ServiceReport): string {
  const sections = reportTables(r).map((t) => csvRows([[`${t.title}（${r.period.label}）`], t.headings, ...t.rows]));
  return `\uFEFF${sections.join('\r\n')}`;
}
