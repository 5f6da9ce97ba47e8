import { sql, type Kysely } from 'kysely';
import { PICKED, QUESTION_REASONS, type OfficeReads, type QuestionGroup, type RepeatRequester, type TicketFact } from '../core/report/figures.js';
import type { TicketCategory } from '../core/tickets/intent.js';
import type { Rating } from '../core/tickets/lifecycle.js';
import { startOfChinaDay, type Period } from '../core/report/period.js';
import type { Together } from './connect.js';
import { fromStored, toStored, type Database } from './schema.js';

const DAY_MS = 86_400_000;

/**
 * The rows the service report is computed from (core/report/figures.ts defines the figures).
 *
 * Question figures are counted per Beijing day: a day's count looks at the asker's next step up to
 * the end of the following day, so once that has passed the day's figures never change, and are
 * kept in `report_days` (one row per hour, reason and outcome). A report then reads a few hundred
 * kept rows per month instead of the month's messages, and counts afresh only the days not kept yet
 * (the last two, and any the maintenance job has not reached). Kept figures also survive the
 * retention job and personal-data deletions, which remove messages but not what was counted of them.
 */
export interface ReportRepository {
  /** The questions of one Beijing day (YYYY-MM-DD) counted from the messages, by hour, reason and next step. */
  countDay(day: string): Promise<QuestionGroup[]>;
  /** Keeps a day's counts (replacing any kept before): only for a day whose next steps are all known. */
  keepDay(day: string, groups: readonly QuestionGroup[], now: Date): Promise<void>;
  /** The days from `first` to `last` (inclusive) whose counts are kept. */
  keptDays(first: string, last: string): Promise<Set<string>>;
  /** The kept counts of the days from `first` to `last`, summed over the days. */
  kept(first: string, last: string): Promise<QuestionGroup[]>;
  /** Recipients of the notices sent in the period, and how many of them read, by office. */
  reads(period: Period): Promise<OfficeReads[]>;
  /**
   * The tickets registered, first answered, resolved or rated in the period; with
   * the time of their last rating and the first action of a person after it (the follow-up).
   * Assignees and follow-up actors are account ids.
   */
  tickets(period: Period): Promise<TicketFact[]>;
  /** Each person with at least `least` tickets registered in the span, and how many. */
  requesters(span: { readonly from: Date; readonly to: Date }, least: number): Promise<RepeatRequester[]>;
}

/** Ids per IN list: well under the parameter limits of both databases. */
const ID_CHUNK = 500;

/** What a ticket is as a step in the window of countDay: no message reason is ever this. */
const TICKET_STEP = '(ticket)';

/** The question reasons as SQL literals: a partial index serves only literals (store/README.md). */
const QUESTION_LIST = sql.join(QUESTION_REASONS.map((r) => sql.lit(r)));

type GroupRow = { hour: number | string; reason: string; picked: number | string; escalated: number | string; count: number | string };

function toGroup(r: GroupRow): QuestionGroup {
  return { hour: Number(r.hour), reason: r.reason, picked: Number(r.picked) === 1, escalated: Number(r.escalated) === 1, count: Number(r.count) };
}

