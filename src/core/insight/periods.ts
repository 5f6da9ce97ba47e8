/**
 * The periods of the hot-questions board, in Beijing time (UTC+8, no daylight saving): a calendar
 * day, an ISO week (Monday to Sunday) or a calendar month, and the period just before it, which
 * tells what is rising.
 */

/** How long a board looks back. */
export type Period = 'day' | 'week' | 'month';

export const PERIODS: readonly Period[] = ['day', 'week', 'month'];

/** A period as instants and as Beijing days. */
export interface PeriodRange {
  readonly period: Period;
  /** First Beijing day of the period (YYYY-MM-DD), and the instant it starts. */
  readonly firstDay: string;
  readonly from: Date;
  /** The instant after the period (the start of the next one). */
  readonly to: Date;
  /** The period before: its first day and start (it ends at `from`). */
  readonly previousFirstDay: string;
  readonly previousFrom: Date;
}

const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 24 * 3600_000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The Beijing calendar day of an instant. */
export function beijingDay(instant: Date): string {
  return new Date(instant.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The instant a Beijing day starts (its midnight, 16:00 UTC the day before). */
export function dayStart(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) - BEIJING_OFFSET_MS);
}

/** The day `n` days after `day` (before, for negative `n`). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whether a text is a real YYYY-MM-DD day. */
export function isDay(text: string): boolean {
  return DAY.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00.000Z`)) && new Date(`${text}T00:00:00.000Z`).toISOString().slice(0, 10) === text;
}

/** The first day of the month `n` months after the month of `day`. */
function monthStart(day: string, n = 0): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m - 1 + n, 1)).toISOString().slice(0, 10);
}

/** The period of kind `period` that holds the Beijing day `day`, with the one before it. */
export function periodRange(period: Period, day: string): PeriodRange {
  let first: string;
  let next: string;
  let previous: string;
  if (period === 'day') {
    first = day;
    next = addDays(day, 1);
    previous = addDays(day, -1);
  } else if (period === 'week') {
    const weekday = (new Date(`${day}T00:00:00.000Z`).getUTCDay() + 6) % 7;
    first = addDays(day, -weekday);
    next = addDays(first, 7);
    previous = addDays(first, -7);
  } else {
    first = monthStart(day);
    next = monthStart(day, 1);
    previous = monthStart(day, -1);
  }
  return { period, firstDay: first, from: dayStart(first), to: dayStart(next), previousFirstDay: previous, previousFrom: dayStart(previous) };
}

/** The days from `first` up to, not including, `end`. */
export function daysBetween(first: string, end: string): string[] {
  const out: string[] = [];
  for (let d = first; d < end; d = addDays(d, 1)) out.push(d);
  return out;
}
