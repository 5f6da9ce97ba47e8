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
import { startOfChinaDay, type Period } from './period.js';

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

const MINUTE_MS = 60_000;

/** Minutes, wall clock, from one instant to another, rounded. */
export function minutesBetween(from: Date, to: Date): number {
  return Math.round((to.getTime() - from.getTime()) / MINUTE_MS);
}

/** CSAT labels as the bot asks for them. */
export const RATING_LABELS: Readonly<Record<Rating, string>> = { 1: '非常满意', 2: '满意', 3: '不满意' };

/** A 不满意 given in the period, with whether a follow-up was recorded. */
export interface Dissatisfied {
  readonly number: string;
  readonly category: string;
  readonly assignee: string | null;
  readonly ratedAt: Date;
  readonly followUpAt: Date | null;
  readonly followUpBy: string | null;
}

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
  readonly dissatisfied: Dissatisfied[];
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
 * The deadlines of the tickets of one category registered in one span: a Beijing day of the period
 * (a deadline depends only on the day of registration), cut to the period.
 */
export interface TicketDue {
  readonly from: Date;
  readonly to: Date;
  readonly category: string;
  /** When the first reply by a person is due, and the answer. */
  readonly firstResponse: Date;
  readonly resolution: Date;
}

/** The deadlines of the period's tickets of these categories, a Beijing day at a time. */
export function ticketDues(period: Period, categories: readonly string[], rules: TicketRules, calendar: WorkCalendar): TicketDue[] {
  const dues: TicketDue[] = [];
  for (let from = period.from; from < period.to; ) {
    const next = new Date(startOfChinaDay(chinaDate(from)).getTime() + 86_400_000);
    const to = next < period.to ? next : period.to;
    const firstResponse = addWorkingDays(from, rules.firstResponseDays, calendar);
    for (const category of categories) {
      dues.push({ from, to, category, firstResponse, resolution: addWorkingDays(from, rules.dueDays[category as TicketCategory], calendar) });
    }
    from = to;
  }
  return dues;
}

/** Tickets done by their deadline, after it, and not done yet. */
export interface DeadlineTally {
  readonly met: number;
  readonly late: number;
  readonly open: number;
}

/**
 * What the ticket figures are made of, counted by the store over indexed ranges (store/report.ts) or
 * from tickets by {@link tallyTickets}: the same figures either way.
 */
export interface TicketTallies {
  /** Tickets registered in the period, by category and channel. */
  readonly registered: readonly { readonly category: string; readonly channel: string; readonly count: number }[];
  /** The registered tickets of each {@link TicketDue} (one with none may be left out): their first reply and their answer. */
  readonly deadlines: readonly { readonly due: TicketDue; readonly firstResponse: DeadlineTally; readonly resolution: DeadlineTally }[];
  /** Minutes from registration to the first reply of each ticket first replied to in the period. */
  readonly firstResponseMinutes: readonly number[];
  /** Minutes from registration to the answer of each ticket answered in the period. */
  readonly resolutionMinutes: readonly number[];
  /** Tickets rated in the period, by their rating. */
  readonly ratings: readonly { readonly rating: Rating; readonly count: number }[];
  /** The 不满意 among them, when each was (last) rated in the period, and its follow-up. */
  readonly dissatisfied: readonly Dissatisfied[];
}

/** A deadline kept or not: done by `due`, done after it, or not done (missed once `due` has passed, running until then). */
function tallyDeadline(due: Date, doneAt: Date | null): keyof DeadlineTally {
  if (doneAt) return doneAt <= due ? 'met' : 'late';
  return 'open';
}

