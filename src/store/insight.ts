import { sql, type CompiledQuery, type ExpressionBuilder, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { TopicCount } from '../core/insight/board.js';
import { INBOX_REASONS, type KeyCount } from '../core/insight/inbox.js';
import { addDays, beijingDay, daysBetween, dayStart, type PeriodRange } from '../core/insight/periods.js';
import type { Together } from './connect.js';
import { newId } from './ids.js';
import { prepare } from './prepared.js';
import { fromStored, toStored, type Database, type InboxDecisionsTable, type Row } from './schema.js';

/** Which questions a board counts: a period, and optionally one tax office or one chat. */
export interface BoardFilter {
  readonly range: PeriodRange;
  /** The office of the chat's taxpayer profile (subscriber_chats → subscribers.office). */
  readonly office?: string | null;
  /** A chat's store id. */
  readonly chatId?: string | null;
}

/** An answered question shown behind a board row (its text masked at rest). */
export interface BoardMessage {
  readonly id: string;
  readonly channel: string;
  readonly chatId: string;
  readonly chatTitle: string | null;
  readonly text: string;
  readonly score: number | null;
  readonly at: Date;
}

/** A chat the board can be narrowed to. */
export interface BoardChat {
  readonly id: string;
  readonly channel: string;
  readonly kind: string;
  readonly title: string | null;
  readonly office: string | null;
}

/** What staff decided about a group of unanswered questions. */
export interface NewInboxDecision {
  readonly state: 'attached' | 'dismissed';
  readonly entryId: string | null;
  readonly keys: readonly string[];
  readonly examples: readonly string[];
  readonly by: string | null;
  readonly at: Date;
}

/** A decision as stored, with what happened to the same questions since. */
export interface InboxDecision extends NewInboxDecision {
  readonly id: string;
  /** Questions with one of the keys answered after the decision: the inbox at work. */
  readonly answeredSince: number;
  /** Questions with one of the keys still declined after it. */
  readonly declinedSince: number;
}

/** A knowledge file as written from the console. */
export interface KnowledgeRevision {
  readonly id: string;
  /** Relative to the knowledge folder, with `/`. */
  readonly path: string;
  readonly content: string;
  readonly summary: string;
  readonly createdBy: string | null;
  readonly createdAt: Date;
}

/**
 * The figures staff open every morning, over the conversation log: the hot-questions board (answered
 * questions by topic, rolled up per Beijing day once a day can no longer change, the last two days
 * counted live), the unanswered inbox (declined questions counted by analyzer key as they arrive,
 * and staff's decisions), the knowledge revisions every instance applies, and retention.
 */
export interface InsightRepository {
  /** Rolls up every day from the first answered question to the day before yesterday not rolled up yet; returns how many. */
  rollUp(now: Date): Promise<number>;
  /** Topic counts in the period and the one before (unranked; core/insight/board.ts ranks them). */
  board(filter: BoardFilter, now: Date): Promise<TopicCount[]>;
  /** The newest answered questions of one topic in the period, newest first. */
  boardMessages(entryId: string, filter: BoardFilter, limit: number): Promise<BoardMessage[]>;
  /** Offices of the taxpayer profiles, and the chats seen (groups first), for the board's filters. */
  boardFilters(): Promise<{ offices: string[]; chats: BoardChat[] }>;
  /** Declined question keys nobody has acted on. */
  openKeys(): Promise<KeyCount[]>;
  /**
   * A text that changes whenever {@link openKeys} would answer differently: the open keys' questions
   * (a count only grows, and a new key adds one) and the decisions taken (the only way a key stops
   * being open). Cheap beside reading and grouping the keys, so a reader can keep its grouping until it changes.
   */
  openKeysVersion(): Promise<string>;
  /** Up to `limit` declined questions with these keys: the newest of each key in the order given (most asked first), then sorted newest first. */
  examples(keys: readonly string[], limit: number): Promise<{ text: string; at: Date }[]>;
  /** Records a decision and takes its keys out of the inbox; returns its id. */
  decide(decision: NewInboxDecision): Promise<string>;
  /** Decisions, newest first, with the questions answered and declined since each. */
  decisions(limit: number): Promise<InboxDecision[]>;
  /** Every decision's examples as evaluation cases: attached ones expect their entry, dismissed ones none. */
  evalCases(): Promise<{ q: string; topic: string | null }[]>;
  /** Records a file written from the console. */
  addRevision(revision: Omit<KnowledgeRevision, 'id' | 'createdAt'>, at?: Date): Promise<KnowledgeRevision>;
  /** Revisions after `afterId` (all with null), oldest first. */
  revisionsAfter(afterId: string | null): Promise<KnowledgeRevision[]>;
  /** The newest revision's id, or null. */
  latestRevision(): Promise<string | null>;
  /** Deletes inbound group messages with no decision older than `before`; returns how many. */
  deleteChatter(before: Date): Promise<number>;
  /** Deletes inbound questions (messages with a decision) older than `before`; returns how many. */
  deleteQuestions(before: Date): Promise<number>;
}

/** The inbox's count of a declined question, for a caller that stores it in its own unit (intake). */
export type InboxCount = (decision: { answered: boolean; reason: string | null; questionKey?: string | null } | null | undefined, at: Date) => CompiledQuery | null;

/** Compiles the inbox's upsert once: a declined question's key counted, its first and last time kept. */
export function inboxCount(db: Kysely<Database>): InboxCount {
  const upsert = prepare(db, (a: { key: string; at: string }) =>
    db
      .insertInto('inbox_keys')
      .values({ key: a.key, count: 1, first_at: a.at, last_at: a.at, state: 'open', decision_id: null })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: eb('inbox_keys.count', '+', 1),
          first_at: eb.case().when('excluded.first_at', '<', eb.ref('inbox_keys.first_at')).then(eb.ref('excluded.first_at')).else(eb.ref('inbox_keys.first_at')).end(),
          last_at: eb.case().when('excluded.last_at', '>', eb.ref('inbox_keys.last_at')).then(eb.ref('excluded.last_at')).else(eb.ref('inbox_keys.last_at')).end(),
        })),
      ));
  return (d, at) => (d && !d.answered && d.questionKey && INBOX_REASONS.includes(d.reason ?? '') ? upsert.compile({ key: d.questionKey, at: toStored(at) }) : null);
}

