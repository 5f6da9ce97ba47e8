import { hoursInChina, questionFigures, readRates, ticketFigures, type TicketFact } from '../core/report/figures.js';
import { SUGGESTION_TTL_MS } from '../channels/gateway.js';
import type { Period } from '../core/report/period.js';
import type { ServiceReport } from '../core/report/tables.js';
import type { TicketRules } from '../core/tickets/rules.js';
import type { WorkCalendar } from '../core/tickets/workdays.js';
import type { Store } from '../store/index.js';

/** What the ticket figures are measured against: the knowledge folder's calendar and ticket rules. */
export interface ReportSettings {
  readonly calendar: WorkCalendar;
  readonly rules: TicketRules;
}

/**
 * How long after an offer a pick still counts as accepting it: as long as the gateway keeps an offer,
 * so an offer made just before the period's end can be picked just after it.
 */
export const PICK_WINDOW_MS = SUGGESTION_TTL_MS;

/** The service report of a period, gathered from the store (the same for the API, the console and the command line). */
export async function serviceReport(store: Store, period: Period, settings: ReportSettings, now: Date = new Date()): Promise<ServiceReport> {
  const [groups, byHour, reads] = await Promise.all([
    store.report.questions(period, PICK_WINDOW_MS),
    store.report.questionsByHour(period),
    store.report.reads(period),
  ]);
  const questions = questionFigures(groups);
  const tickets: TicketFact[] = [];
  return {
    period,
    generatedAt: now,
    questions,
    tickets: ticketFigures(tickets, questions.total, period, settings.rules, settings.calendar, now),
    reads: readRates(reads),
    hours: hoursInChina(byHour),
  };
}
