import type { Kysely } from 'kysely';
import type { Audience } from '../core/notices/audience.js';
import type { NoticeDraft, NoticeItem, Reminder } from '../core/notices/notice.js';
import type { ChatRef } from '../core/notices/profile.js';
import type { Recipient } from '../core/notices/recipients.js';
import { newId } from './ids.js';
import { fromStored, toStored, type Database, type Row } from './schema.js';

/** A stored notice: its draft, state and bookkeeping. */
export interface StoredNotice extends NoticeDraft {
  readonly id: string;
  /** `draft` until delivery starts. */
  readonly state: string;
  /** The number recipients name it by (已读 12), given when delivery starts; null for a draft. */
  readonly number: number | null;
  /** Chats that would have got it when it was saved. */
  readonly targeted: number;
  readonly createdBy: string | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
}

/** A notice in the list: without its items' texts. */
export type NoticeSummary = Omit<StoredNotice, 'items'> & { readonly itemCount: number };

/** One recipient row of a sent notice. */
export interface StoredRecipient extends ChatRef {
  readonly subscriberId: string;
  readonly office: string | null;
  readonly items: readonly string[];
  readonly outboxId: string | null;
  readonly createdAt: Date;
  readonly readAt: Date | null;
  readonly remindersSent: number;
}

/** Notices, their pack items, and (once sent) their recipients. */
export interface NoticeRepository {
  /** Stores a new draft with its items in one transaction. */
  create(draft: NoticeDraft, targeted: number, createdBy: string | null, now?: Date): Promise<StoredNotice>;
  /** One notice with its items, or null. */
  get(id: string): Promise<StoredNotice | null>;
  /** Every notice, newest first, without item texts. */
  list(): Promise<NoticeSummary[]>;
  /**
   * Records the recipients of a notice, one row per chat with the items it gets and its profile's
   * office at this moment; a chat already recorded for the notice keeps its row (sending twice never
   * queues a chat twice). Answers how many rows were added.
   */
  addRecipients(noticeId: string, recipients: readonly Recipient[], now?: Date): Promise<number>;
  /** A notice's recipient rows. */
  recipients(noticeId: string): Promise<StoredRecipient[]>;
}

/** Recipient rows per INSERT: within both databases' parameter limits. */
const CHUNK = 500;

function toNotice(row: Row<'notices'>): Omit<StoredNotice, 'items'> {
  return {
    id: row.id,
    title: row.title,
    text: row.text,
    audience: JSON.parse(row.audience) as Audience,
    topics: JSON.parse(row.topics) as string[],
    reminders: JSON.parse(row.reminders) as Reminder[],
    state: row.state,
    number: row.number === null ? null : Number(row.number),
    targeted: row.targeted,
    createdBy: row.created_by,
    createdAt: fromStored(row.created_at),
    sentAt: row.sent_at === null ? null : fromStored(row.sent_at),
  };
}

function toItem(row: Row<'notice_items'>): NoticeItem {
  return { entryId: row.entry_id, title: row.title, category: row.category, body: row.body, sources: JSON.parse(row.sources) as string[], audience: JSON.parse(row.audience) as Audience };
}

/** Notices over SQL; JSON columns hold what core/notices defines. */
export function noticeRepository(db: Kysely<Database>): NoticeRepository {
  return {
    async create(draft, targeted, createdBy, now = new Date()) {
      const row = {
        id: newId(),
        title: draft.title,
        text: draft.text,
        audience: JSON.stringify(draft.audience),
        topics: JSON.stringify(draft.topics),
        reminders: JSON.stringify(draft.reminders),
        state: 'draft',
        number: null,
        targeted,
        created_by: createdBy,
        created_at: toStored(now),
        sent_at: null,
      };
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('notices').values(row).execute();
        if (draft.items.length > 0) {
          await trx
            .insertInto('notice_items')
            .values(draft.items.map((item, position) => ({
              notice_id: row.id, position, entry_id: item.entryId, title: item.title, category: item.category, body: item.body,
              sources: JSON.stringify(item.sources), audience: JSON.stringify(item.audience),
            })))
            .execute();
        }
      });
      return { ...toNotice(row), items: draft.items };
    },

    async get(id) {
      const [row, items] = await Promise.all([
        db.selectFrom('notices').selectAll().where('id', '=', id).executeTakeFirst(),
        db.selectFrom('notice_items').selectAll().where('notice_id', '=', id).orderBy('position').execute(),
      ]);
      return row ? { ...toNotice(row), items: items.map(toItem) } : null;
    },

    async list() {
      const [rows, counts] = await Promise.all([
        db.selectFrom('notices').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
        db.selectFrom('notice_items').select(['notice_id', (eb) => eb.fn.countAll<number | string>().as('n')]).groupBy('notice_id').execute(),
      ]);
      const itemCount = new Map(counts.map((c) => [c.notice_id, Number(c.n)]));
      return rows.map((r) => ({ ...toNotice(r), itemCount: itemCount.get(r.id) ?? 0 }));
    },

    async addRecipients(noticeId, recipients, now = new Date()) {
      const at = toStored(now);
      let added = 0;
      for (let i = 0; i < recipients.length; i += CHUNK) {
        const rows = recipients.slice(i, i + CHUNK).map((r) => ({
          notice_id: noticeId, channel: r.chat.channel, channel_chat_id: r.chat.chatId, subscriber_id: r.subscriberId, office: r.profile.office,
          items: JSON.stringify(r.items), outbox_id: null, created_at: at, read_at: null, reminders_sent: 0, last_reminded_at: null, read_via: null,
        }));
        const inserted = await db
          .insertInto('notice_recipients')
          .values(rows)
          .onConflict((oc) => oc.columns(['notice_id', 'channel', 'channel_chat_id']).doNothing())
          .returning('channel_chat_id')
          .execute();
        added += inserted.length;
      }
      return added;
    },

    async recipients(noticeId) {
      const rows = await db.selectFrom('notice_recipients').selectAll().where('notice_id', '=', noticeId).orderBy('created_at').orderBy('channel').orderBy('channel_chat_id').execute();
      return rows.map((r) => ({
        channel: r.channel as ChatRef['channel'], chatId: r.channel_chat_id, subscriberId: r.subscriber_id, office: r.office, items: JSON.parse(r.items) as string[],
        outboxId: r.outbox_id, createdAt: fromStored(r.created_at), readAt: r.read_at === null ? null : fromStored(r.read_at), remindersSent: r.reminders_sent,
      }));
    },
  };
}
