import type { Kysely } from 'kysely';
import { prepare } from './prepared.js';
import { toStored, type Database, type Row } from './schema.js';

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
  const insert = prepare(db, (r: Row<'processed_updates'>) =>
    db
      .insertInto('processed_updates')
      .values({ channel: r.channel, update_key: r.update_key, created_at: r.created_at })
      .onConflict((oc) => oc.columns(['channel', 'update_key']).doNothing())
      .returning('update_key'));
  const remove = prepare(db, (a: { channel: string; key: string }) =>
    db.deleteFrom('processed_updates').where('channel', '=', a.channel).where('update_key', '=', a.key));
  return {
    async firstSeen(channel, key, now = new Date()) {
      const { rows } = await insert.execute({ channel, update_key: key, created_at: toStored(now) });
      return rows.length > 0;
    },

    async forget(channel, key) {
      await remove.execute({ channel, key });
    },

    async prune(before) {
      const result = await db.deleteFrom('processed_updates').where('created_at', '<', toStored(before)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
