/**
 * Chinese working days: Monday to Friday, except the statutory holidays, plus the weekend days that
 * the State Council's yearly notice makes working days (调休). A year the calendar does not know
 * falls back to Monday to Friday, so deadlines never fail for lack of a calendar; `kb lint` warns
 * about a missing year instead.
 */
export interface WorkCalendar {
  /** Years the State Council's notice is known for. */
  readonly years: ReadonlySet<number>;
  /** Days off (YYYY-MM-DD), weekdays and weekends alike. */
  readonly holidays: ReadonlySet<string>;
  /** Weekend days worked (调休上班). */
  readonly workdays: ReadonlySet<string>;
}

/** A calendar that knows no year: Monday to Friday. */
export const WEEKDAYS_ONLY: WorkCalendar = { years: new Set(), holidays: new Set(), workdays: new Set() };

const CHINA_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The calendar day in China (UTC+8, no daylight saving) of an instant. */
export function chinaDate(instant: Date): string {
  return new Date(instant.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a China calendar day ends (its 24:00, the next day's 00:00 in Beijing). */
export function endOfChinaDay(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - CHINA_OFFSET_MS + DAY_MS);
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

/** Whether a day (YYYY-MM-DD) is a working day. */
export function isWorkingDay(day: string, calendar: WorkCalendar): boolean {
  if (calendar.holidays.has(day)) return false;
  if (calendar.workdays.has(day)) return true;
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay();
  return weekday !== 0 && weekday !== 6;
}

/**
 * The deadline of "within N working days" counted from an instant, as offices count it: the day
 * something is registered is not counted; the deadline is the end (24:00, Beijing time) of the Nth
 * working day after it. N = 0 is the end of the registration day itself.
 */
export function addWorkingDays(from: Date, n: number, calendar: WorkCalendar): Date {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`工作日数应为非负整数，当前为 ${n}`);
  let day = chinaDate(from);
  for (let counted = 0; counted < n; ) {
    day = nextDay(day);
    if (isWorkingDay(day, calendar)) counted++;
  }
  return endOfChinaDay(day);
}

/**
 * Working days from one instant to another, counted the same way: 0 while still within the first
 * day, N at the end of the Nth working day after it. For reports on time taken; negative never.
 */
export function workingDaysBetween(from: Date, to: Date, calendar: WorkCalendar): number {
  let day = chinaDate(from);
  const last = chinaDate(to);
  let counted = 0;
  while (day < last) {
    day = nextDay(day);
    if (isWorkingDay(day, calendar)) counted++;
  }
  return counted;
}

/**
 * Working days left before a deadline, for a countdown: 0 on its last day, and once it has passed,
 * minus the working days it is overdue (at least 1).
 */
export function workingDaysLeft(now: Date, due: Date, calendar: WorkCalendar): number {
  const lastDay = new Date(due.getTime() - 1);
  if (now.getTime() < due.getTime()) return workingDaysBetween(now, lastDay, calendar);
  return -Math.max(1, workingDaysBetween(lastDay, now, calendar));
}
