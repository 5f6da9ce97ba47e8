import type { FastifyBaseLogger } from 'fastify';
import { TicketConflict } from '../core/tickets/lifecycle.js';
import type { TicketRules } from '../core/tickets/rules.js';
import type { Store } from '../store/index.js';

const EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

/** What one run did. */
export interface TicketJobReport {
  readonly overdue: number;
  readonly followedUp: number;
  readonly archived: number;
}

/**
 * One run of the ticket schedule at `now`: open tickets past a deadline are flagged (an audit row,
 * once); answered tickets not rated within `followUpDays` are followed up without a rating; those
 * followed up `archiveDays` ago are archived. Several instances may run it: each change applies to
 * the version it read, and one that another instance made first is skipped.
 */
export async function runTicketJobs(store: Store, rules: TicketRules, now: Date): Promise<TicketJobReport> {
  const due = await store.tickets.due(now, new Date(now.getTime() - rules.followUpDays * DAY_MS), new Date(now.getTime() - rules.archiveDays * DAY_MS));
  let overdue = 0;
  for (const t of due.overdue) if (await store.tickets.flagOverdue(t.id, now)) overdue++;
  const system = { kind: 'system' } as const;
  const apply = async (ids: readonly string[], type: 'follow_up' | 'archive'): Promise<number> => {
    let done = 0;
    for (const id of ids) {
      try {
        if (await store.tickets.apply(id, { type }, system, now, rules)) done++;
      } catch (err) {
        if (!(err instanceof TicketConflict)) throw err;
      }
    }
    return done;
  };
  const followedUp = await apply(due.followUp.map((t) => t.id), 'follow_up');
  const archived = await apply(due.archive.map((t) => t.id), 'archive');
  return { overdue, followedUp, archived };
}

/** Runs {@link runTicketJobs} every minute; returns a function that stops it. */
export function startTicketJobs(store: Store, rules: () => TicketRules, log: FastifyBaseLogger, everyMs = EVERY_MS): () => void {
  const run = async (): Promise<void> => {
    try {
      const report = await runTicketJobs(store, rules(), new Date());
      if (report.overdue + report.followedUp + report.archived > 0) log.info(report, '工单定时任务：超期标记、回访、归档');
    } catch (err) {
      log.warn({ err }, '工单定时任务失败，下次再试');
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
