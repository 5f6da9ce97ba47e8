import { createHash } from 'node:crypto';
import type { CompiledQuery, Kysely, SelectQueryBuilder } from 'kysely';
import type { Together } from './connect.js';
import { newId } from './ids.js';
import { REDACTED } from './migrations.js';
import { fromStored, toStored, type Database, type DataRequestKind } from './schema.js';

/** A person as a network names them. */
export interface PersonKey {
  readonly channel: string;
  /** The network's user id (Telegram's from.id, the WeChat contact id). */
  readonly userId: string;
}

/** Everything stored about one person (the export's shape; times are ISO 8601 UTC). */
export interface PersonData {
  readonly person: { channel: string; userId: string; displayName: string | null; firstSeenAt: string };
  /** Chats they wrote in, and their private chat with the bot. */
  readonly chats: { chatId: string; kind: string; title: string | null }[];
  /** Their own messages, the bot's replies to them, and everything in their private chat. */
  readonly messages: { chatId: string; direction: string; text: string; at: string; entryId: string | null; answered: boolean | null; reason: string | null }[];
  /** Their private chat linked to a taxpayer profile (订阅绑定), with the profile it links to. */
  readonly bindings: { chatId: string; taxpayerId: string; name: string; office: string | null; via: string; linkedAt: string }[];
  /** 订阅/退订 choices of their private chat. */
  readonly topics: { chatId: string; topic: string; subscribed: boolean; updatedAt: string }[];
  /** Binding codes their private chat redeemed. */
  readonly codes: { chatId: string; usedAt: string }[];
  /** Notices sent to their private chat, with delivery and read receipt. */
  readonly deliveries: { noticeId: string; title: string; chatId: string; sentAt: string; delivery: string | null; readAt: string | null; remindersSent: number }[];
  /** Their tickets (转人工, complaints), with what was said on each. */
  readonly tickets: {
    number: string; state: string; category: string; chatId: string; createdAt: string; resolvedAt: string | null; rating: number | null; ratingComment: string | null;
    messages: { from: string; text: string; at: string }[];
  }[];
}

/** Rows of each kind an export held or a deletion removed (or anonymized). */
export type RequestCounts = Readonly<Record<string, number>>;

/** One logged request. */
export interface DataRequest {
  readonly id: string;
  readonly kind: DataRequestKind;
  readonly channel: string;
  /** The person's user id, masked. */
  readonly subjectHint: string;
  readonly actor: string;
  readonly note: string | null;
  readonly counts: RequestCounts;
  readonly at: Date;
}

/** Who asked, and the reference of the request. */
export interface RequestBy {
  /** `account:<id>` or `cli:<login>`. */
  readonly actor: string;
  readonly note?: string | null;
  readonly now?: Date;
}

/** A person found by name or id, for staff looking for whose data to export. */
export interface PersonMatch {
  readonly channel: string;
  readonly userId: string;
  readonly displayName: string | null;
  readonly firstSeenAt: Date;
}

/**
 * Personal data on request (个人信息保护法): export everything stored about one person, and delete
 * it. Both write an audit row in `data_requests`; a deletion commits with its audit row as one unit.
 */
export interface PeopleRepository {
  /** People whose display name contains `text`, or whose user id is `text`; at most `limit`. */
  search(text: string, limit: number): Promise<PersonMatch[]>;
  /** Everything stored about the person, logged as an export; null (and nothing logged) when the store does not know them. */
  export(key: PersonKey, by: RequestBy): Promise<PersonData | null>;
  /**
   * Deletes the person's messages (and the bot's replies to them), their private chat, its links,
   * choices and pending offers, and the person; notice deliveries keep their row, with the chat id
   * replaced, so past read rates stay true. Returns the counts, or null when the store does not know them.
   */
  delete(key: PersonKey, by: RequestBy): Promise<RequestCounts | null>;
  /** The log of exports and deletions, newest first. */
  requests(limit: number): Promise<DataRequest[]>;
}

/** A subquery of chat ids. */
type ChatIds = SelectQueryBuilder<Database, 'chats', { id: string }>;

/** Ids per IN list: well under the parameter limits of both databases. */
const ID_CHUNK = 500;

/** How a person is named in the log: a hash of channel and id, never the id itself. */
export function subjectHash(key: PersonKey): string {
  return createHash('sha256').update(`${key.channel}\0${key.userId}`).digest('hex');
}

