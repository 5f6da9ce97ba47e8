import type { Entry } from '../search/types.js';
import { readAudience, type Audience } from './audience.js';

/**
 * A reminder round: sent `afterHours` after the notice to recipients who have not read it yet,
 * with its own text or, without one, the notice's title after 【提醒】.
 */
export interface Reminder {
  readonly afterHours: number;
  readonly text: string | null;
}

/**
 * A knowledge entry as put into a pack: copied when the notice is saved, so what recipients get is
 * what staff previewed, whatever the knowledge folder says by the time it is sent.
 */
export interface NoticeItem {
  readonly entryId: string;
  readonly title: string;
  /** The entry's category: the item's topic for subscriptions. */
  readonly category: string;
  /** The entry's answer text. */
  readonly body: string;
  readonly sources: readonly string[];
  /** Who the item is for (the entry's `audience` tags, read into stored values); `{}` everyone. */
  readonly audience: Audience;
}

/** A notice as composed: a plain notice has no items, a policy pack has some. */
export interface NoticeDraft {
  readonly title: string;
  /** The notice's text; for a pack, its cover note. */
  readonly text: string;
  readonly audience: Audience;
  /** Topics (knowledge categories) a chat can have unsubscribed from. */
  readonly topics: readonly string[];
  readonly reminders: readonly Reminder[];
  readonly items: readonly NoticeItem[];
}

/** Limits of a notice, as the API and the console state them. */
export const NOTICE_LIMITS = { title: 60, text: 1500, entries: 10, topics: 5, reminders: 3, reminderText: 500, reminderHours: 720 } as const;

/** The notice as a client sends it (`POST /api/notices`), before it is checked. */
export interface NoticeInput {
  readonly title: string;
  readonly text: string;
  readonly entries?: readonly string[];
  readonly audience: unknown;
  readonly topics?: readonly string[];
  readonly reminders?: readonly { readonly afterHours: number; readonly text?: string | null }[];
}

/** What a notice is checked against: the knowledge as loaded now. */
export interface NoticeContext {
  /** An entry by id. */
  entry(id: string): Entry | undefined;
  /** The topics a notice may name (the knowledge categories). */
  readonly topics: ReadonlySet<string>;
  /** Today in China (YYYY-MM-DD): entries out of force cannot be sent. */
  readonly today: string;
}

/** Whether an entry is in force on a day. */
export function inForceOn(entry: Entry, day: string): boolean {
  return (!entry.validFrom || entry.validFrom <= day) && (!entry.validUntil || entry.validUntil >= day);
}

/** Whether an entry can go into a pack: a FAQ answer or a policy summary of ours, in force. */
export function packable(entry: Entry, day: string): boolean {
  return (entry.kind === 'faq' || entry.kind === 'policy') && inForceOn(entry, day);
}

/**
 * A pack's items from entry ids: each entry known, packable and listed once, its audience tags
 * readable (an entry whose tags cannot be read is named, so staff fix the knowledge instead of
 * sending it to everyone), copied with its text. Every problem is listed.
 */
export function readItems(ids: readonly string[], context: NoticeContext): { items: NoticeItem[]; errors: string[] } {
  const errors: string[] = [];
  if (ids.length > NOTICE_LIMITS.entries) errors.push(`一个政策包最多 ${NOTICE_LIMITS.entries} 个条目`);
  const items: NoticeItem[] = [];
  for (const id of ids) {
    if (items.some((i) => i.entryId === id)) {
      errors.push(`条目 ${id} 重复`);
      continue;
    }
    const entry = context.entry(id);
    if (!entry) {
      errors.push(`没有条目 ${id}`);
      continue;
    }
    if (!packable(entry, context.today)) {
      errors.push(`条目 ${id}（${entry.title}）${entry.kind === 'referral' ? '是转办条目，不能放进政策包' : '已不在有效期内'}`);
      continue;
    }
    const tags = readAudience(entry.audience);
    if (!tags.ok) {
      errors.push(`条目 ${id}（${entry.title}）的推送对象标签有误：${tags.errors.join('；')}，请先修改知识库`);
      continue;
    }
    items.push({ entryId: entry.id, title: entry.title, category: entry.category, body: entry.answer, sources: [...entry.sources], audience: tags.audience });
  }
  return { items, errors };
}

/** A notice's topics: each a knowledge category, listed once, at most {@link NOTICE_LIMITS}.topics. */
export function readTopics(raw: readonly string[], context: NoticeContext): { topics: string[]; errors: string[] } {
  const errors: string[] = [];
  const topics: string[] = [];
  for (const given of raw) {
    const topic = given.trim();
    if (!context.topics.has(topic)) errors.push(`不认识的主题“${given}”（主题即知识库的分类，如 ${[...context.topics].slice(0, 3).join('、')}）`);
    else if (!topics.includes(topic)) topics.push(topic);
  }
  if (topics.length > NOTICE_LIMITS.topics) errors.push(`主题最多 ${NOTICE_LIMITS.topics} 个`);
  return { topics, errors };
}

/**
 * Checks a notice and makes its draft: texts trimmed and within limits, the audience readable, the
 * items and topics as {@link readItems} and {@link readTopics} take them, reminder rounds in
 * increasing order. Every problem is listed.
 */
export function checkNotice(input: NoticeInput, context: NoticeContext): { ok: true; draft: NoticeDraft } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const title = input.title.trim();
  const text = input.text.trim();
  if (!title) errors.push('标题不能为空');
  else if ([...title].length > NOTICE_LIMITS.title) errors.push(`标题太长，最多 ${NOTICE_LIMITS.title} 个字`);
  if (!text) errors.push('正文不能为空');
  else if ([...text].length > NOTICE_LIMITS.text) errors.push(`正文太长，最多 ${NOTICE_LIMITS.text} 个字`);

  const audience = readAudience(input.audience);
  if (!audience.ok) errors.push(...audience.errors);

  const items = readItems(input.entries ?? [], context);
  errors.push(...items.errors);
  const topics = readTopics(input.topics ?? [], context);
  errors.push(...topics.errors);

  const reminders: Reminder[] = [];
  const rounds = input.reminders ?? [];
  if (rounds.length > NOTICE_LIMITS.reminders) errors.push(`提醒最多 ${NOTICE_LIMITS.reminders} 轮`);
  rounds.forEach((round, i) => {
    const label = `第 ${i + 1} 轮提醒`;
    const hours = round.afterHours;
    if (!Number.isInteger(hours) || hours < 1 || hours > NOTICE_LIMITS.reminderHours) errors.push(`${label}：应在发送后 1-${NOTICE_LIMITS.reminderHours} 小时之间（整数）`);
    else if (reminders.length > 0 && hours <= (reminders[reminders.length - 1] as Reminder).afterHours) errors.push(`${label}：应晚于上一轮`);
    const reminderText = round.text?.trim() || null;
    if (reminderText !== null && [...reminderText].length > NOTICE_LIMITS.reminderText) errors.push(`${label}：文字太长，最多 ${NOTICE_LIMITS.reminderText} 个字`);
    reminders.push({ afterHours: hours, text: reminderText });
  });

  if (errors.length > 0 || !audience.ok) return { ok: false, errors };
  return { ok: true, draft: { title, text, audience: audience.audience, topics: topics.topics, reminders, items: items.items } };
}
