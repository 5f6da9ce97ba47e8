import type { Kysely } from 'kysely';
import { newId } from './ids.js';
import { fromStored, toStored, type ChatKind, type Database, type Row } from './schema.js';

/** A user as a channel names them. */
export interface UserIdentity {
  readonly channel: string;
  readonly channelUserId: string;
  /** Null or absent keeps the name already stored (not every update carries one). */
  readonly displayName?: string | null;
}

/** A chat as a channel names it. */
export interface ChatIdentity {
  readonly channel: string;
  readonly channelChatId: string;
  readonly kind: ChatKind;
  /** Null or absent keeps the title already stored. */
  readonly title?: string | null;
}

/** A stored user. */
export interface User {
  readonly id: string;
  readonly channel: string;
  readonly channelUserId: string;
  readonly displayName: string | null;
  readonly createdAt: Date;
}

/** A stored chat. */
export interface Chat {
  readonly id: string;
  readonly channel: string;
  readonly channelChatId: string;
  readonly kind: ChatKind;
  readonly title: string | null;
  readonly createdAt: Date;
}

/** Maps channel identities to the store's own ids, which messages and tickets refer to. */
export interface IdentityRepository {
  /** The user's id, creating the user on first sight; the same identity always gets the same id. */
  upsertUser(user: UserIdentity, now?: Date): Promise<string>;
  /** The chat's id, creating the chat on first sight; the same identity always gets the same id. */
  upsertChat(chat: ChatIdentity, now?: Date): Promise<string>;
  /** The user with this store id, or null. */
  user(id: string): Promise<User | null>;
  /** The chat with this store id, or null. */
  chat(id: string): Promise<Chat | null>;
}

function toUser(row: Row<'users'>): User {
  return { id: row.id, channel: row.channel, channelUserId: row.channel_user_id, displayName: row.display_name, createdAt: fromStored(row.created_at) };
}

function toChat(row: Row<'chats'>): Chat {
  return { id: row.id, channel: row.channel, channelChatId: row.channel_chat_id, kind: row.kind, title: row.title, createdAt: fromStored(row.created_at) };
}

/**
 * Identities over SQL. An upsert is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING id: the update
 * makes RETURNING give the existing row's id, and the unique constraint makes concurrent first
 * sightings of the same user agree on one row.
 */
export function identityRepository(db: Kysely<Database>): IdentityRepository {
  return {
    async upsertUser(user, now = new Date()) {
      const row = await db
        .insertInto('users')
        .values({ id: newId(), channel: user.channel, channel_user_id: user.channelUserId, display_name: user.displayName ?? null, created_at: toStored(now) })
        .onConflict((oc) =>
          oc.columns(['channel', 'channel_user_id']).doUpdateSet((eb) => ({
            display_name: eb.fn.coalesce(eb.ref('excluded.display_name'), eb.ref('users.display_name')),
          })),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async upsertChat(chat, now = new Date()) {
      const row = await db
        .insertInto('chats')
        .values({ id: newId(), channel: chat.channel, channel_chat_id: chat.channelChatId, kind: chat.kind, title: chat.title ?? null, created_at: toStored(now) })
        .onConflict((oc) =>
          oc.columns(['channel', 'channel_chat_id']).doUpdateSet((eb) => ({
            kind: eb.ref('excluded.kind'),
            title: eb.fn.coalesce(eb.ref('excluded.title'), eb.ref('chats.title')),
          })),
        )
        .returning('id')
        .executeTakeFirstOrThrow();
      return row.id;
    },

    async user(id) {
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toUser(row) : null;
    },

    async chat(id) {
      const row = await db.selectFrom('chats').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toChat(row) : null;
    },
  };
}
