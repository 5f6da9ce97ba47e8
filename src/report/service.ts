import { figuresOfTallies, questionFigures, questionHours, readRates, repeatWindow, ticketDues, type QuestionGroup } from '../core/report/figures.js';
import { chinaDay, firstDayOf, lastDayOf, startOfChinaDay, type Period } from '../core/report/period.js';
import type { ServiceReport } from '../core/report/tables.js';
import type { TicketRules } from '../core/tickets/rules.js';
import type { WorkCalendar } from '../core/tickets/workdays.js';
import type { Store } from '../store/index.js';

/** What the ticket figures are measured against: the knowledge folder's calendar and ticket rules. */
export interface ReportSettings {
  readonly calendar: WorkCalendar;
  readonly rules: TicketRules;
}

const DAY_MS = 86_400_000;

/** The Beijing days (YYYY-MM-DD) of a period, in order. */
function daysOf(period: Period): string[] {
  const days: string[] = [];
  const last = lastDayOf(period);
  for (let day = firstDayOf(period); day <= last; day = new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10)) days.push(day);
  return days;
}

/** Whether a day's figures are final at `now`: the next steps counted reach to the end of the following day. */
function settled(day: string, now: Date): boolean {
  return now.getTime() >= startOfChinaDay(day).getTime() + 2 * DAY_MS;
}

/**
 * The question groups of a period: kept days read from the store, the others counted from the
 * messages (and kept, when final, so the next report reads them).
 */
async function questionGroups(store: Store, period: Period, now: Date): Promise<QuestionGroup[]> {
  const days = daysOf(period);
  const first = days[0] as string;
  const last = days[days.length - 1] as string;
  const kept = await store.report.keptDays(first, last);
  // Read before keeping more days, which would then be counted twice.
  const groups = kept.size > 0 ? await store.report.kept(first, last) : [];
  for (const day of days.filter((d) => !kept.has(d))) {
    const counted = await store.report.countDay(day);
    if (settled(day, now)) await store.report.keepDay(day, counted, now);
    groups.push(...counted);
  }
  return groups;
}

/**
 * Keeps the figures of every final day among the `days` days before `now` that is not kept yet (run
 * by the hourly maintenance, so a report rarely counts more than its last two days). Returns how many
 * days it kept.
 */
export async function keepFinalDays(store: Store, now: Date, days = 400): Promise<number> {
  const to = startOfChinaDay(chinaDay(now));
  const period: Period = { from: new Date(to.getTime() - days * DAY_MS), to, label: '' };
  const all = daysOf(period).filter((d) => settled(d, now));
  if (all.length === 0) return 0;
  const kept = await store.report.keptDays(all[0] as string, all[all.length - 1] as string);
  const missing = all.filter((d) => !kept.has(d));
  for (const day of missing) await store.report.keepDay(day, await store.report.countDay(day), now);
  return missing.length;
}

/** The service report of a period, gathered from the store (the same for the API, the console and the command line). */
export async function serviceReport(store: Store, period: Period, settings: ReportSettings, now: Date = new Date()): Promise<ServiceReport> {
  const [groups, reads, tallies, repeat, accounts] = await Promise.all([
    questionGroups(store, period, now), store.report.reads(period),
    store.report.ticketTallies(period, (categories) => ticketDues(period, categories, settings.rules, settings.calendar)),
    store.report.requesters(repeatWindow(period, settings.rules), settings.rules.repeatRequester.tickets), store.accounts.list(),
  ]);
  // Staff read people's names, not account ids.
  const names = new Map(accounts.map((a) => [a.id, a.name]));
  const named = (id: string | null): string | null => (id === null ? null : (names.get(id) ?? id));
  const dissatisfied = tallies.dissatisfied.map((d) => ({ ...d, assignee: named(d.assignee), followUpBy: named(d.followUpBy) }));
  const questions = questionFigures(groups);
  return {
    period,
    generatedAt: now,
    questions,
    tickets: figuresOfTallies({ ...tallies, dissatisfied }, repeat, questions.total, period, settings.rules, now),
    reads: readRates(reads),
    hours: questionHours(groups),
  };
}
