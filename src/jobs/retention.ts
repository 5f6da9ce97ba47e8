import type { FastifyBaseLogger } from 'fastify';
import { keepFinalDays } from '../report/service.js';
import type { Store } from '../store/index.js';

const DAY_MS = 24 * 3600_000;
/** Retention runs every six hours: deleting a day's worth late by a few hours keeps nothing long. */
const EVERY_MS = 6 * 3600_000;

/** How long messages are kept, in days (RETENTION_CHATTER_DAYS, RETENTION_QUESTION_DAYS). */
export interface Retention {
  /** Group messages the bot did not take up as questions (unaddressed chatter). */
  readonly chatterDays: number;
  /** Questions (inbound messages with a decision); 0 keeps them. */
  readonly questionDays: number;
}

/**
 * Deletes what 个人信息保护法 says not to keep longer than needed: group chatter nobody addressed to
 * the bot after `chatterDays`, questions after `questionDays` when set. The hot board's and the
 * service report's finished days are rolled up first, so their counts outlive the questions.
 * Returns what was deleted.
 */
export async function applyRetention(store: Store, retention: Retention, now = new Date()): Promise<{ chatter: number; questions: number }> {
  await store.insight.rollUp(now);
  await keepFinalDays(store, now);
  const chatter = await store.insight.deleteChatter(new Date(now.getTime() - retention.chatterDays * DAY_MS));
  const questions = retention.questionDays > 0 ? await store.insight.deleteQuestions(new Date(now.getTime() - retention.questionDays * DAY_MS)) : 0;
  return { chatter, questions };
}

/**
 * Runs {@link applyRetention} at start and every six hours; returns a function that stops it.
 * Several instances may run it: deletes are idempotent, roll-ups too.
 */
export function startRetention(store: Store, retention: Retention, log: FastifyBaseLogger, everyMs = EVERY_MS): () => void {
  const run = async (): Promise<void> => {
    try {
      const deleted = await applyRetention(store, retention);
      if (deleted.chatter + deleted.questions > 0) log.info(deleted, '已按保留期限删除过期的群聊消息和提问');
    } catch (err) {
      log.warn({ err }, '按保留期限删除消息失败，下次再试');
    }
  };
  void run();
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