/** Days counted live rather than rolled up: today and yesterday (a late webhook retry can still add to yesterday). */
const LIVE_DAYS = 2;
/**
 * Rows deleted per statement by retention, with a turn of the event loop between statements: a
 * SQLite delete runs on this thread, and a first run over months of chatter must not hold requests.
 */
const DELETE_BATCH = 1_000;

const num = (v: unknown): number => Number(v ?? 0);

/** The chats of taxpayers of one office, as a condition on `m.chat_id`. */
const inOffice = (office: string) => sql`m.chat_id in (
  select c.id from chats c
  join subscriber_chats sc on sc.channel = c.channel and sc.channel_chat_id = c.channel_chat_id
  join subscribers s on s.id = sc.subscriber_id
  where s.office = ${office})`;

function toDecision(row: Row<'inbox_decisions'>, answered: number, declined: number): InboxDecision {
  return {
    id: row.id, state: row.state, entryId: row.entry_id, keys: JSON.parse(row.keys) as string[], examples: JSON.parse(row.examples) as string[],
    by: row.decided_by, at: fromStored(row.decided_at), answeredSince: answered, declinedSince: declined,
  };
}

function toRevision(row: Row<'knowledge_revisions'>): KnowledgeRevision {
  return { id: row.id, path: row.path, content: row.content, summary: row.summary, createdBy: row.created_by, createdAt: fromStored(row.created_at) };
}