/** The tallies of tickets touched in the period (registered, first replied to, answered or rated in it). */
function tallyTickets(tickets: readonly TicketFact[], period: Period, rules: TicketRules, calendar: WorkCalendar): TicketTallies {
  const registered = tickets.filter((t) => within(period, t.createdAt));
  const deadlines = new Map(ticketDues(period, [...new Set(registered.map((t) => t.category))], rules, calendar)
    .map((due) => [`${chinaDate(due.from)} ${due.category}`, { due, firstResponse: { met: 0, late: 0, open: 0 }, resolution: { met: 0, late: 0, open: 0 } }]));
  for (const t of registered) {
    const d = deadlines.get(`${chinaDate(t.createdAt)} ${t.category}`) as { due: TicketDue; firstResponse: Record<keyof DeadlineTally, number>; resolution: Record<keyof DeadlineTally, number> };
    d.firstResponse[tallyDeadline(d.due.firstResponse, t.firstResponseAt)]++;
    d.resolution[tallyDeadline(d.due.resolution, t.resolvedAt)]++;
  }
  const rated = tickets.filter((t) => t.rating !== null && within(period, t.ratedAt));
  return {
    registered: sumBy(registered, (t) => JSON.stringify([t.category, t.channel]), () => 1).map((c) => {
      const [category, channel] = JSON.parse(c.key) as [string, string];
      return { category, channel, count: c.count };
    }),
    deadlines: [...deadlines.values()],
    firstResponseMinutes: tickets.filter((t) => within(period, t.firstResponseAt)).map((t) => minutesBetween(t.createdAt, t.firstResponseAt as Date)),
    resolutionMinutes: tickets.filter((t) => within(period, t.resolvedAt)).map((t) => minutesBetween(t.createdAt, t.resolvedAt as Date)),
    ratings: ([1, 2, 3] as const).map((rating) => ({ rating, count: rated.filter((t) => t.rating === rating).length })),
    dissatisfied: rated
      .filter((t) => t.rating === 3)
      .map((t) => ({ number: t.number, category: t.category, assignee: t.assignee, ratedAt: t.ratedAt as Date, followUpAt: t.followUpAt, followUpBy: t.followUpBy })),
  };
}

/** Sums counts by a label into {@link Count}s, most first (ties by label). */
function sumBy<T>(items: readonly T[], key: (item: T) => string, count: (item: T) => number): Count[] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + count(item));
  return [...counts].map(([k, n]) => ({ key: k, count: n })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key, 'zh-CN'));
}

/**
 * The ticket figures of `period` from its tallies and the count of each person's tickets in the
 * repeat-requester window. Deadlines still running at `asOf` (the report's time, or the period's
 * end if earlier) are counted apart.
 */
export function figuresOfTallies(tallies: TicketTallies, repeat: readonly RepeatRequester[], questions: number, period: Period, rules: TicketRules, asOf: Date): TicketFigures {
  const until = asOf < period.to ? asOf : period.to;
  const compliance = (pick: (d: TicketTallies['deadlines'][number]) => { due: Date; tally: DeadlineTally }): Compliance => {
    let met = 0;
    let missed = 0;
    let running = 0;
    for (const d of tallies.deadlines) {
      const { due, tally } = pick(d);
      met += tally.met;
      missed += tally.late;
      if (until >= due) missed += tally.open;
      else running += tally.open;
    }
    return { ...share(met, met + missed), running };
  };
  const total = tallies.registered.reduce((n, r) => n + r.count, 0);
  const ratings = tallies.ratings.reduce((n, r) => n + r.count, 0);
  return {
    total,
    escalation: share(total, questions),
    byCategory: sumBy(tallies.registered, (r) => r.category, (r) => r.count),
    byChannel: sumBy(tallies.registered, (r) => r.channel, (r) => r.count),
    sla: {
      firstResponse: compliance((d) => ({ due: d.due.firstResponse, tally: d.firstResponse })),
      resolution: compliance((d) => ({ due: d.due.resolution, tally: d.resolution })),
    },
    medianFirstResponseMinutes: median(tallies.firstResponseMinutes),
    medianResolutionMinutes: median(tallies.resolutionMinutes),
    csat: ([1, 2, 3] as const).map((rating) => {
      const count = tallies.ratings.filter((r) => r.rating === rating).reduce((n, r) => n + r.count, 0);
      return { rating, label: RATING_LABELS[rating], count, rate: share(count, ratings).rate };
    }),
    dissatisfied: [...tallies.dissatisfied].sort((a, b) => a.ratedAt.getTime() - b.ratedAt.getTime()).map((d) => ({ ...d })),
    repeatRequesters: repeat
      .filter((r) => r.tickets >= rules.repeatRequester.tickets)
      .map((r) => ({ ...r }))
      .sort((a, b) => b.tickets - a.tickets || a.userId.localeCompare(b.userId)),
  };
}

/**
 * The ticket figures of `period` from the tickets touched in it (registered, first replied to,
 * answered or rated in it) and the count of each person's tickets in the repeat-requester window.
 * Deadlines still running at `asOf` (the report's time, or the period's end if earlier) are counted apart.
 */
export function ticketFigures(
  tickets: readonly TicketFact[], repeat: readonly RepeatRequester[], questions: number, period: Period, rules: TicketRules, calendar: WorkCalendar, asOf: Date,
): TicketFigures {
  return figuresOfTallies(tallyTickets(tickets, period, rules, calendar), repeat, questions, period, rules, asOf);
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
