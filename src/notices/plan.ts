import type { NoticeContext } from '../core/notices/notice.js';
import { packable } from '../core/notices/notice.js';
import { planRecipients, type Plan, type Targeting } from '../core/notices/recipients.js';
import { chinaDay, type SearchIndex } from '../core/search/index.js';
import type { SubscriberRepository } from '../store/index.js';

/** Who gets a notice now: the store's candidates for its audience, with their choices about its topics and its items' topics, planned by core/notices. */
export async function planNotice(store: SubscriberRepository, notice: Targeting): Promise<Plan> {
  const topics = [...new Set([...notice.topics, ...notice.items.map((i) => i.category)])];
  return planRecipients(await store.candidates(notice.audience, topics), notice);
}

/** The topics a chat can subscribe to: the categories of the entries that can go into a pack, in pinyin order. */
export function knowledgeTopics(index: SearchIndex, now = new Date()): string[] {
  const day = chinaDay(now);
  return [...new Set(index.entries.filter((e) => packable(e, day)).map((e) => e.category))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
}

/** What a notice is checked against: the index as loaded now. */
export function noticeContext(index: SearchIndex, now = new Date()): NoticeContext {
  return { entry: (id) => index.entry(id), topics: new Set(knowledgeTopics(index, now)), today: chinaDay(now) };
}
