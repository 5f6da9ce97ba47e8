import type { Kysely } from 'kysely';
import { fromStored, toStored, type Database } from './schema.js';

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

/**
 * Suggestions over SQL. `take` is one DELETE ... RETURNING: it removes the row whether or not it has
 * expired (an expired offer is of no more use) and returns it to exactly one caller.
 */
export function suggestionRepository(db: Kysely<Database>): SuggestionRepository {
  return {
    async put(key, entryIds, ttlMs, now = new Date()) {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError(`ttlMs 应为正数，当前为 ${ttlMs}`);
      const row = {
        channel: key.channel,
        chat_id: key.chatId,
        user_id: key.userId,
        suggestion_ids: JSON.stringify(entryIds),
        created_at: toStored(now),
        expires_at: toStored(new Date(now.getTime() + ttlMs)),
      };
      await db
        .insertInto('pending_suggestions')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['channel', 'chat_id', 'user_id']).doUpdateSet({ suggestion_ids: row.suggestion_ids, created_at: row.created_at, expires_at: row.expires_at }),
        )
        .execute();
    },

    async get(key, now = new Date()) {
      const row = await db
        .selectFrom('pending_suggestions')
        .select('suggestion_ids')
        .where('channel', '=', key.channel)
        .where('chat_id', '=', key.chatId)
        .where('user_id', '=', key.userId)
        .where('expires_at', '>', toStored(now))
        .executeTakeFirst();
      return row ? parseIds(row.suggestion_ids) : null;
    },

    async take(key, now = new Date()) {
      const row = await db
        .deleteFrom('pending_suggestions')
        .where('channel', '=', key.channel)
        .where('chat_id', '=', key.chatId)
        .where('user_id', '=', key.userId)
        .returning(['suggestion_ids', 'expires_at'])
        .executeTakeFirst();
      if (!row || fromStored(row.expires_at) <= now) return null;
      return parseIds(row.suggestion_ids);
    },

    async prune(now = new Date()) {
      const result = await db.deleteFrom('pending_suggestions').where('expires_at', '<=', toStored(now)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
