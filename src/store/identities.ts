import type { Kysely } from 'kysely';
import { newId } from './ids.js';
import { prepare } from './prepared.js';
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
  /** When the network refused the bot this chat (Telegram 403); null while it is reachable. */
  readonly unreachableAt: Date | null;
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
  return {
    id: row.id, channel: row.channel, channelChatId: row.channel_chat_id, kind: row.kind, title: row.title, createdAt: fromStored(row.created_at),
    unreachableAt: row.unreachable_at === null ? null : fromStored(row.unreachable_at),
  };
}

/**
 * Identities over SQL. An upsert is one INSERT ... ON CONFLICT DO UPDATE ... RETURNING id: the update
 * makes RETURNING give the existing row's id, and the unique constraint makes concurrent first
 * sightings of the same user agree on one row.
 */
export function identityRepository(db: Kysely<Database>): IdentityRepository {
  const user = prepare(db, (r: Row<'users'>) =>
    db
      .insertInto('users')
      .values({ id: r.id, channel: r.channel, channel_user_id: r.channel_user_id, display_name: r.display_name, created_at: r.created_at })
      .onConflict((oc) =>
        oc.columns(['channel', 'channel_user_id']).doUpdateSet((eb) => ({
          display_name: eb.fn.coalesce(eb.ref('excluded.display_name'), eb.ref('users.display_name')),
        })),
      )
      .returning('id'));
  const chat = prepare(db, (r: Omit<Row<'chats'>, 'unreachable_at' | 'unreachable_reason'>) =>
    db
      .insertInto('chats')
      .values({ id: r.id, channel: r.channel, channel_chat_id: r.channel_chat_id, kind: r.kind, title: r.title, created_at: r.created_at })
      .onConflict((oc) =>
        oc.columns(['channel', 'channel_chat_id']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          title: eb.fn.coalesce(eb.ref('excluded.title'), eb.ref('chats.title')),
        })),
      )
      .returning('id'));
  const idOf = (rows: { id: string }[]): string => {
    const [row] = rows;
    if (!row) throw new Error('upsert 没有返回 id');
    return row.id;
  };
  return {
    async upsertUser(u, now = new Date()) {
      const { rows } = await user.execute({ id: newId(), channel: u.channel, channel_user_id: u.channelUserId, display_name: u.displayName ?? null, created_at: toStored(now) });
      return idOf(rows);
    },

    async upsertChat(c, now = new Date()) {
      const { rows } = await chat.execute({ id: newId(), channel: c.channel, channel_chat_id: c.channelChatId, kind: c.kind, title: c.title ?? null, created_at: toStored(now) });
      return idOf(rows);
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
