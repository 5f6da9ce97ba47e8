/**
 * ISO weeks for moving the report a week back or forth; the API reads them in Beijing time and says
 * what is wrong with one, so these only do the calendar arithmetic.
 */

const DAY_MS = 86_400_000;

/** The ISO week (2026-W48) of a calendar day given as YYYY-MM-DD. */
export function weekOfDay(day: string): string {
  const date = Date.parse(`${day}T00:00:00Z`);
  const thursday = date + (3 - ((new Date(date).getUTCDay() + 6) % 7)) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const week1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  return `${year}-W${String(Math.floor((thursday - week1) / (7 * DAY_MS)) + 1).padStart(2, '0')}`;
}

/** The day `n` days after a YYYY-MM-DD day. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Today in Beijing, YYYY-MM-DD, whatever the browser's time zone. */
export function todayInBeijing(): string {
  return new Date(Date.now() + 8 * 3_600_000).toISOString().slice(0, 10);
}
