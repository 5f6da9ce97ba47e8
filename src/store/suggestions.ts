import type { CompiledQuery, Kysely } from 'kysely';
import { prepare } from './prepared.js';
import { fromStored, toStored, type Database, type Row } from './schema.js';

/** Whose suggestions: one user in one chat (store ids from `identities`). */
export interface SuggestionKey {
  readonly channel: string;
  readonly chatId: string;
  readonly userId: string;
}

/**
 * The entries last offered as "您是不是想问：1. ... 2. ...", so that a reply "2" picks the second one
 * whichever gateway instance receives it.
 */
export interface SuggestionRepository {
  /** Offers `entryIds` (in order) to this user, replacing any earlier offer, until `ttlMs` from now. */
  put(key: SuggestionKey, entryIds: readonly string[], ttlMs: number, now?: Date): Promise<void>;
  /** The pending offer, left in place; null when there is none or it has expired. */
  get(key: SuggestionKey, now?: Date): Promise<string[] | null>;
  /**
   * The pending offer, removed so it is used once; null when there is none or it has expired. Of two
   * concurrent takes only one gets the offer.
   */
  take(key: SuggestionKey, now?: Date): Promise<string[] | null>;
  /** Removes offers that expired before `now` and were never taken; returns how many. */
  prune(now?: Date): Promise<number>;
}

function parseIds(json: string): string[] {
  const ids: unknown = JSON.parse(json);
  if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) throw new Error(`pending_suggestions 中的建议不是字符串数组：${json}`);
  return ids;
}

type Key = { channel: string; chatId: string; userId: string };

/** The statements that replace and clear an offer, for a caller that runs them in its own unit (intake). */
export interface SuggestionStatements {
  put(key: SuggestionKey, entryIds: readonly string[], ttlMs: number, now: Date): CompiledQuery;
  take(key: SuggestionKey): CompiledQuery;
}

/** Compiles the offer statements once. */
export function suggestionStatements(db: Kysely<Database>): SuggestionStatements {
  const upsert = prepare(db, (r: Row<'pending_suggestions'>) =>
    db
      .insertInto('pending_suggestions')
      .values({ channel: r.channel, chat_id: r.chat_id, user_id: r.user_id, suggestion_ids: r.suggestion_ids, created_at: r.created_at, expires_at: r.expires_at })
      .onConflict((oc) =>
        oc.columns(['channel', 'chat_id', 'user_id']).doUpdateSet((eb) => ({
          suggestion_ids: eb.ref('excluded.suggestion_ids'),
          created_at: eb.ref('excluded.created_at'),
          expires_at: eb.ref('excluded.expires_at'),
        })),
      ));
  const remove = prepare(db, (a: Key) =>
    db
      .deleteFrom('pending_suggestions')
      .where('channel', '=', a.channel)
      .where('chat_id', '=', a.chatId)
      .where('user_id', '=', a.userId)
      .returning(['suggestion_ids', 'expires_at']));
  return {
    put(key, entryIds, ttlMs, now) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs 应为正数，当前为 ${ttlMs}`);
      return upsert.compile({
        channel: key.channel,
        chat_id: key.chatId,
        user_id: key.userId,
        suggestion_ids: JSON.stringify(entryIds),
        created_at: toStored(now),
        expires_at: toStored(new Date(now.getTime() + ttlMs)),
      });
    },
    take: (key) => remove.compile({ channel: key.channel, chatId: key.chatId, userId: key.userId }),
  };
}

/**
 * Suggestions over SQL. `take` is one DELETE ... RETURNING: it removes the row whether or not it has
 * expired (an expired offer is of no more use) and returns it to exactly one caller.
 */
export function suggestionRepository(db: Kysely<Database>): SuggestionRepository {
  const statements = suggestionStatements(db);
  const pending = prepare(db, (a: Key & { now: string }) =>
    db
      .selectFrom('pending_suggestions')
      .select('suggestion_ids')
      .where('channel', '=', a.channel)
      .where('chat_id', '=', a.chatId)
      .where('user_id', '=', a.userId)
      .where('expires_at', '>', a.now));
  return {
    async put(key, entryIds, ttlMs, now = new Date()) {
      await db.executeQuery(statements.put(key, entryIds, ttlMs, now));
    },

    async get(key, now = new Date()) {
      const { rows: [row] } = await pending.execute({ channel: key.channel, chatId: key.chatId, userId: key.userId, now: toStored(now) });
      return row ? parseIds(row.suggestion_ids) : null;
    },

    async take(key, now = new Date()) {
      const { rows: [row] } = await db.executeQuery(statements.take(key) as CompiledQuery<{ suggestion_ids: string; expires_at: string }>);
      if (!row || fromStored(row.expires_at) <= now) return null;
      return parseIds(row.suggestion_ids);
    },

    async prune(now = new Date()) {
      const result = await db.deleteFrom('pending_suggestions').where('expires_at', '<=', toStored(now)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
