import type { Kysely } from 'kysely';
import { maskPersonalData } from '../core/text/mask.js';
import type { Together } from './connect.js';
import { newId } from './ids.js';
import { inboxCount } from './insight.js';
import { prepare, type PreparedQuery } from './prepared.js';
import { fromStored, toStored, type Database, type Direction, type Row } from './schema.js';

/** What the bot decided about an inbound message, kept with it for audit and tuning. */
export interface Decision {
  readonly answered: boolean;
  /** The knowledge entry answered with; null when it did not answer. */
  readonly entryId: string | null;
  readonly score: number | null;
  /** Why it answered or not (`small_talk`, `uncertain`, ...), as the core reports it. */
  readonly reason: string | null;
  /** The analyzer's key of the question (core/insight/inbox.ts); absent or null for none. */
  readonly questionKey?: string | null;
}

/** A message to record. */
export interface NewMessage {
  readonly channel: string;
  /** The store id from `identities.upsertChat`. */
  readonly chatId: string;
  /** The store id from `identities.upsertUser`; null for the bot's own messages. */
  readonly userId?: string | null;
  readonly direction: Direction;
  readonly channelMessageId?: string | null;
  readonly text: string;
  readonly decision?: Decision | null;
  /** When it was said; defaults to now. */
  readonly at?: Date;
}

/** A recorded message. */
export interface StoredMessage {
  readonly id: string;
  readonly channel: string;
  readonly chatId: string;
  readonly userId: string | null;
  readonly direction: Direction;
  readonly channelMessageId: string | null;
  readonly text: string;
  readonly at: Date;
  /** Null when none was recorded (outbound messages, ignored chatter). */
  readonly decision: Decision | null;
}

/** The conversation log. */
export interface MessageRepository {
  /**
   * Records a message and returns its id. Rejects when the chat or user id is not in the store, or
   * when an inbound message with the same channel message id is already recorded in the chat.
   */
  record(message: NewMessage): Promise<string>;
  /** The last `limit` messages of a chat, oldest first (the order they read in). */
  recent(chatId: string, limit: number): Promise<StoredMessage[]>;
}

function toMessage(row: Row<'messages'>): StoredMessage {
  return {
    id: row.id,
    channel: row.channel,
    chatId: row.chat_id,
    userId: row.user_id,
    direction: row.direction,
    channelMessageId: row.channel_message_id,
    text: row.text,
    at: fromStored(row.created_at),
    // `answered` is set whenever a decision is, so it alone tells whether there was one.
    decision: row.answered === null ? null : { answered: row.answered === 1, entryId: row.entry_id, score: row.score, reason: row.reason, questionKey: row.question_key },
  };
}

/** The insert of one message row, compiled once (shared with the outbox and intake, which add it to their units). */
export function messageInsert(db: Kysely<Database>): PreparedQuery<Row<'messages'>, unknown> {
  return prepare(db, (r: Row<'messages'>) =>
    db.insertInto('messages').values({
      id: r.id, channel: r.channel, chat_id: r.chat_id, user_id: r.user_id, direction: r.direction, channel_message_id: r.channel_message_id,
      text: r.text, created_at: r.created_at, entry_id: r.entry_id, score: r.score, answered: r.answered, reason: r.reason, question_key: r.question_key,
    }));
}

/** The row for a message to record under `id`. */
export function messageRow(id: string, message: NewMessage): Row<'messages'> {
  const d = message.decision ?? null;
  return {
    id,
    channel: message.channel,
    chat_id: message.chatId,
    user_id: message.userId ?? null,
    direction: message.direction,
    channel_message_id: message.channelMessageId ?? null,
    // Masked at rest: personal numbers never reach the database (core/text/mask.ts).
    text: maskPersonalData(message.text),
    created_at: toStored(message.at ?? new Date()),
    entry_id: d?.entryId ?? null,
    score: d?.score ?? null,
    answered: d ? (d.answered ? 1 : 0) : null,
    reason: d?.reason ?? null,
    question_key: d?.questionKey ?? null,
  };
}

/** The conversation log over SQL. */
export function messageRepository(db: Kysely<Database>, together: Together): MessageRepository {
  const insert = messageInsert(db);
  const count = inboxCount(db);
  return {
    async record(message) {
      const id = newId();
      const inbox = message.direction === 'in' ? count(message.decision, message.at ?? new Date()) : null;
      const row = messageRow(id, message);
      if (inbox) await together([insert.compile(row), inbox]);
      else await insert.execute(row);
      return id;
    },

    async recent(chatId, limit) {
      if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit 应为非负整数，当前为 ${limit}`);
      const rows = await db
        .selectFrom('messages')
        .selectAll()
        .where('chat_id', '=', chatId)
        // Ids rise within a millisecond (ids.ts), keeping messages recorded together in order.
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.reverse().map(toMessage);
    },
  };
}