/** The report's queries over SQL. */
export function reportRepository(db: Kysely<Database>, together: Together): ReportRepository {
  return {
    async countDay(day) {
      const start = startOfChinaDay(day);
      const from = toStored(start);
      const to = toStored(new Date(start.getTime() + DAY_MS));
      const until = toStored(new Date(start.getTime() + 2 * DAY_MS));
      // Each asker's steps in a chat: decided messages (chatter between an offer and its pick must not
      // hide the pick; the messages_decided index holds exactly these rows) and the tickets they opened.
      const { rows } = await sql<{ utc_hour: string; reason: string; picked: number; escalated: number; count: number | string }>`
        select substr(d.created_at, 12, 2) as utc_hour, d.reason, d.picked, d.escalated, count(*) as count from (
          select s.created_at, s.reason,
                 case when s.next_step = ${sql.lit(PICKED)} then 1 else 0 end as picked,
                 case when s.next_step = ${sql.lit(TICKET_STEP)} or (s.next_step = ${sql.lit(PICKED)} and s.step_after = ${sql.lit(TICKET_STEP)}) then 1 else 0 end as escalated
          from (
            select e.reason, e.created_at,
                   lead(e.reason) over w as next_step,
                   lead(e.reason, 2) over w as step_after
            from (
              select m.chat_id, m.user_id, m.reason, m.created_at, m.id
              from messages m
              where m.direction = 'in' and m.answered is not null and m.created_at >= ${from} and m.created_at < ${until}
              union all
              select t.chat_id, t.user_id, ${sql.lit(TICKET_STEP)}, t.created_at, t.id
              from tickets t
              where t.created_at >= ${from} and t.created_at < ${until}
            ) e
            window w as (partition by e.chat_id, e.user_id order by e.created_at, e.id)
          ) s
          where s.created_at < ${to} and s.reason in (${QUESTION_LIST})
        ) d
        group by substr(d.created_at, 12, 2), d.reason, d.picked, d.escalated`.execute(db);
      return rows.map((r) => toGroup({ ...r, hour: (Number(r.utc_hour) + 8) % 24 }));
    },

    async keepDay(day, groups, now) {
      await together([
        db.deleteFrom('report_days').where('day', '=', day).compile(),
        // Upserts: another instance keeping the same day at the same moment writes the same counts.
        ...groups.map((g) => db.insertInto('report_days').values({ day, hour: g.hour, reason: g.reason, picked: g.picked ? 1 : 0, escalated: g.escalated ? 1 : 0, count: g.count })
          .onConflict((oc) => oc.columns(['day', 'hour', 'reason', 'picked', 'escalated']).doUpdateSet((eb) => ({ count: eb.ref('excluded.count') }))).compile()),
        db.insertInto('report_kept_days').values({ day, kept_at: toStored(now) }).onConflict((oc) => oc.column('day').doUpdateSet({ kept_at: toStored(now) })).compile(),
      ]);
    },

    async keptDays(first, last) {
      const rows = await db.selectFrom('report_kept_days').select('day').where('day', '>=', first).where('day', '<=', last).execute();
      return new Set(rows.map((r) => r.day));
    },

    async kept(first, last) {
      const rows = await db
        .selectFrom('report_days')
        .select((eb) => ['hour', 'reason', 'picked', 'escalated', eb.fn.sum<number | string>('count').as('count')])
        .where('day', '>=', first)
        .where('day', '<=', last)
        .groupBy(['hour', 'reason', 'picked', 'escalated'])
        .execute();
      return rows.map(toGroup);
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

    async tickets(period) {
      const from = toStored(period.from);
      const to = toStored(period.to);
      // One indexed range per way a ticket can belong to the period, united: a single WHERE OR-ing
      // them (with the ratings as correlated subqueries) planned far worse on both databases.
      const columns = ['id', 'number', 'category', 'channel', 'channel_user_id', 'user_name', 'assignee', 'created_at', 'first_response_at', 'resolved_at', 'rating'] as const;
      const inRange = (column: 'created_at' | 'first_response_at' | 'resolved_at', start: string) =>
        db.selectFrom('tickets').select(columns).where(column, '>=', start).where(column, '<', to);
      const rows = await inRange('created_at', from)
        .union(inRange('first_response_at', from))
        .union(inRange('resolved_at', from))
        .union(db.selectFrom('tickets').select(columns).where('id', 'in', db.selectFrom('ticket_events').select('ticket_id').where('type', '=', 'rated').where('at', '>=', from).where('at', '<', to)))
        .execute();
      // Ratings given in the period (one index range), and for each 不满意 the first action of a person after it.
      const given = await db.selectFrom('ticket_events').select(['ticket_id', 'at']).where('type', '=', 'rated').where('at', '>=', from).where('at', '<', to).orderBy('at').execute();
      const ratedAt = new Map(given.map((e) => [e.ticket_id, e.at]));
      const unhappy = rows.filter((r) => Number(r.rating) === 3 && ratedAt.has(r.id)).map((r) => r.id);
      const actions = (await Promise.all(Array.from({ length: Math.ceil(unhappy.length / ID_CHUNK) }, (_, i) => db
        .selectFrom('ticket_events')
        .select(['ticket_id', 'actor', 'at'])
        .where('ticket_id', 'in', unhappy.slice(i * ID_CHUNK, (i + 1) * ID_CHUNK))
        .where('actor', 'not in', ['user', 'system'])
        .orderBy('at')
        .orderBy('id')
        .execute()))).flat();
      const followUp = new Map<string, { at: string; actor: string }>();
      for (const e of actions) {
        const after = ratedAt.get(e.ticket_id);
        if (after !== undefined && e.at > after && !followUp.has(e.ticket_id)) followUp.set(e.ticket_id, { at: e.at, actor: e.actor });
      }
      const at = (text: string | null | undefined): Date | null => (text ? fromStored(text) : null);
      return rows.map((r) => ({
        number: r.number, category: r.category as TicketCategory, channel: r.channel, userId: r.channel_user_id, userName: r.user_name, assignee: r.assignee,
        createdAt: fromStored(r.created_at), firstResponseAt: at(r.first_response_at), resolvedAt: at(r.resolved_at),
        rating: r.rating === null ? null : (Number(r.rating) as Rating), ratedAt: at(ratedAt.get(r.id)),
        followUpAt: at(followUp.get(r.id)?.at), followUpBy: followUp.get(r.id)?.actor ?? null,
      }));
    },

    async requesters(span, least) {
      const rows = await db
        .selectFrom('tickets')
        .select((eb) => ['channel', 'channel_user_id', eb.fn.max('user_name').as('user_name'), eb.fn.countAll<number | string>().as('tickets')])
        .where('created_at', '>=', toStored(span.from))
        .where('created_at', '<', toStored(span.to))
        .groupBy(['channel', 'channel_user_id'])
        .having((eb) => eb.fn.countAll(), '>=', least)
        .execute();
      return rows.map((r) => ({ userId: r.channel_user_id, userName: r.user_name, channel: r.channel, tickets: Number(r.tickets) }));
    },
  };
}
