import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DeliveryState } from '../core/notices/delivery.js';
import type { ChatRef } from '../core/notices/profile.js';
import { violatedUnique } from './connect.js';
import { fromStored, toStored, type Database, type OutboxState } from './schema.js';

/** A recipient chat whose notice (or reminder) still has to be queued, with the items it gets. */
export interface Unqueued extends ChatRef {
  readonly items: readonly string[];
}

/** One recipient of a notice as the report and its CSV read it. */
export interface DeliveryRecord extends ChatRef {
  readonly taxpayerId: string;
  readonly name: string;
  readonly office: string | null;
  readonly items: readonly string[];
  readonly state: DeliveryState;
  readonly acknowledged: boolean;
  readonly sentAt: Date | null;
  readonly notBefore: Date | null;
  /** Why it failed or was given up. */
  readonly error: string | null;
  readonly readAt: Date | null;
  readonly readVia: string | null;
  readonly remindersSent: number;
}

/** A reminder round as recorded. */
export interface Round {
  readonly round: number;
  readonly startedAt: Date;
  readonly recipients: number;
  readonly finishedAt: Date | null;
}

/** Outcome of a confirmation: newly read, read before, or this chat never got the notice. */
export type ReadOutcome = 'read' | 'already' | 'unknown';

/**
 * Delivery of notices: starting it, finding what is still to queue, read receipts, reminder rounds
 * and the rows of the report. A recipient's outbox row is found by its dedupe key (the unique index
 * on `outbox.dedupe_key`), so "queued" and "sent" are read from the outbox itself and nothing has
 * to be written twice to stay consistent after a crash.
 */
export interface DeliveryRepository {
  /**
   * Starts delivery of a draft: state `sending`, a number (the next free one) and the time. Null
   * when the notice is not a draft (already started, by another instance too). The recipients are
   * recorded before (`notices.addRecipients`).
   */
  begin(noticeId: string, now?: Date): Promise<number | null>;
  /** Notices whose recipients are still being queued. */
  sending(): Promise<string[]>;
  /** Up to `limit` recipients of a notice whose outbox row does not exist yet. */
  unqueued(noticeId: string, limit: number): Promise<Unqueued[]>;
  /** Every recipient queued: `sending` becomes `queued`. */
  finishQueueing(noticeId: string): Promise<void>;
  /** Records that `chat` read the notice, once; the first time wins. */
  markRead(noticeId: string, chat: ChatRef, via: 'button' | 'reply', at?: Date): Promise<ReadOutcome>;
  /** Notices sent to `chat` and not confirmed yet, oldest number first. */
  open(chat: ChatRef): Promise<{ id: string; number: number; title: string }[]>;
  /** Every recipient of a notice with where its delivery stands. */
  records(noticeId: string): Promise<DeliveryRecord[]>;
  /**
   * Up to `limit` recipients a reminder round `round` (1, 2, ...) is still due to: not read, fewer
   * reminders than `round`, the notice sent to them, their chat not marked unreachable.
   */
  remindable(noticeId: string, round: number, limit: number): Promise<ChatRef[]>;
  /** Records that the round has started with `recipients`; false when it had started before. */
  startRound(noticeId: string, round: number, recipients: number, now?: Date): Promise<boolean>;
  /** Marks these chats as reminded in `round`. */
  reminded(noticeId: string, round: number, chats: readonly ChatRef[], now?: Date): Promise<void>;
  finishRound(noticeId: string, round: number, now?: Date): Promise<void>;
  rounds(noticeId: string): Promise<Round[]>;
}

/** Rows updated per statement. */
const CHUNK = 200;

/** The dedupe key of a recipient's notice row, in SQL (core/notices/delivery.ts `noticeKey`, same text). */
function keyOf(alias: string): RawBuilder<string> {
  return sql<string>`('notice:' || ${sql.ref(`${alias}.notice_id`)} || ':' || ${sql.ref(`${alias}.channel`)} || ':' || ${sql.ref(`${alias}.channel_chat_id`)})`;
}

function stateOf(state: OutboxState | null): DeliveryState {
  switch (state) {
    case null: return 'queued';
    case 'sent': return 'sent';
    case 'unreachable': return 'unreachable';
    case 'failed':
    case 'expired': return 'failed';
    default: return 'waiting';
  }
}

