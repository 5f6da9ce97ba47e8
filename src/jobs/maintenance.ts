import type { FastifyBaseLogger } from 'fastify';
import { keepFinalDays } from '../report/service.js';
import type { Store } from '../store/index.js';

const EVERY_MS = 3600_000;
/** Budget windows are a day at most (WeChat's day of broadcasts); a key idle for two has nothing left to count. */
const BUDGET_KEEP_MS = 2 * 86_400_000;
/**
 * Finished outbox rows are kept a week (the conversation log keeps the text for good); rows with a
 * dedupe key are kept, so a notice is never queued twice.
 */
const OUTBOX_KEEP_MS = 7 * 24 * 3600_000;

/**
 * Hourly clean-up of state that only matters for a while: expired suggestion offers, idle
 * send/flood counters and finished outbox rows; and the service report's figures of each day that
 * has become final, so reports read them instead of counting messages. Returns a function that stops it. Several
 * instances may run it: deletes are idempotent.
 */
export function startMaintenance(store: Store, log: FastifyBaseLogger, everyMs = EVERY_MS): () => void {
  const run = async (): Promise<void> => {
    try {
      const now = new Date();
      const offers = await store.suggestions.prune(now);
      const budgets = await store.budget.prune(new Date(now.getTime() - BUDGET_KEEP_MS));
      const outbox = await store.outbox.prune(new Date(now.getTime() - OUTBOX_KEEP_MS));
      if (offers + budgets + outbox > 0) log.info({ offers, budgets, outbox }, '已清理过期的建议、发送计数和已完成的发送记录');
      const days = await keepFinalDays(store, now);
      if (days > 0) log.info({ days }, '已保存服务报告的每日统计');
    } catch (err) {
      log.warn({ err }, '清理过期数据失败，下次再试');
    }
  };
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
