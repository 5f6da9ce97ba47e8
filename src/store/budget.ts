import type { Kysely } from 'kysely';
import { prepare } from './prepared.js';
import { fromStored, toStored, type Database } from './schema.js';

/** Outgoing message budgets in fixed time windows, shared by every gateway instance. */
export interface BudgetRepository {
  /**
   * Counts one message against `key` (a room, an account) if fewer than `limit` were counted in the
   * current window of `windowMs`; true when it was counted, false when the budget is spent. Windows
   * are aligned to the Unix epoch, so every instance agrees where they start without talking to the
   * others. Use one `windowMs` per key. `offsetMs` moves the windows' start: a day in Beijing starts
   * at 16:00 UTC, so a Beijing-day window is `windowMs` a day with `offsetMs` 8 hours.
   */
  tryConsume(key: string, windowMs: number, limit: number, now?: Date, offsetMs?: number): Promise<boolean>;
  /**
   * Counts one request against `key` in the current window whatever the count already is, for rate
   * limits that answer "too many" with how many and until when; returns the count including this
   * request and when the window ends.
   */
  count(key: string, windowMs: number, now?: Date): Promise<{ count: number; resetsAt: Date }>;
  /**
   * Gives back one message counted by `tryConsume` at `now` that was not sent after all (another
   * budget refused it). Nothing when the window has moved on since, or nothing is counted.
   */
  release(key: string, windowMs: number, now?: Date, offsetMs?: number): Promise<void>;
  /**
   * Takes the next send time of `key`, a pace shared by every instance: the times taken are at
   * least `intervalMs` apart, whichever instance takes them, so the sends never bunch at a window's
   * start the way fixed windows let them. Returns the time (epoch ms, not before `nowMs`) to send
   * at, or null when the next free time is more than `aheadMs` after `nowMs`: the caller asks again
   * later instead of queueing behind times already taken, so one with a longer `aheadMs` (a reply)
   * gets in before one with a shorter (a broadcast).
   */
  pace(key: string, intervalMs: number, nowMs: number, aheadMs: number): Promise<number | null>;
  /** Forgets keys whose latest window started before `before` (their count no longer matters); returns how many. */
  prune(before: Date): Promise<number>;
}

/**
 * Budgets over SQL, one row per key holding its latest window, so the table never grows past the
 * number of keys. One INSERT ... ON CONFLICT DO UPDATE ... WHERE ... RETURNING does the whole check:
 * a new window restarts the count at 1, the current one adds 1 only below the limit, and when the
 * WHERE refuses, RETURNING gives no row. Both databases lock the conflicting row for the update and
 * re-check the WHERE against its latest version, so concurrent callers never overspend. A caller
 * whose clock lags into the previous window counts against the newer one instead of resetting it.
 */
export function budgetRepository(db: Kysely<Database>): BudgetRepository {
  /**
   * Counts one against `key`: a newer window restarts the count at 1, the current one adds 1, and
   * with a `limit` only below it (when the WHERE refuses, RETURNING gives no row).
   */
  const countQuery = (a: { key: string; windowStart: string }, limit: number | null) =>
    db
      .insertInto('send_budget')
      .values({ key: a.key, window_start: a.windowStart, count: 1 })
      .onConflict((oc) => {
        const update = oc.column('key').doUpdateSet((eb) => {
          const newer = eb(eb.ref('excluded.window_start'), '>', eb.ref('send_budget.window_start'));
          return {
            count: eb.case().when(newer).then(1).else(eb(eb.ref('send_budget.count'), '+', 1)).end(),
            window_start: eb.case().when(newer).then(eb.ref('excluded.window_start')).else(eb.ref('send_budget.window_start')).end(),
          };
        });
        return limit === null
          ? update
          : update.where((eb) => eb.or([eb(eb.ref('excluded.window_start'), '>', eb.ref('send_budget.window_start')), eb(eb.ref('send_budget.count'), '<', limit)]));
      })
      .returning(['count', 'window_start']);
  const consume = prepare(db, (a: { key: string; windowStart: string; limit: number }) => countQuery(a, a.limit));
  const hit = prepare(db, (a: { key: string; windowStart: string }) => countQuery(a, null));
  const giveBack = prepare(db, (a: { key: string; windowStart: string }) =>
    db
      .updateTable('send_budget')
      .set((eb) => ({ count: eb(eb.ref('count'), '-', 1) }))
      .where('key', '=', a.key)
      .where('window_start', '=', a.windowStart)
      .where('count', '>', 0));
  // One statement: a new key starts at now; a known one moves on from the later of its next time
  // and now, only when that is within `ahead` of now (when the WHERE refuses, RETURNING gives no row).
  const takeSlot = prepare(db, (a: { key: string; now: number; next: number; horizon: number; interval: number }) =>
    db
      .insertInto('send_pace')
      .values({ key: a.key, next_at: a.next })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet((eb) => ({
            next_at: eb(eb.case().when('send_pace.next_at', '>', a.now).then(eb.ref('send_pace.next_at')).else(a.now).end(), '+', a.interval),
          }))
          .where('send_pace.next_at', '<=', a.horizon))
      .returning('next_at'));
  const windowOf = (windowMs: number, now: Date, offsetMs = 0): string => {
    if (!Number.isInteger(windowMs) || windowMs <= 0) throw new RangeError(`windowMs 应为正整数，当前为 ${windowMs}`);
    return toStored(new Date(Math.floor((now.getTime() + offsetMs) / windowMs) * windowMs - offsetMs));
  };
  return {
    async tryConsume(key, windowMs, limit, now = new Date(), offsetMs = 0) {
      const windowStart = windowOf(windowMs, now, offsetMs);
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit 应为非负整数，当前为 ${limit}`);
      if (limit === 0) return false;
      const { rows } = await consume.execute({ key, windowStart, limit });
      return rows.length > 0;
    },

    async count(key, windowMs, now = new Date()) {
      const { rows: [row] } = await hit.execute({ key, windowStart: windowOf(windowMs, now) });
      if (!row) throw new Error('计数没有返回结果');
      return { count: Number(row.count), resetsAt: new Date(fromStored(row.window_start).getTime() + windowMs) };
    },

    async release(key, windowMs, now = new Date(), offsetMs = 0) {
      await giveBack.execute({ key, windowStart: windowOf(windowMs, now, offsetMs) });
    },

    async pace(key, intervalMs, nowMs, aheadMs) {
      if (!(intervalMs > 0) || !(aheadMs >= 0)) throw new RangeError(`发送间隔应为正数、提前量不能为负，当前为 ${intervalMs}、${aheadMs}`);
      const now = Math.floor(nowMs);
      const interval = Math.ceil(intervalMs);
      const { rows: [row] } = await takeSlot.execute({ key, now, next: now + interval, horizon: now + Math.floor(aheadMs), interval });
      return row ? Number(row.next_at) - interval : null;
    },

    async prune(before) {
      const result = await db.deleteFrom('send_budget').where('window_start', '<', toStored(before)).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