/** A user id with its middle hidden: 12****89. */
export function maskUserId(id: string): string {
  if (id.length <= 4) return '*'.repeat(id.length);
  const keep = Math.min(4, Math.floor(id.length / 4));
  return `${id.slice(0, keep)}${'*'.repeat(id.length - 2 * keep)}${id.slice(-keep)}`;
}

/** Personal data over SQL. */
export function peopleRepository(db: Kysely<Database>, together: Together): PeopleRepository {
  const findUser = (key: PersonKey) =>
    db.selectFrom('users').selectAll().where('channel', '=', key.channel).where('channel_user_id', '=', key.userId).executeTakeFirst();
  /** Their private chat: on both networks its id is the person's user id. */
  const privateChats = (key: PersonKey) =>
    db.selectFrom('chats').select('id').where('channel', '=', key.channel).where('channel_chat_id', '=', key.userId).where('kind', '=', 'private');
  /** The outgoing rows that quoted one of the person's messages in a group (the bot's replies to them). */
  const repliesTo = (userId: string) =>
    db
      .selectFrom('outbox as o')
      .innerJoin('messages as m', (j) => j.onRef('m.chat_id', '=', 'o.chat_id').onRef('m.channel_message_id', '=', 'o.reply_to'))
      .select('o.id')
      .where('m.user_id', '=', userId)
      .where('m.direction', '=', 'in');

  const log = (id: string, kind: DataRequestKind, key: PersonKey, by: RequestBy, counts: RequestCounts): CompiledQuery =>
    db
      .insertInto('data_requests')
      .values({
        id, kind, channel: key.channel, subject_hash: subjectHash(key), subject_hint: maskUserId(key.userId), actor: by.actor,
        note: by.note?.trim() || null, counts: JSON.stringify(counts), created_at: toStored(by.now ?? new Date()),
      })
      .compile();

  return {
    async search(text, limit) {
      const t = text.trim();
      if (!t) return [];
      const like = `%${t.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      const rows = await db
        .selectFrom('users')
        .selectAll()
        .where((eb) => eb.or([eb('channel_user_id', '=', t), eb('display_name', 'like', eb.val(like)).and(eb.ref('display_name'), 'is not', null)]))
        .orderBy('created_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ channel: r.channel, userId: r.channel_user_id, displayName: r.display_name, firstSeenAt: fromStored(r.created_at) }));
    },

    async export(key, by) {
      const user = await findUser(key);
      if (!user) return null;
      const chats = await db
        .selectFrom('chats')
        .select(['id', 'channel_chat_id', 'kind', 'title'])
        .where((eb) => eb.or([
          eb('id', 'in', privateChats(key)),
          eb('id', 'in', eb.selectFrom('messages').select('chat_id').where('user_id', '=', user.id)),
        ]))
        .execute();
      const chatName = new Map(chats.map((c) => [c.id, c.channel_chat_id]));
      const messages = await db
        .selectFrom('messages')
        .selectAll()
        .where((eb) => eb.or([eb('user_id', '=', user.id), eb('chat_id', 'in', privateChats(key)), eb('id', 'in', repliesTo(user.id))]))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
      const links = await db
        .selectFrom('subscriber_chats as l')
        .innerJoin('subscribers as s', 's.id', 'l.subscriber_id')
        .select(['l.channel_chat_id', 's.taxpayer_id', 's.name', 's.office', 'l.via', 'l.linked_at'])
        .where('l.channel', '=', key.channel)
        .where('l.channel_chat_id', '=', key.userId)
        .execute();
      const topics = await db.selectFrom('chat_topics').selectAll().where('channel', '=', key.channel).where('channel_chat_id', '=', key.userId).orderBy('topic').execute();
      const codes = await db.selectFrom('binding_codes').select(['used_chat_id', 'used_at']).where('used_channel', '=', key.channel).where('used_chat_id', '=', key.userId).execute();
      const deliveries = await db
        .selectFrom('notice_recipients as r')
        .innerJoin('notices as n', 'n.id', 'r.notice_id')
        .leftJoin('outbox as o', 'o.id', 'r.outbox_id')
        .select(['r.notice_id', 'n.title', 'r.channel_chat_id', 'r.created_at', 'o.state', 'r.read_at', 'r.reminders_sent'])
        .where('r.channel', '=', key.channel)
        .where('r.channel_chat_id', '=', key.userId)
        .orderBy('r.created_at')
        .execute();
      const tickets = await db.selectFrom('tickets').selectAll().where('user_id', '=', user.id).orderBy('created_at').execute();
      const said = tickets.length === 0 ? [] : await db
        .selectFrom('ticket_messages')
        .select(['ticket_id', 'sender', 'text', 'at'])
        .where('ticket_id', 'in', tickets.map((t) => t.id))
        .orderBy('at')
        .orderBy('id')
        .execute();
      const data: PersonData = {
        person: { channel: user.channel, userId: user.channel_user_id, displayName: user.display_name, firstSeenAt: user.created_at },
        chats: chats.map((c) => ({ chatId: c.channel_chat_id, kind: c.kind, title: c.title })),
        messages: messages.map((m) => ({
          chatId: chatName.get(m.chat_id) ?? m.chat_id, direction: m.direction, text: m.text, at: m.created_at, entryId: m.entry_id,
          answered: m.answered === null ? null : m.answered === 1, reason: m.reason,
        })),
        bindings: links.map((l) => ({ chatId: l.channel_chat_id, taxpayerId: l.taxpayer_id, name: l.name, office: l.office, via: l.via, linkedAt: l.linked_at })),
        topics: topics.map((t) => ({ chatId: t.channel_chat_id, topic: t.topic, subscribed: t.subscribed === 1, updatedAt: t.updated_at })),
        codes: codes.map((c) => ({ chatId: c.used_chat_id ?? key.userId, usedAt: c.used_at ?? '' })),
        deliveries: deliveries.map((d) => ({
          noticeId: d.notice_id, title: d.title, chatId: d.channel_chat_id, sentAt: d.created_at, delivery: d.state, readAt: d.read_at, remindersSent: d.reminders_sent,
        })),
        tickets: tickets.map((t) => ({
          number: t.number, state: t.state, category: t.category, chatId: t.channel_chat_id, createdAt: t.created_at, resolvedAt: t.resolved_at,
          rating: t.rating, ratingComment: t.rating_comment,
          messages: said.filter((m) => m.ticket_id === t.id).map((m) => ({ from: m.sender, text: m.text, at: m.at })),
        })),
      };
      await together([log(newId(), 'export', key, by, countsOf(data))]);
      return data;
    },

    async delete(key, by) {
      const user = await findUser(key);
      if (!user) return null;
      const chat = { channel: key.channel, id: key.userId };
      // The bot's replies to them in groups are found through the outbox row that quoted their
      // message; the outbox row goes first (it refers to the message), so the ids are read first.
      const replies = (await repliesTo(user.id).execute()).map((r) => r.id);
      const chunks = Array.from({ length: Math.ceil(replies.length / ID_CHUNK) }, (_, i) => replies.slice(i * ID_CHUNK, (i + 1) * ID_CHUNK));
      const audit = newId();
      const now = by.now ?? new Date();
      const named: [string, CompiledQuery][] = [
        ['log', log(audit, 'delete', key, by, {})],
        ...(await ticketRedaction(db, user.id, privateChats(key), `已删除:${audit}`, now)),
        ...chunks.map((ids): [string, CompiledQuery] => ['stand-in', db.updateTable('ticket_messages').set({ message_id: null }).where('message_id', 'in', ids).compile()]),
        ...chunks.map((ids): [string, CompiledQuery] => ['outbox', db.deleteFrom('outbox').where('id', 'in', ids).compile()]),
        ...chunks.map((ids): [string, CompiledQuery] => ['messages', db.deleteFrom('messages').where('id', 'in', ids).compile()]),
        ['outbox', db.deleteFrom('outbox').where('chat_id', 'in', privateChats(key)).compile()],
        ['messages', db.deleteFrom('messages').where((eb) => eb.or([eb('user_id', '=', user.id), eb('chat_id', 'in', privateChats(key))])).compile()],
        ['suggestions', db.deleteFrom('pending_suggestions').where('user_id', '=', user.id).compile()],
        ['bindings', db.deleteFrom('subscriber_chats').where('channel', '=', chat.channel).where('channel_chat_id', '=', chat.id).compile()],
        ['topics', db.deleteFrom('chat_topics').where('channel', '=', chat.channel).where('channel_chat_id', '=', chat.id).compile()],
        ['codes', db.updateTable('binding_codes').set({ used_chat_id: null }).where('used_channel', '=', chat.channel).where('used_chat_id', '=', chat.id).compile()],
        // Each delivery keeps its row for the read rates, under a chat id that names nobody.
        ['deliveries', db.updateTable('notice_recipients').set({ channel_chat_id: `已删除:${audit}`, outbox_id: null })
          .where('channel', '=', chat.channel).where('channel_chat_id', '=', chat.id).compile()],
        ['chats', db.deleteFrom('chats').where('id', 'in', privateChats(key)).compile()],
        ['person', db.deleteFrom('users').where('id', '=', user.id).compile()],
      ];
      // The deletion and its audit row commit together; the counts are filled in once known.
      const results = await together(named.map(([, q]) => q));
      const counts: Record<string, number> = {};
      named.forEach(([name], i) => {
        if (name !== 'log' && name !== 'stand-in') counts[name] = (counts[name] ?? 0) + Number(results[i]?.numAffectedRows ?? 0);
      });
      await db.updateTable('data_requests').set({ counts: JSON.stringify(counts) }).where('id', '=', audit).execute();
      return counts;
    },

    async requests(limit) {
      const rows = await db.selectFrom('data_requests').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
      return rows.map((r) => ({
        id: r.id, kind: r.kind, channel: r.channel, subjectHint: r.subject_hint, actor: r.actor, note: r.note, counts: JSON.parse(r.counts) as RequestCounts, at: fromStored(r.created_at),
      }));
    },
  };
}

/**
 * The statements that take a person out of their tickets while keeping the tickets and their audit
 * trail: the ticket points at a stand-in user (and, for their private chat, a stand-in chat) named
 * `standIn`; their words in it are replaced by REDACTED and the links to the messages about to be
 * deleted cleared (the only change the append-only rule lets through, migration 0012-tickets-report);
 * a rating's comment is dropped. Empty when they have no ticket.
 */
async function ticketRedaction(db: Kysely<Database>, userId: string, privateChats: ChatIds, standIn: string, now: Date): Promise<[string, CompiledQuery][]> {
  const tickets = await db.selectFrom('tickets').select(['id', 'channel', 'chat_id', 'chat_kind']).where('user_id', '=', userId).execute();
  if (tickets.length === 0) return [];
  const first = tickets[0] as (typeof tickets)[number];
  const ids = tickets.map((t) => t.id);
  const userStandIn = newId();
  const chatStandIn = newId();
  const rated = await db.selectFrom('ticket_events').select(['id', 'data']).where('ticket_id', 'in', ids).where('actor', '=', 'user').where('type', '=', 'rated').execute();
  const theirMessages = db.selectFrom('messages').select('id').where((eb) => eb.or([eb('user_id', '=', userId), eb('chat_id', 'in', privateChats)]));
  return [
    ['stand-in', db.insertInto('users').values({ id: userStandIn, channel: first.channel, channel_user_id: standIn, display_name: null, created_at: toStored(now) }).compile()],
    ['tickets', db.updateTable('tickets').set({ user_id: userStandIn, channel_user_id: standIn, user_name: null, rating_comment: null }).where('id', 'in', ids).compile()],
    // Tickets of their private chat, which is deleted, move to a stand-in chat; those of a group stay in it.
    ...(tickets.some((t) => t.chat_kind === 'private') ? [
      ['stand-in', db.insertInto('chats').values({ id: chatStandIn, channel: first.channel, channel_chat_id: standIn, kind: 'private', title: null, created_at: toStored(now), unreachable_at: null, unreachable_reason: null }).compile()],
      ['stand-in', db.updateTable('tickets').set({ chat_id: chatStandIn, channel_chat_id: standIn }).where('id', 'in', ids).where('chat_id', 'in', privateChats).compile()],
    ] as [string, CompiledQuery][] : []),
    ['redacted', db.updateTable('ticket_messages').set({ text: REDACTED, message_id: null }).where('sender', '=', 'user')
      .where((eb) => eb.or([eb('message_id', 'in', theirMessages), eb.and([eb('message_id', 'is', null), eb('ticket_id', 'in', ids), eb('transcript', '=', 0)])])).compile()],
    ['stand-in', db.updateTable('ticket_messages').set({ message_id: null }).where('message_id', 'in', theirMessages).compile()],
    ...rated.map((e): [string, CompiledQuery] => {
      const { comment: _comment, ...rest } = JSON.parse(e.data) as Record<string, unknown>;
      return ['stand-in', db.updateTable('ticket_events').set({ data: JSON.stringify(rest) }).where('id', '=', e.id).compile()];
    }),
  ];
}

function countsOf(data: PersonData): RequestCounts {
  return {
    messages: data.messages.length, chats: data.chats.length, bindings: data.bindings.length, topics: data.topics.length, codes: data.codes.length,
    deliveries: data.deliveries.length, tickets: data.tickets.length,
  };
}
