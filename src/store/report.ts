import { sql, type Kysely } from 'kysely';
import { PICKED, QUESTION_REASONS, type OfficeReads, type QuestionGroup } from '../core/report/figures.js';
import type { Period } from '../core/report/period.js';
import { toStored, type Database } from './schema.js';

/**
 * The rows the service report is computed from (core/report/figures.ts defines the figures). Each
 * method is one aggregate query over an indexed range, so a week of a busy service (about 40,000
 * questions) answers in milliseconds on both databases; see bench/report.js.
 */
export interface ReportRepository {
  /**
   * The questions asked in the period, grouped by reason, whether an offer was picked from (the
   * asker's next decided message in the chat, up to `pickWindowMs` after the period, is a pick) and
   * whether the asker opened a ticket afterwards in the period.
   */
  questions(period: Period, pickWindowMs: number): Promise<QuestionGroup[]>;
  /** Questions asked in the period by UTC hour of the day (0-23). */
  questionsByHour(period: Period): Promise<{ hour: number; count: number }[]>;
  /** Recipients of the notices sent in the period, and how many of them read, by office. */
  reads(period: Period): Promise<OfficeReads[]>;
}

/** The question reasons as SQL literals: a partial index serves only literals (store/README.md). */
const QUESTION_LIST = sql.join(QUESTION_REASONS.map((r) => sql.lit(r)));

/** The report's queries over SQL. */
export function reportRepository(db: Kysely<Database>): ReportRepository {
  return {
    async questions(period, pickWindowMs) {
      const from = toStored(period.from);
      const to = toStored(period.to);
      const until = toStored(new Date(period.to.getTime() + pickWindowMs));
      // The window runs over decided messages only, so chatter between an offer and its pick does
      // not hide the pick; the messages_decided index holds exactly those rows, ordered by time.
      const { rows } = await sql<{ reason: string; picked: number; escalated: number; count: number | string }>`
        select reason, picked, escalated, count(*) as count from (
          select d.reason,
                 case when d.next_reason = ${sql.lit(PICKED)} then 1 else 0 end as picked,
                 0 as escalated
          from (
            select m.reason, m.created_at,
                   lead(m.reason) over (partition by m.chat_id, m.user_id order by m.created_at, m.id) as next_reason
            from messages m
            where m.direction = 'in' and m.answered is not null and m.created_at >= ${from} and m.created_at < ${until}
          ) d
          where d.created_at < ${to} and d.reason in (${QUESTION_LIST})
        ) q
        group by reason, picked, escalated`.execute(db);
      return rows.map((r) => ({ reason: r.reason, picked: Number(r.picked) === 1, escalated: Number(r.escalated) === 1, count: Number(r.count) }));
    },

    async questionsByHour(period) {
      const { rows } = await sql<{ hour: string; count: number | string }>`
        select substr(created_at, 12, 2) as hour, count(*) as count
        from messages
        where direction = 'in' and answered is not null and created_at >= ${toStored(period.from)} and created_at < ${toStored(period.to)}
          and reason in (${QUESTION_LIST})
        group by substr(created_at, 12, 2)`.execute(db);
      return rows.map((r) => ({ hour: Number(r.hour), count: Number(r.count) }));
    },

    async reads(period) {
      const rows = await db
        .selectFrom('notice_recipients')
        .select((eb) => ['office', eb.fn.countAll<number | string>().as('targeted'), eb.fn.count<number | string>('read_at').as('read')])
        .where('created_at', '>=', toStored(period.from))
        .where('created_at', '<', toStored(period.to))
        .groupBy('office')
        .execute();
      return rows.map((r) => ({ office: r.office, targeted: Number(r.targeted), read: Number(r.read) }));
    },
  };
}
