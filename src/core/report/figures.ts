/**
 * The service report's figures, defined once here over plain rows, so the SQL that gathers the rows
 * (store/report.ts) and the tests with known answers share one definition. No I/O.
 *
 * A **question** is an inbound message the bot decided on for an answer: reason `answered`,
 * `referred`, `uncertain` (close entries offered: 您是不是想问) or `no_match`. Greetings and empty
 * messages are not questions; a pick from an offer (`picked`) is the answer to the offer, not a
 * new question; chatter (no decision) and 转人工 are not questions either.
 *
 * What the asker did next is their **next step** in that chat: their next question, pick or ticket,
 * by the end of the day after the question's day (Beijing time). Bounded by days, so a day's figures
 * are final once the following day has ended, and can be kept (store/report.ts) instead of counted
 * again for every report.
 */
import type { TicketCategory } from '../tickets/intent.js';
import type { Rating } from '../tickets/lifecycle.js';
import type { TicketRules } from '../tickets/rules.js';
import { addWorkingDays, chinaDate, type WorkCalendar } from '../tickets/workdays.js';
import type { Period } from './period.js';

/** The reason recorded on an inbound message that picked one of the suggestions offered. */
export const PICKED = 'picked';

/** Reasons that make an inbound message a question (see the module comment). */
export const QUESTION_REASONS = ['answered', 'referred', 'uncertain', 'no_match'] as const;

/** How many questions of one kind in one hour of the day, as the SQL groups them. */
export interface QuestionGroup {
  /** The hour of the day they were asked, Beijing time (0-23). */
  readonly hour: number;
  /** One of {@link QUESTION_REASONS}. */
  readonly reason: string;
  /** For `uncertain`: the asker's next step was to pick one of the suggestions. */
  readonly picked: boolean;
  /** The asker's next step (after the pick, for a picked offer) was a ticket: they asked for a person. */
  readonly escalated: boolean;
  readonly count: number;
}

/** A share with what it is a share of; `rate` null when there is nothing to divide by. */
export interface Share {
  readonly count: number;
  readonly of: number;
  readonly rate: number | null;
}

/** count / of, rounded to four decimals (a percentage to two); null for 0 / 0. */
export function share(count: number, of: number): Share {
  return { count, of, rate: of > 0 ? Math.round((count / of) * 10_000) / 10_000 : null };
}

/** What the bot did with the questions of the period. */
export interface QuestionFigures {
  readonly total: number;
  /** Answered with an entry (`answered`). */
  readonly answered: number;
  /** Answered with whom to turn to (`referred`: another authority handles it). */
  readonly referred: number;
  /** Offered close entries (`uncertain`). */
  readonly offered: number;
  /** Of those offered, picked one. */
  readonly accepted: number;
  /** Nothing matched (`no_match`): the unanswered inbox's raw material. */
  readonly declined: number;
  /**
   * Deflection, answered without a person: questions the bot answered (an entry, a referral, or an
   * offer the asker picked from) whose asker's next step was not a ticket, over all questions.
   */
  readonly deflection: Share;
  /** Suggestion acceptance: offers the asker picked from, over offers. */
  readonly acceptance: Share;
}

/** Tallies the question groups into the figures. */
export function questionFigures(groups: readonly QuestionGroup[]): QuestionFigures {
  const sum = (keep: (g: QuestionGroup) => boolean): number => groups.filter(keep).reduce((n, g) => n + g.count, 0);
  const questions = groups.filter((g) => (QUESTION_REASONS as readonly string[]).includes(g.reason));
  const total = questions.reduce((n, g) => n + g.count, 0);
  const byBot = (g: QuestionGroup): boolean => g.reason === 'answered' || g.reason === 'referred' || (g.reason === 'uncertain' && g.picked);
  const offered = sum((g) => g.reason === 'uncertain');
  const accepted = sum((g) => g.reason === 'uncertain' && g.picked);
  return {
    total,
    answered: sum((g) => g.reason === 'answered'),
    referred: sum((g) => g.reason === 'referred'),
    offered,
    accepted,
    declined: sum((g) => g.reason === 'no_match'),
    deflection: share(sum((g) => byBot(g) && !g.escalated), total),
    acceptance: share(accepted, offered),
  };
}

