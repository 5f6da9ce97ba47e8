import { sql, type Kysely } from 'kysely';
import { PICKED, QUESTION_REASONS, minutesBetween, type DeadlineTally, type OfficeReads, type QuestionGroup, type RepeatRequester, type TicketDue, type TicketTallies } from '../core/report/figures.js';
import type { Rating } from '../core/tickets/lifecycle.js';
import { chinaDay, startOfChinaDay, type Period } from '../core/report/period.js';
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
   * The ticket figures' tallies of the period, counted by the database; the deadlines of the
   * registered tickets as `dues` gives them for the categories registered. Assignees and follow-up
   * actors of the 不满意 are account ids.
   */
  ticketTallies(period: Period, dues: (categories: readonly string[]) => readonly TicketDue[]): Promise<TicketTallies>;
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

    async ticketTallies(period, duesOf) {
      const from = toStored(period.from);
      const to = toStored(period.to);
      // Each figure from one index range that holds the columns it reads (migration 0013), counted
      // or cut down by the database: a month is thousands of tickets, and reading them row by row
      // cost more than everything else in the report. The figures are independent: on PostgreSQL
      // they are counted side by side.
      const registeredAndDeadlines = async (): Promise<Pick<TicketTallies, 'registered' | 'deadlines'>> => {
        const rows = await db
          .selectFrom('tickets')
          .select((eb) => ['category', 'channel', eb.fn.countAll<number | string>().as('count')])
          .where('created_at', '>=', from)
          .where('created_at', '<', to)
          .groupBy(['category', 'channel'])
          .execute();
        const registered = rows.map((r) => ({ category: r.category, channel: r.channel, count: Number(r.count) }));
        const dues = duesOf([...new Set(registered.map((r) => r.category))]);
        if (dues.length === 0) return { registered, deadlines: [] };
        // Each ticket meets the deadlines of its Beijing day of registration through an equality join on
        // a day key both databases make from the stored UTC text alone: the UTC date, with '+' from
        // 16:00, which in Beijing (UTC+8) is the next day. A join on the days' ranges had SQLite index
        // the whole table by category.
        const keys = dues.flatMap((d, i) => {
          const day = chinaDay(d.from);
          return [day, `${startOfChinaDay(day).toISOString().slice(0, 10)}+`].map((key) =>
            sql`(${sql.lit(i)}, ${key}, ${d.category}, ${toStored(d.firstResponse)}, ${toStored(d.resolution)})`);
        });
        const { rows: counts } = await sql<{ i: number | string } & Record<'fm' | 'fl' | 'fo' | 'rm' | 'rl' | 'ro', number | string>>`
          with dues (i, day, category, first_due, due) as (values ${sql.join(keys)})
          select d.i,
            sum(case when t.first_response_at <= d.first_due then 1 else 0 end) as fm,
            sum(case when t.first_response_at > d.first_due then 1 else 0 end) as fl,
            sum(case when t.first_response_at is null then 1 else 0 end) as fo,
            sum(case when t.resolved_at <= d.due then 1 else 0 end) as rm,
            sum(case when t.resolved_at > d.due then 1 else 0 end) as rl,
            sum(case when t.resolved_at is null then 1 else 0 end) as ro
          from tickets t
          join dues d on d.day = substr(t.created_at, 1, 10) || case when substr(t.created_at, 12, 2) >= '16' then '+' else '' end and d.category = t.category
          where t.created_at >= ${from} and t.created_at < ${to}
          group by d.i`.execute(db);
        const tally = (met: unknown, late: unknown, open: unknown): DeadlineTally => ({ met: Number(met), late: Number(late), open: Number(open) });
        return { registered, deadlines: counts.map((r) => ({ due: dues[Number(r.i)] as TicketDue, firstResponse: tally(r.fm, r.fl, r.fo), resolution: tally(r.rm, r.rl, r.ro) })) };
      };
      const minutes = async (column: 'first_response_at' | 'resolved_at'): Promise<number[]> => {
        const rows = await db.selectFrom('tickets').select(['created_at', column]).where(column, '>=', from).where(column, '<', to).execute();
        return rows.map((r) => minutesBetween(fromStored(r.created_at), fromStored(r[column] as string)));
      };
      const ratings = async (): Promise<TicketTallies['ratings']> => {
        const rows = await db
          .selectFrom(db.selectFrom('ticket_events').select('ticket_id').where('type', '=', 'rated').where('at', '>=', from).where('at', '<', to).groupBy('ticket_id').as('e'))
          .innerJoin('tickets as t', 't.id', 'e.ticket_id')
          .select((eb) => ['t.rating', eb.fn.countAll<number | string>().as('count')])
          .where('t.rating', 'is not', null)
          .groupBy('t.rating')
          .execute();
        return rows.map((r) => ({ rating: Number(r.rating) as Rating, count: Number(r.count) }));
      };
      // Each 不满意 with its last rating in the period, and the first action of a person after it (the follow-up).
      const dissatisfied = async (): Promise<TicketTallies['dissatisfied']> => {
        const unhappy = await db
          .selectFrom('ticket_events as e')
          .innerJoin('tickets as t', 't.id', 'e.ticket_id')
          .select((eb) => ['t.id', 't.number', 't.category', 't.assignee', eb.fn.max('e.at').as('rated_at')])
          .where('e.type', '=', 'rated')
          .where('e.at', '>=', from)
          .where('e.at', '<', to)
          .where('t.rating', '=', 3)
          .groupBy(['t.id', 't.number', 't.category', 't.assignee'])
          .execute();
        const ratedAt = new Map(unhappy.map((u) => [u.id, u.rated_at as string]));
        const actions = (await Promise.all(Array.from({ length: Math.ceil(unhappy.length / ID_CHUNK) }, (_, i) => db
          .selectFrom('ticket_events')
          .select(['ticket_id', 'actor', 'at'])
          .where('ticket_id', 'in', unhappy.slice(i * ID_CHUNK, (i + 1) * ID_CHUNK).map((u) => u.id))
          .where('actor', 'not in', ['user', 'system'])
          .orderBy('at')
          .orderBy('id')
          .execute()))).flat();
        const followUp = new Map<string, { at: string; actor: string }>();
        for (const e of actions) {
          const after = ratedAt.get(e.ticket_id);
          if (after !== undefined && e.at > after && !followUp.has(e.ticket_id)) followUp.set(e.ticket_id, { at: e.at, actor: e.actor });
        }
        return unhappy.map((u) => {
          const f = followUp.get(u.id);
          return { number: u.number, category: u.category, assignee: u.assignee, ratedAt: fromStored(u.rated_at as string), followUpAt: f ? fromStored(f.at) : null, followUpBy: f?.actor ?? null };
        });
      };
      const [counted, firstResponseMinutes, resolutionMinutes, rated, unhappy] = await Promise.all([
        registeredAndDeadlines(), minutes('first_response_at'), minutes('resolved_at'), ratings(), dissatisfied(),
      ]);
      return { ...counted, firstResponseMinutes, resolutionMinutes, ratings: rated, dissatisfied: unhappy };
    },

    async requesters(span, least) {
      // The span's range of tickets_created holds these columns; materialized, so SQLite does not
      // read the whole of tickets_requester instead because it is in the grouping's order.
      const { rows } = await sql<{ channel: string; channel_user_id: string; user_name: string | null; tickets: number | string }>`
        with span as materialized (
          select channel, channel_user_id, user_name from tickets where created_at >= ${toStored(span.from)} and created_at < ${toStored(span.to)}
        )
        select channel, channel_user_id, max(user_name) as user_name, count(*) as tickets
        from span
        group by channel, channel_user_id
        having count(*) >= ${least}`.execute(db);
      return rows.map((r) => ({ userId: r.channel_user_id, userName: r.user_name, channel: r.channel, tickets: Number(r.tickets) }));
    },
  };
}
