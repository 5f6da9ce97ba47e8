import { MESSAGE_FORMS, chatKindOf, noticeKey, noticeMessage, readButtons, reminderKey, reminderMessage } from '../core/notices/delivery.js';
import type { ChatRef } from '../core/notices/profile.js';
import { OUTBOX_PRIORITY, type NewOutboxItem, type Store, type StoredNotice } from '../store/index.js';
import { planNotice } from './plan.js';

/** Recipients queued per round of the store: one batch of outbox rows. */
const BATCH = 500;

/** Told which channels got new outbox rows, so their dispatcher looks at once. */
export type Queued = (channel: ChatRef['channel']) => void;

/**
 * Starts delivery of a draft: records who gets it now (one row per chat, with the items each gets)
 * and gives it its number. Safe to call twice and from two instances: the recipients are keyed by
 * chat and only one call moves the draft on. Returns the notice as it stands afterwards, or null.
 */
export async function startDelivery(store: Store, noticeId: string, now = new Date()): Promise<StoredNotice | null> {
  const notice = await store.notices.get(noticeId);
  if (!notice) return null;
  if (notice.state === 'draft') {
    const plan = await planNotice(store.subscribers, notice);
    await store.notices.addRecipients(notice.id, plan.recipients, now);
    await store.delivery.begin(notice.id, now);
  }
  return store.notices.get(noticeId);
}

/** An outbox row for a notice or a reminder to one chat. */
async function outboxItem(store: Store, chat: ChatRef, text: string, noticeId: string, dedupeKey: string): Promise<NewOutboxItem> {
  const chatId = await store.identities.upsertChat({ channel: chat.channel, channelChatId: chat.chatId, kind: chatKindOf(chat) });
  return {
    channel: chat.channel, chatId, channelChatId: chat.chatId, kind: 'notice', priority: OUTBOX_PRIORITY.broadcast, text,
    payload: MESSAGE_FORMS[chat.channel].buttons ? { buttons: readButtons(noticeId) } : null, source: `notice:${noticeId}`, dedupeKey,
  };
}

/**
 * Queues the notice for every recipient that has no outbox row yet, in batches, each row under the
 * recipient's dedupe key: a batch queued twice (a crash between queueing and noticing it, two
 * instances at once) adds nothing. Then the notice is `queued`.
 */
export async function queueNotice(store: Store, notice: StoredNotice, queued: Queued): Promise<number> {
  if (notice.number === null) return 0;
  const number = notice.number;
  let total = 0;
  for (;;) {
    const batch = await store.delivery.unqueued(notice.id, BATCH);
    if (batch.length === 0) break;
    const items = await Promise.all(batch.map((r) => {
      const form = MESSAGE_FORMS[r.channel];
      return outboxItem(store, r, noticeMessage({ ...notice, number }, r.items, form.maxLength, form.buttons), notice.id, noticeKey(notice.id, r));
    }));
    const ids = await store.outbox.enqueue(items);
    total += ids.filter((id) => id !== null).length;
    for (const channel of new Set(batch.map((r) => r.channel))) queued(channel);
  }
  await store.delivery.finishQueueing(notice.id);
  return total;
}

/**
 * Queues reminder round `round` (1-based) of a notice to the recipients still due one: not read,
 * sent to, reachable, and (by today's profiles and choices) still meant to get the notice, so a
 * chat that unsubscribed or was unlinked meanwhile is left alone. Records the round first, so the
 * report counts it and a crash mid-round continues it; returns how many were reminded now.
 */
export async function queueReminders(store: Store, notice: StoredNotice, round: number, queued: Queued, now = new Date()): Promise<number> {
  const reminder = notice.reminders[round - 1];
  if (!reminder || notice.number === null) return 0;
  const number = notice.number;
  const plan = await planNotice(store.subscribers, notice);
  const meant = new Set(plan.recipients.map((r) => `${r.chat.channel}\0${r.chat.chatId}`));
  const due = (await store.delivery.remindable(notice.id, round, Number.MAX_SAFE_INTEGER)).filter((c) => meant.has(`${c.channel}\0${c.chatId}`));
  await store.delivery.startRound(notice.id, round, due.length, now);
  for (let i = 0; i < due.length; i += BATCH) {
    const part = due.slice(i, i + BATCH);
    const items = await Promise.all(part.map((chat) =>
      outboxItem(store, chat, reminderMessage({ number, title: notice.title }, reminder.text, MESSAGE_FORMS[chat.channel].buttons), notice.id, reminderKey(notice.id, round, chat))));
    await store.outbox.enqueue(items);
    await store.delivery.reminded(notice.id, round, part, now);
    for (const channel of new Set(part.map((c) => c.channel))) queued(channel);
  }
  await store.delivery.finishRound(notice.id, round, now);
  return due.length;
}