/** One ticket as the report reads it. */
export interface TicketFact {
  readonly number: string;
  readonly category: TicketCategory;
  readonly channel: string;
  /** The store's user id of the person the ticket is for. */
  readonly userId: string;
  /** Their display name, when known. */
  readonly userName: string | null;
  readonly assignee: string | null;
  readonly createdAt: Date;
  /** The first reply of a person (not the bot) in the ticket. */
  readonly firstResponseAt: Date | null;
  /** When it was (last) answered; null while open. */
  readonly resolvedAt: Date | null;
  readonly rating: Rating | null;
  readonly ratedAt: Date | null;
  /** For 不满意: when a supervisor's follow-up was recorded, and by whom; null while none was. */
  readonly followUpAt: Date | null;
  readonly followUpBy: string | null;
}

/** Counts by a label, most first (ties by label). */
export interface Count {
  readonly key: string;
  readonly count: number;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Count[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key, 'zh-CN'));
}

/** The middle value (the mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** A deadline kept or not: met, missed, and still running (not counted in the rate). */
export interface Compliance extends Share {
  /** Within its deadline, still open: not yet met or missed. */
  readonly running: number;
}

function within(t: Period, at: Date | null): boolean {
  return at !== null && at >= t.from && at < t.to;
}

/**
 * Whether a deadline was kept: met when done by `due`; missed when done after it, or not done and
 * `due` has passed at `asOf`; running otherwise.
 */
function deadline(due: Date, doneAt: Date | null, asOf: Date): 'met' | 'missed' | 'running' {
  if (doneAt) return doneAt <= due ? 'met' : 'missed';
  return asOf >= due ? 'missed' : 'running';
}

function compliance(outcomes: readonly ('met' | 'missed' | 'running')[]): Compliance {
  const met = outcomes.filter((o) => o === 'met').length;
  const missed = outcomes.filter((o) => o === 'missed').length;
  return { ...share(met, met + missed), running: outcomes.length - met - missed };
}

const MINUTE_MS = 60_000;

/** CSAT labels as the bot asks for them. */
export const RATING_LABELS: Readonly<Record<Rating, string>> = { 1: '非常满意', 2: '满意', 3: '不满意' };

/** The ticket figures of a period. */
export interface TicketFigures {
  /** Tickets registered in the period. */
  readonly total: number;
  /** Escalation rate: tickets registered, over the period's questions. */
  readonly escalation: Share;
  readonly byCategory: Count[];
  readonly byChannel: Count[];
  /**
   * SLA compliance of the tickets registered in the period, in working days (core/tickets/workdays.ts):
   * the first reply by a person within `firstResponseDays`, the answer within the category's `dueDays`.
   */
  readonly sla: { readonly firstResponse: Compliance; readonly resolution: Compliance };
  /** Median minutes, wall clock, from registration to the first reply, over first replies given in the period. */
  readonly medianFirstResponseMinutes: number | null;
  /** Median minutes, wall clock, from registration to the answer, over tickets answered in the period. */
  readonly medianResolutionMinutes: number | null;
  /** Ratings given in the period, by rating (1 非常满意, 2 满意, 3 不满意), each with its share of all ratings. */
  readonly csat: { readonly rating: Rating; readonly label: string; readonly count: number; readonly rate: number | null }[];
  /** Every 不满意 given in the period, with whether a follow-up was recorded. */
  readonly dissatisfied: { readonly number: string; readonly category: string; readonly assignee: string | null; readonly ratedAt: Date; readonly followUpAt: Date | null; readonly followUpBy: string | null }[];
  /** People with `repeatRequester.tickets` or more tickets in the `repeatRequester.days` days before the period's end. */
  readonly repeatRequesters: RepeatRequester[];
}

/** A person and their tickets registered in the repeat-requester window (see {@link repeatWindow}). */
export interface RepeatRequester {
  readonly userId: string;
  readonly userName: string | null;
  readonly channel: string;
  readonly tickets: number;
}

/** The span whose tickets make a repeat requester: the `repeatRequester.days` days before the period's end. */
export function repeatWindow(period: Period, rules: TicketRules): { readonly from: Date; readonly to: Date } {
  return { from: new Date(period.to.getTime() - rules.repeatRequester.days * 86_400_000), to: period.to };
}

/**
 * The ticket figures of `period` from the tickets touched in it (registered, first replied to,
 * answered or rated in it) and the count of each person's tickets in the repeat-requester window.
 * Deadlines still running at `asOf` (the report's time, or the period's end if earlier) are counted apart.
 */
