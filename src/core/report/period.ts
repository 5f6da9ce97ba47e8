/**
 * The periods a report covers, in Beijing time (UTC+8, no daylight saving), as the offices count
 * them: an ISO week (2026-W48: Monday 00:00 to the next Monday 00:00) or a span of calendar days.
 */

const CHINA_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** A half-open span of instants [from, to), with the label staff read. */
export interface Period {
  readonly from: Date;
  readonly to: Date;
  /** 2026-W48, or 2026-11-01 至 2026-11-30. */
  readonly label: string;
}

/** A parse that succeeded, or a message for the person who typed it. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** The instant a Beijing calendar day (YYYY-MM-DD) begins. */
export function startOfChinaDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - CHINA_OFFSET_MS);
}

/** The Beijing calendar day (YYYY-MM-DD) of an instant. */
export function chinaDay(instant: Date): string {
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The Monday (UTC midnight of that date) of ISO week 1 of `year`: the week holding 4 January. */
function firstMonday(year: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const weekday = (new Date(jan4).getUTCDay() + 6) % 7;
  return jan4 - weekday * DAY_MS;
}

/** How many ISO weeks `year` has (52 or 53). */
function weeksIn(year: number): number {
  return Math.round((firstMonday(year + 1) - firstMonday(year)) / (7 * DAY_MS));
}

const WEEK = /^(\d{4})-?W(\d{1,2})$/i;

/** Reads an ISO week (2026-W48, 2026W48) into its period in Beijing time; a message in Chinese when it is not one. */
export function parseWeek(text: string): Parsed<Period> {
  const m = WEEK.exec(text.trim());
  if (!m) return { ok: false, message: `“${text}”不是 ISO 周，应写成 年-W周，例如 2026-W48` };
  const year = Number(m[1]);
  const week = Number(m[2]);
  if (year < 2000 || year > 2100) return { ok: false, message: `年份 ${year} 超出范围（2000 至 2100）` };
  const weeks = weeksIn(year);
  if (week < 1 || week > weeks) return { ok: false, message: `${year} 年只有第 1 至第 ${weeks} 周，没有第 ${week} 周` };
  const monday = firstMonday(year) + (week - 1) * 7 * DAY_MS;
  const from = new Date(monday - CHINA_OFFSET_MS);
  return { ok: true, value: { from, to: new Date(from.getTime() + 7 * DAY_MS), label: `${year}-W${String(week).padStart(2, '0')}` } };
}

/** The ISO week (2026-W48) holding an instant, in Beijing time. */
export function weekOf(instant: Date): string {
  const day = Date.parse(`${chinaDay(instant)}T00:00:00Z`);
  const thursday = day + (3 - ((new Date(day).getUTCDay() + 6) % 7)) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - firstMonday(year)) / (7 * DAY_MS)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function isDay(text: string): boolean {
  const time = DAY.test(text) ? Date.parse(`${text}T00:00:00Z`) : Number.NaN;
  return !Number.isNaN(time) && new Date(time).toISOString().slice(0, 10) === text;
}

/** Longest span a report may cover: a year and a day (a leap year's report). */
export const MAX_PERIOD_DAYS = 367;

/**
 * Reads `from` and `to` as Beijing calendar days (YYYY-MM-DD), both included: 2026-11-01 to
 * 2026-11-30 is all of November. Refuses a day that does not exist, `to` before `from`, and more
 * than {@link MAX_PERIOD_DAYS} days.
 */
export function parseDays(from: string, to: string): Parsed<Period> {
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (!isDay(value)) return { ok: false, message: `${name} 应为日期 YYYY-MM-DD（北京时间），例如 2026-11-23；收到“${value}”` };
  }
  if (to < from) return { ok: false, message: `结束日期 ${to} 早于开始日期 ${from}` };
  const start = startOfChinaDay(from);
  const end = new Date(startOfChinaDay(to).getTime() + DAY_MS);
  if (end.getTime() - start.getTime() > MAX_PERIOD_DAYS * DAY_MS) return { ok: false, message: `统计区间最长 ${MAX_PERIOD_DAYS} 天` };
  return { ok: true, value: { from: start, to: end, label: from === to ? from : `${from} 至 ${to}` } };
}

/** The last day (YYYY-MM-DD, Beijing time) a period includes. */
export function lastDayOf(period: Period): string {
  return chinaDay(new Date(period.to.getTime() - 1));
}

/** The first day (YYYY-MM-DD, Beijing time) a period includes. */
export function firstDayOf(period: Period): string {
  return chinaDay(period.from);
}
