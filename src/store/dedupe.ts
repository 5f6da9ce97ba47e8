import type { Kysely } from 'kysely';
import { toStored, type Database } from './schema.js';

/** Remembers which inbound updates were handled, across restarts and instances. */
export interface DedupeRepository {
  /**
   * True for the first caller with this channel and key, false for every later one, also when they
   * call at the same moment on different instances. Keys: Telegram's `update_id`, Wechaty's
   * message id.
   */
  firstSeen(channel: string, key: string, now?: Date): Promise<boolean>;
  /** Forgets keys first seen before `before` (Telegram retries for a day at most); returns how many. */
  prune(before: Date): Promise<number>;
  /** Forgets one key, so a retry of an update whose handling failed is handled again. */
  forget(channel: string, key: string): Promise<void>;
}

/**
 * Dedupe over SQL: INSERT ... ON CONFLICT DO NOTHING RETURNING gives a row only to the insert that
 * created it, and the primary key decides between concurrent ones.
 */
export function dedupeRepository(db: Kysely<Database>): DedupeRepository {
  return {
    async firstSeen(channel, key, now = new Date()) {
      const row = await db
        .insertInto('processed_updates')
        .values({ channel, update_key: key, created_at: toStored(now) })
        .onConflict((oc) => oc.columns(['channel', 'update_key']).doNothing())
        .returning('update_key')
        .executeTakeFirst();
      return row !== undefined;
    },

    async forget(channel, key) {
      await db.deleteFrom('processed_updates').where('channel', '=', channel).where('update_key', '=', key).execute();
    },

    async prune(before) {
      const result = await db.deleteFrom('processed_updates').where('created_at', '<', toStored(before)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