/** Delivery over SQL. */
export function deliveryRepository(db: Kysely<Database>): DeliveryRepository {
  const inChat = (chat: ChatRef) => sql<SqlBool>`nr.channel = ${chat.channel} and nr.channel_chat_id = ${chat.chatId}`;
  return {
    async begin(noticeId, now = new Date()) {
      for (let attempt = 0; ; attempt++) {
        try {
          const row = await db
            .updateTable('notices')
            .set({ state: 'sending', sent_at: toStored(now), number: sql<number>`(select coalesce(max(n.number), 0) + 1 from notices n)` })
            .where('id', '=', noticeId)
            .where('state', '=', 'draft')
            .returning('number')
            .executeTakeFirst();
          return row?.number === undefined || row.number === null ? null : Number(row.number);
        } catch (err) {
          // Another notice took the same number at the same moment: take the next.
          if (attempt < 5 && violatedUnique(err)?.includes('number')) continue;
          throw err;
        }
      }
    },

    async sending() {
      const rows = await db.selectFrom('notices').select('id').where('state', '=', 'sending').orderBy('sent_at').execute();
      return rows.map((r) => r.id);
    },

    async unqueued(noticeId, limit) {
      const rows = await db
        .selectFrom('notice_recipients as nr')
        .select(['nr.channel', 'nr.channel_chat_id', 'nr.items'])
        .where('nr.notice_id', '=', noticeId)
        .where(({ not, exists, selectFrom }) => not(exists(selectFrom('outbox as o').select('o.id').where('o.dedupe_key', '=', keyOf('nr')))))
        .orderBy('nr.created_at')
        .orderBy('nr.channel_chat_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ channel: r.channel as ChatRef['channel'], chatId: r.channel_chat_id, items: JSON.parse(r.items) as string[] }));
    },

    async finishQueueing(noticeId) {
      await db.updateTable('notices').set({ state: 'queued' }).where('id', '=', noticeId).where('state', '=', 'sending').execute();
    },

    async markRead(noticeId, chat, via, at = new Date()) {
      const updated = await db
        .updateTable('notice_recipients')
        .set({ read_at: toStored(at), read_via: via })
        .where('notice_id', '=', noticeId)
        .where('channel', '=', chat.channel)
        .where('channel_chat_id', '=', chat.chatId)
        .where('read_at', 'is', null)
        .returning('notice_id')
        .executeTakeFirst();
      if (updated) return 'read';
      const row = await db.selectFrom('notice_recipients').select('read_at')
        .where('notice_id', '=', noticeId).where('channel', '=', chat.channel).where('channel_chat_id', '=', chat.chatId).executeTakeFirst();
      return row ? 'already' : 'unknown';
    },

    async open(chat) {
      const rows = await db
        .selectFrom('notice_recipients as nr')
        .innerJoin('notices as n', 'n.id', 'nr.notice_id')
        .innerJoin('outbox as o', (j) => j.on('o.dedupe_key', '=', keyOf('nr')))
        .select(['n.id', 'n.number', 'n.title'])
        .where(inChat(chat))
        .where('nr.read_at', 'is', null)
        .where('o.state', '=', 'sent')
        .orderBy('n.number')
        .execute();
      return rows.map((r) => ({ id: r.id, number: Number(r.number), title: r.title }));
    },

    async records(noticeId) {
      const rows = await db
        .selectFrom('notice_recipients as nr')
        .innerJoin('subscribers as s', 's.id', 'nr.subscriber_id')
        .leftJoin('outbox as o', (j) => j.on('o.dedupe_key', '=', keyOf('nr')))
        .select([
          'nr.channel', 'nr.channel_chat_id', 'nr.office', 'nr.items', 'nr.read_at', 'nr.read_via', 'nr.reminders_sent', 's.taxpayer_id', 's.name',
          'o.state', 'o.channel_message_id', 'o.sent_at', 'o.not_before', 'o.last_error',
        ])
        .where('nr.notice_id', '=', noticeId)
        .orderBy('nr.office')
        .orderBy('s.taxpayer_id')
        .orderBy('nr.channel_chat_id')
        .execute();
      return rows.map((r) => {
        const state = stateOf(r.state);
        return {
          channel: r.channel as ChatRef['channel'], chatId: r.channel_chat_id, taxpayerId: r.taxpayer_id, name: r.name, office: r.office, items: JSON.parse(r.items) as string[],
          state, acknowledged: r.channel_message_id !== null, sentAt: r.sent_at ? fromStored(r.sent_at) : null,
          notBefore: state === 'waiting' && r.not_before ? fromStored(r.not_before) : null, error: state === 'sent' ? null : r.last_error,
          readAt: r.read_at ? fromStored(r.read_at) : null, readVia: r.read_via, remindersSent: Number(r.reminders_sent),
        };
      });
    },

    async remindable(noticeId, round, limit) {
      const rows = await db
        .selectFrom('notice_recipients as nr')
        .innerJoin('outbox as o', (j) => j.on('o.dedupe_key', '=', keyOf('nr')))
        .leftJoin('chats as c', (j) => j.onRef('c.channel', '=', 'nr.channel').onRef('c.channel_chat_id', '=', 'nr.channel_chat_id'))
        .select(['nr.channel', 'nr.channel_chat_id'])
        .where('nr.notice_id', '=', noticeId)
        .where('nr.read_at', 'is', null)
        .where('nr.reminders_sent', '<', round)
        .where('o.state', '=', 'sent')
        .where('c.unreachable_at', 'is', null)
        .orderBy('nr.channel_chat_id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ channel: r.channel as ChatRef['channel'], chatId: r.channel_chat_id }));
    },

    async startRound(noticeId, round, recipients, now = new Date()) {
      const rows = await db
        .insertInto('notice_rounds')
        .values({ notice_id: noticeId, round, started_at: toStored(now), recipients, finished_at: null })
        .onConflict((oc) => oc.columns(['notice_id', 'round']).doNothing())
        .returning('round')
        .execute();
      return rows.length > 0;
    },

    async reminded(noticeId, round, chats, now = new Date()) {
      for (let i = 0; i < chats.length; i += CHUNK) {
        const part = chats.slice(i, i + CHUNK);
        await db
          .updateTable('notice_recipients as nr')
          .set({ reminders_sent: round, last_reminded_at: toStored(now) })
          .where('nr.notice_id', '=', noticeId)
          .where('nr.reminders_sent', '<', round)
          .where((eb) => eb.or(part.map((c) => eb.and([eb('nr.channel', '=', c.channel), eb('nr.channel_chat_id', '=', c.chatId)]))))
          .execute();
      }
    },

    async finishRound(noticeId, round, now = new Date()) {
      await db.updateTable('notice_rounds').set({ finished_at: toStored(now) }).where('notice_id', '=', noticeId).where('round', '=', round).where('finished_at', 'is', null).execute();
    },

    async rounds(noticeId) {
      const rows = await db.selectFrom('notice_rounds').selectAll().where('notice_id', '=', noticeId).orderBy('round').execute();
      return rows.map((r) => ({ round: Number(r.round), startedAt: fromStored(r.started_at), recipients: Number(r.recipients), finishedAt: r.finished_at ? fromStored(r.finished_at) : null }));
    },
  };
}