export function ticketFigures(
  tickets: readonly TicketFact[], repeat: readonly RepeatRequester[], questions: number, period: Period, rules: TicketRules, calendar: WorkCalendar, asOf: Date,
): TicketFigures {
  const registered = tickets.filter((t) => within(period, t.createdAt));
  const until = asOf < period.to ? asOf : period.to;
  // A deadline depends only on the Beijing day of registration: counted once per day and length.
  const deadlines = new Map<string, Date>();
  const due = (from: Date, days: number): Date => {
    const key = `${chinaDate(from)}:${days}`;
    let d = deadlines.get(key);
    if (!d) deadlines.set(key, (d = addWorkingDays(from, days, calendar)));
    return d;
  };
  const firstResponse = registered.map((t) => deadline(due(t.createdAt, rules.firstResponseDays), t.firstResponseAt, until));
  const resolution = registered.map((t) => deadline(due(t.createdAt, rules.dueDays[t.category]), t.resolvedAt, until));
  const minutes = (from: Date, to: Date): number => Math.round((to.getTime() - from.getTime()) / MINUTE_MS);
  const rated = tickets.filter((t) => t.rating !== null && within(period, t.ratedAt));
  return {
    total: registered.length,
    escalation: share(registered.length, questions),
    byCategory: countBy(registered, (t) => t.category),
    byChannel: countBy(registered, (t) => t.channel),
    sla: { firstResponse: compliance(firstResponse), resolution: compliance(resolution) },
    medianFirstResponseMinutes: median(tickets.filter((t) => within(period, t.firstResponseAt)).map((t) => minutes(t.createdAt, t.firstResponseAt as Date))),
    medianResolutionMinutes: median(tickets.filter((t) => within(period, t.resolvedAt)).map((t) => minutes(t.createdAt, t.resolvedAt as Date))),
    csat: ([1, 2, 3] as const).map((rating) => {
      const count = rated.filter((t) => t.rating === rating).length;
      return { rating, label: RATING_LABELS[rating], count, rate: share(count, rated.length).rate };
    }),
    dissatisfied: rated
      .filter((t) => t.rating === 3)
      .sort((a, b) => (a.ratedAt as Date).getTime() - (b.ratedAt as Date).getTime())
      .map((t) => ({ number: t.number, category: t.category, assignee: t.assignee, ratedAt: t.ratedAt as Date, followUpAt: t.followUpAt, followUpBy: t.followUpBy })),
    repeatRequesters: repeat
      .filter((r) => r.tickets >= rules.repeatRequester.tickets)
      .map((r) => ({ ...r }))
      .sort((a, b) => b.tickets - a.tickets || a.userId.localeCompare(b.userId)),
  };
}

/** Recipients and read receipts of the notices sent in the period, for one office. */
export interface OfficeReads {
  /** The office at sending time; null when the profile had none. */
  readonly office: string | null;
  readonly targeted: number;
  readonly read: number;
}

/** What staff read for a profile without an office. */
export const NO_OFFICE = '（未填分局）';

/** Read rates by office, lowest rate first (the offices to chase), then the total. */
export function readRates(rows: readonly OfficeReads[]): { readonly byOffice: { office: string; targeted: number; read: number; readRate: number | null }[]; readonly total: Share } {
  const byOffice = rows
    .map((r) => ({ office: r.office ?? NO_OFFICE, targeted: r.targeted, read: r.read, readRate: share(r.read, r.targeted).rate }))
    .sort((a, b) => (a.readRate ?? 2) - (b.readRate ?? 2) || a.office.localeCompare(b.office, 'zh-CN'));
  return { byOffice, total: share(rows.reduce((n, r) => n + r.read, 0), rows.reduce((n, r) => n + r.targeted, 0)) };
}

/** Questions asked in each hour of the day, Beijing time (0-23). */
export function questionHours(groups: readonly QuestionGroup[]): number[] {
  const hours = Array.from({ length: 24 }, () => 0);
  for (const g of groups) if ((QUESTION_REASONS as readonly string[]).includes(g.reason)) hours[g.hour] = (hours[g.hour] as number) + g.count;
  return hours;
}

/** The busiest hours (Beijing time), most first, at most `n`, hours without a question left out. */
export function busiestHours(hours: readonly number[], n = 3): { hour: number; count: number }[] {
  return hours
    .map((count, hour) => ({ hour, count }))
    .filter((h) => h.count > 0)
    .sort((a, b) => b.count - a.count || a.hour - b.hour)
    .slice(0, n);
}
