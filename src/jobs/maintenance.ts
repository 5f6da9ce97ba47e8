import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '../store/index.js';

/** Telegram retries an update for a day at most; keys are kept twice as long. */
const DEDUPE_KEEP_MS = 2 * 24 * 3600_000;
const EVERY_MS = 3600_000;
/** Budget windows are a minute at most; a key idle for an hour has nothing left to count. */
const BUDGET_KEEP_MS = 3600_000;

/**
 * Hourly clean-up of state that only matters for a while: handled-update keys, expired
 * suggestion offers and idle send/flood counters. Returns a function that stops it. Several instances may run it: deletes are
 * idempotent.
 */
export function startMaintenance(store: Store, log: FastifyBaseLogger, everyMs = EVERY_MS): () => void {
  const run = async (): Promise<void> => {
    try {
      const now = new Date();
      const keys = await store.dedupe.prune(new Date(now.getTime() - DEDUPE_KEEP_MS));
      const offers = await store.suggestions.prune(now);
      const budgets = await store.budget.prune(new Date(now.getTime() - BUDGET_KEEP_MS));
      if (keys + offers + budgets > 0) log.info({ keys, offers, budgets }, '已清理过期的去重记录、建议和发送计数');
    } catch (err) {
      log.warn({ err }, '清理过期数据失败，下次再试');
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