/** The insight figures over SQL, the same on SQLite and PostgreSQL. */
export function insightRepository(db: Kysely<Database>, together: Together): InsightRepository {
  /** Rolls up the given days (each with its marker, as one unit, so a day is in whole or not at all). */
  const rollDays = async (days: readonly string[], now: Date): Promise<void> => {
    for (const day of days) {
      const from = toStored(dayStart(day));
      const to = toStored(dayStart(addDays(day, 1)));
      await together([
        sql`insert into question_days (day, office, entry_id, count)
          select cast(${day} as text), coalesce(s.office, ''), m.entry_id, count(*)
          from messages m
          join chats c on c.id = m.chat_id
          left join subscriber_chats sc on sc.channel = c.channel and sc.channel_chat_id = c.channel_chat_id
          left join subscribers s on s.id = sc.subscriber_id
          where m.answered = 1 and m.entry_id is not null and m.created_at >= ${from} and m.created_at < ${to}
          group by coalesce(s.office, ''), m.entry_id
          on conflict (day, office, entry_id) do nothing`.compile(db),
        db.insertInto('rolled_days').values({ day, rolled_at: toStored(now) }).onConflict((oc) => oc.column('day').doNothing()).compile(),
      ]);
    }
  };

  /** Days in [first, end) that could be rolled up by `now` and are not yet. */
  const unrolled = async (first: string, end: string, now: Date): Promise<string[]> => {
    const last = addDays(beijingDay(now), -LIVE_DAYS);
    const upTo = end <= last ? end : addDays(last, 1);
    if (first >= upTo) return [];
    const done = new Set((await db.selectFrom('rolled_days').select('day').where('day', '>=', first).where('day', '<', upTo).execute()).map((r) => r.day));
    return daysBetween(first, upTo).filter((d) => !done.has(d));
  };

  const countLive = async (filter: BoardFilter, from: Date, to: Date): Promise<TopicCount[]> => {
    const { range } = filter;
    const { rows } = await sql<{ entry_id: string; count: unknown; previous: unknown }>`
      select m.entry_id,
        sum(case when m.created_at >= ${toStored(range.from)} then 1 else 0 end) as count,
        sum(case when m.created_at < ${toStored(range.from)} then 1 else 0 end) as previous
      from messages m
      where m.answered = 1 and m.entry_id is not null and m.created_at >= ${toStored(from)} and m.created_at < ${toStored(to)}
        ${filter.chatId ? sql`and m.chat_id = ${filter.chatId}` : sql``}
        ${filter.office ? sql`and ${inOffice(filter.office)}` : sql``}
      group by m.entry_id`.execute(db);
    return rows.map((r) => ({ id: r.entry_id, count: num(r.count), previous: num(r.previous) }));
  };

  const revisionsQuery = db.selectFrom('knowledge_revisions').selectAll();

  /** Deletes the messages `batch` picks, a batch per statement, until a batch comes up short. */
  const deleteInBatches = async (batch: (eb: ExpressionBuilder<Database, 'messages'>) => SelectQueryBuilder<Database, never, { id: string }>): Promise<number> => {
    let total = 0;
    for (;;) {
      const result = await db.deleteFrom('messages').where('id', 'in', batch).executeTakeFirst();
      const n = num(result.numDeletedRows);
      total += n;
      if (n < DELETE_BATCH) return total;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  return {
    async rollUp(now) {
      const first = await db.selectFrom('messages').select((eb) => eb.fn.min('created_at').as('first')).where('answered', '=', 1).executeTakeFirst();
      if (!first?.first) return 0;
      const days = await unrolled(beijingDay(fromStored(first.first)), addDays(beijingDay(now), 1), now);
      await rollDays(days, now);
      return days.length;
    },

    async board(filter, now) {
      const { range } = filter;
      const end = toStored(range.to) > toStored(now) ? now : range.to;
      // One chat's questions are few: counted straight from the log (its chat index).
      if (filter.chatId) return countLive(filter, range.previousFrom, end);
      const endDay = beijingDay(new Date(range.to.getTime() - 1));
      await rollDays(await unrolled(range.previousFirstDay, addDays(endDay, 1), now), now);
      const liveFirst = addDays(beijingDay(now), -LIVE_DAYS + 1);
      const rolledEnd = liveFirst < addDays(endDay, 1) ? liveFirst : addDays(endDay, 1);
      const rolled = range.previousFirstDay < rolledEnd
        ? (await sql<{ entry_id: string; count: unknown; previous: unknown }>`
            select entry_id,
              sum(case when day >= ${range.firstDay} then count else 0 end) as count,
              sum(case when day < ${range.firstDay} then count else 0 end) as previous
            from question_days
            where day >= ${range.previousFirstDay} and day < ${rolledEnd}
              ${filter.office ? sql`and office = ${filter.office}` : sql``}
            group by entry_id`.execute(db)).rows.map((r) => ({ id: r.entry_id, count: num(r.count), previous: num(r.previous) }))
        : [];
      const liveFrom = dayStart(liveFirst) > range.previousFrom ? dayStart(liveFirst) : range.previousFrom;
      const live = liveFrom < end ? await countLive(filter, liveFrom, end) : [];
      return [...rolled, ...live];
    },

    async boardMessages(entryId, filter, limit) {
      // Ordered by time alone, so messages_topic_time (entry_id, created_at) yields the newest first and
      // the scan stops at `limit`; a tie-break on id would make PostgreSQL read the whole period and sort it.
      const { rows } = await sql<{ id: string; channel: string; chat_id: string; title: string | null; text: string; score: number | null; created_at: string }>`
        select m.id, m.channel, m.chat_id, c.title, m.text, m.score, m.created_at
        from messages m join chats c on c.id = m.chat_id
        where m.answered = 1 and m.entry_id = ${entryId} and m.created_at >= ${toStored(filter.range.from)} and m.created_at < ${toStored(filter.range.to)}
          ${filter.chatId ? sql`and m.chat_id = ${filter.chatId}` : sql``}
          ${filter.office ? sql`and ${inOffice(filter.office)}` : sql``}
        order by m.created_at desc
        limit ${limit}`.execute(db);
      return rows.map((r) => ({ id: r.id, channel: r.channel, chatId: r.chat_id, chatTitle: r.title, text: r.text, score: r.score, at: fromStored(r.created_at) }));
    },

    async boardFilters() {
      const offices = await db.selectFrom('subscribers').select('office').distinct().where('office', 'is not', null).orderBy('office').execute();
      const chats = await sql<{ id: string; channel: string; kind: string; title: string | null; office: string | null }>`
        select c.id, c.channel, c.kind, c.title, s.office
        from chats c
        left join subscriber_chats sc on sc.channel = c.channel and sc.channel_chat_id = c.channel_chat_id
        left join subscribers s on s.id = sc.subscriber_id
        where c.channel <> 'web'
        order by case when c.kind = 'group' then 0 else 1 end, c.title, c.id
        limit 1000`.execute(db);
      return { offices: offices.map((o) => o.office as string), chats: chats.rows.map((c) => ({ ...c })) };
    },

    async openKeys() {
      const rows = await db.selectFrom('inbox_keys').select(['key', 'count', 'first_at', 'last_at']).where('state', '=', 'open').execute();
      return rows.map((r) => ({ key: r.key, count: num(r.count), firstAt: fromStored(r.first_at), lastAt: fromStored(r.last_at) }));
    },

    async openKeysVersion() {
      const [open, decided] = await Promise.all([
        db.selectFrom('inbox_keys').select((eb) => eb.fn.sum<number | string>('count').as('questions')).where('state', '=', 'open').executeTakeFirst(),
        db.selectFrom('inbox_decisions').select((eb) => eb.fn.countAll<number | string>().as('decisions')).executeTakeFirst(),
      ]);
      return `${num(open?.questions)}:${num(decided?.decisions)}`;
    },

    async examples(keys, limit) {
      // Key by key, most asked first, each the newest of its own (index messages_question_key): one
      // statement over every key of a large group would read and sort all its messages.
      const out: { text: string; at: Date }[] = [];
      for (const key of keys) {
        if (out.length >= limit) break;
        const rows = await db
          .selectFrom('messages')
          .select(['text', 'created_at'])
          .where('question_key', '=', key)
          .where('answered', '=', 0)
          .orderBy('created_at', 'desc')
          .limit(limit - out.length)
          .execute();
        out.push(...rows.map((r) => ({ text: r.text, at: fromStored(r.created_at) })));
      }
      return out.sort((a, b) => b.at.getTime() - a.at.getTime());
    },

    async decide(decision) {
      const id = newId();
      const row: InboxDecisionsTable = {
        id, state: decision.state, entry_id: decision.entryId, keys: JSON.stringify(decision.keys), examples: JSON.stringify(decision.examples),
        decided_by: decision.by, decided_at: toStored(decision.at),
      };
      await together([
        db.insertInto('inbox_decisions').values(row).compile(),
        db.updateTable('inbox_keys').set({ state: decision.state, decision_id: id }).where('key', 'in', [...decision.keys]).where('state', '=', 'open').compile(),
      ]);
      return id;
    },

    async decisions(limit) {
      const rows = await db.selectFrom('inbox_decisions').selectAll().orderBy('decided_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return Promise.all(rows.map(async (row) => {
        const keys = JSON.parse(row.keys) as string[];
        const counts = keys.length === 0 ? null : await db
          .selectFrom('messages')
          .select((eb) => [
            eb.fn.sum<number>(eb.case().when('answered', '=', 1).then(1).else(0).end()).as('answered'),
            eb.fn.sum<number>(eb.case().when('answered', '=', 0).then(1).else(0).end()).as('declined'),
          ])
          .where('question_key', 'in', keys)
          .where('created_at', '>', row.decided_at)
          .executeTakeFirst();
        return toDecision(row, num(counts?.answered), num(counts?.declined));
      }));
    },

    async evalCases() {
      const rows = await db.selectFrom('inbox_decisions').select(['state', 'entry_id', 'examples']).orderBy('decided_at').orderBy('id').execute();
      return rows.flatMap((r) => (JSON.parse(r.examples) as string[]).map((q) => ({ q, topic: r.state === 'attached' ? r.entry_id : null })));
    },

    async addRevision(revision, at = new Date()) {
      const row = { id: newId(), path: revision.path, content: revision.content, summary: revision.summary, created_by: revision.createdBy, created_at: toStored(at) };
      await db.insertInto('knowledge_revisions').values(row).execute();
      return toRevision(row);
    },

    async revisionsAfter(afterId) {
      const rows = await (afterId ? revisionsQuery.where('id', '>', afterId) : revisionsQuery).orderBy('id').execute();
      return rows.map(toRevision);
    },

    async latestRevision() {
      const row = await db.selectFrom('knowledge_revisions').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row?.id ?? null;
    },

    deleteChatter: (before) => deleteInBatches((eb) => eb
      .selectFrom('messages as m')
      .innerJoin('chats as c', 'c.id', 'm.chat_id')
      .select('m.id')
      .where('m.answered', 'is', null)
      .where('m.direction', '=', 'in')
      .where('c.kind', '=', 'group')
      .where('m.created_at', '<', toStored(before))
      .limit(DELETE_BATCH)),

    deleteQuestions: (before) => deleteInBatches((eb) => eb
      .selectFrom('messages')
      .select('id')
      .where('answered', 'is not', null)
      .where('direction', '=', 'in')
      .where('created_at', '<', toStored(before))
      .limit(DELETE_BATCH)),
  };
}
