import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';
import { maskPersonalData } from '../core/text/mask.js';

/**
 * Every schema change, applied in name order by {@link migrateToLatest} and recorded in
 * `chunfeng_migrations`. Never edit or rename one that has shipped: add the next one instead.
 *
 * Migrations take `Kysely<unknown>`, not `Kysely<Database>`: `Database` describes the latest
 * schema, and an old migration must keep compiling after the schema moves on. Column types are the
 * ones both databases understand the same way: `text`, `integer` (booleans as 0/1),
 * `double precision` (PostgreSQL's `real` is only 4 bytes), and timestamps as ISO text (see
 * `StoredTime` in schema.ts).
 */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001-conversations': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('channel_user_id', 'text', (c) => c.notNull())
        .addColumn('display_name', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('users_channel_user_key', ['channel', 'channel_user_id'])
        .execute();

      await db.schema
        .createTable('chats')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('private', 'group')`))
        .addColumn('title', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('chats_channel_chat_key', ['channel', 'channel_chat_id'])
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull().references('chats.id'))
        .addColumn('user_id', 'text', (c) => c.references('users.id'))
        .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('in', 'out')`))
        .addColumn('channel_message_id', 'text')
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('entry_id', 'text')
        .addColumn('score', 'double precision')
        .addColumn('answered', 'integer', (c) => c.check(sql`answered in (0, 1)`))
        .addColumn('reason', 'text')
        .execute();
      // messages.recent: the newest messages of one chat.
      await db.schema.createIndex('messages_chat_time').on('messages').columns(['chat_id', 'created_at', 'id']).execute();

      await db.schema
        .createTable('processed_updates')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('update_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('processed_updates_pkey', ['channel', 'update_key'])
        .execute();
      // dedupe.prune deletes by age.
      await db.schema.createIndex('processed_updates_time').on('processed_updates').column('created_at').execute();

      await db.schema
        .createTable('pending_suggestions')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('suggestion_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('pending_suggestions_pkey', ['channel', 'chat_id', 'user_id'])
        .execute();
      await db.schema.createIndex('pending_suggestions_expiry').on('pending_suggestions').column('expires_at').execute();

      await db.schema
        .createTable('send_budget')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0002-accounts': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'agent', 'staff')`))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0003-outbox': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Dedupe by the inbound message itself: the message and the marker are one row, so no crash
      // can leave one without the other. Copies that an earlier version may have stored are dropped
      // first (the oldest of each is kept), or the unique index could not be built.
      await sql`delete from messages where direction = 'in' and channel_message_id is not null and id not in (
        select min(id) from messages where direction = 'in' and channel_message_id is not null group by channel, chat_id, channel_message_id)`.execute(db);
      await db.schema
        .createIndex('messages_inbound_key')
        .unique()
        .on('messages')
        .columns(['channel', 'chat_id', 'channel_message_id'])
        .where(sql.ref('direction'), '=', 'in')
        .where(sql.ref('channel_message_id'), 'is not', null)
        .execute();
      await db.schema.dropTable('processed_updates').execute();

      // Set when the network said the bot may not write there any more (Telegram 403): later
      // broadcasts skip the chat; a reply that goes through again clears it.
      await db.schema.alterTable('chats').addColumn('unreachable_at', 'text').execute();
      await db.schema.alterTable('chats').addColumn('unreachable_reason', 'text').execute();

      await db.schema
        .createTable('outbox')
        // The id of the outgoing message it delivers, so the log and the outbox share one key.
        .addColumn('id', 'text', (c) => c.primaryKey().references('messages.id'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull().references('chats.id'))
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('priority', 'integer', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('reply_to', 'text')
        .addColumn('payload', 'text')
        .addColumn('dedupe_key', 'text')
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'sending', 'sent', 'failed', 'expired', 'unreachable')`))
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('not_before', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('claimed_by', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .addColumn('channel_message_id', 'text')
        .addColumn('last_error', 'text')
        .execute();
      // The claim's scan: a channel's waiting rows in the order they go out.
      await db.schema.createIndex('outbox_pending').on('outbox').columns(['channel', 'priority', 'id']).where(sql.ref('state'), '=', 'pending').execute();
      // Per chat: the rows still to send (order) and the ones sent lately (pace).
      await db.schema.createIndex('outbox_chat').on('outbox').columns(['chat_id', 'state', 'sent_at']).execute();
      // Claims whose instance stopped renewing them.
      await db.schema.createIndex('outbox_leases').on('outbox').column('lease_until').where(sql.ref('state'), '=', 'sending').execute();
      // One row ever per key (one notice per recipient); partial, so replies (no key) cost the index nothing.
      await db.schema.createIndex('outbox_dedupe_key').unique().on('outbox').column('dedupe_key').where(sql.ref('dedupe_key'), 'is not', null).execute();

      await db.schema
        .createTable('channel_pauses')
        .addColumn('channel', 'text', (c) => c.primaryKey())
        .addColumn('until', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .execute();
    },
  },
  '0004-accounts-disabled': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('accounts').addColumn('disabled_at', 'text').execute();
    },
  },
  '0005-tickets': {
    async up(db: Kysely<unknown>): Promise<void> {
      // One row per China day: the last ticket number given that day. Bumped inside the unit that
      // opens the ticket, so a unit that fails gives its number back and numbers have no gaps; on
      // PostgreSQL the row lock orders instances opening tickets at the same moment.
      await db.schema
        .createTable('ticket_counters')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('last', 'integer', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('tickets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('number', 'text', (c) => c.notNull().unique())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('chat_id', 'text', (c) => c.notNull().references('chats.id'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        // The chat and user as their network names them: what the gateway knows before its first read.
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('channel_user_id', 'text', (c) => c.notNull())
        .addColumn('chat_kind', 'text', (c) => c.notNull().check(sql`chat_kind in ('private', 'group')`))
        .addColumn('user_name', 'text')
        .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('human', 'complaint', 'offer', 'agent')`))
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull().check(sql`priority in ('normal', 'high', 'urgent')`))
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('registered', 'assigned', 'in_progress', 'resolved', 'followed_up', 'archived')`))
        .addColumn('assignee', 'text', (c) => c.references('accounts.id'))
        // Bumped by every change: a change applies only to the version it was decided on.
        .addColumn('version', 'integer', (c) => c.notNull())
        // A fresh id per change: statements of the same unit write their audit rows only if this change is the one that applied.
        .addColumn('last_change', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('first_response_due_at', 'text', (c) => c.notNull())
        .addColumn('first_response_at', 'text')
        .addColumn('overdue_at', 'text')
        .addColumn('resolved_at', 'text')
        .addColumn('rating', 'integer', (c) => c.check(sql`rating in (1, 2, 3)`))
        .addColumn('rating_comment', 'text')
        .addColumn('flagged', 'integer', (c) => c.notNull().check(sql`flagged in (0, 1)`))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('tickets_day_seq_key', ['day', 'seq'])
        .execute();
      // At most one open ticket per user and chat: 转人工 again finds it, two instances cannot open two.
      await db.schema
        .createIndex('tickets_open_key')
        .unique()
        .on('tickets')
        .columns(['channel', 'channel_chat_id', 'channel_user_id'])
        .where(sql.ref('state'), 'in', sql`('registered', 'assigned', 'in_progress')`)
        .execute();
      // The gateway's lookup of a user's latest ticket in a chat, and a requester's history.
      await db.schema.createIndex('tickets_requester').on('tickets').columns(['channel', 'channel_user_id', 'created_at']).execute();
      await db.schema.createIndex('tickets_state').on('tickets').columns(['state', 'due_at']).execute();

      await db.schema
        .createTable('ticket_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ticket_id', 'text', (c) => c.notNull().references('tickets.id'))
        .addColumn('type', 'text', (c) => c.notNull())
        // An account id, 'user' (the requester) or 'system' (schedules).
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ticket_events_ticket').on('ticket_events').columns(['ticket_id', 'at', 'id']).execute();

      await db.schema
        .createTable('ticket_messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ticket_id', 'text', (c) => c.notNull().references('tickets.id'))
        .addColumn('sender', 'text', (c) => c.notNull().check(sql`sender in ('user', 'agent', 'bot')`))
        .addColumn('account_id', 'text', (c) => c.references('accounts.id'))
        // The conversation log's row: the inbound message, or the outgoing one (its outbox row has the same id).
        .addColumn('message_id', 'text', (c) => c.references('messages.id'))
        // 1 for what was said before the ticket opened (the transcript that led to it).
        .addColumn('transcript', 'integer', (c) => c.notNull().check(sql`transcript in (0, 1)`))
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ticket_messages_ticket').on('ticket_messages').columns(['ticket_id', 'at', 'id']).execute();

      // The audit record is written once: the database itself refuses to change or remove it.
      const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
      if (postgres) {
        await sql`create function chunfeng_append_only() returns trigger language plpgsql as $$
          begin raise exception '% 只能追加，不能修改或删除', tg_table_name using errcode = 'restrict_violation'; end $$`.execute(db);
        // Every change of a ticket writes an event or a message: one notification per row, delivered at commit, wakes every instance's live feed.
        await sql`create function chunfeng_ticket_notify() returns trigger language plpgsql as $$
          begin perform pg_notify('chunfeng_tickets', tg_table_schema || ' ' || new.ticket_id); return null; end $$`.execute(db);
      }
      for (const table of ['ticket_events', 'ticket_messages']) {
        if (postgres) {
          await sql`create trigger ${sql.raw(`${table}_append_only`)} before update or delete on ${sql.table(table)} for each row execute function chunfeng_append_only()`.execute(db);
          await sql`create trigger ${sql.raw(`${table}_notify`)} after insert on ${sql.table(table)} for each row execute function chunfeng_ticket_notify()`.execute(db);
        } else {
          for (const action of ['update', 'delete']) {
            await sql`create trigger ${sql.raw(`${table}_no_${action}`)} before ${sql.raw(action)} on ${sql.table(table)}
              begin select raise(abort, ${sql.lit(`${table} 只能追加，不能修改或删除`)}); end`.execute(db);
          }
        }
      }
    },
  },
  '0006-subscribers': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('subscribers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('taxpayer_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('taxpayer_type', 'text', (c) => c.notNull().check(sql`taxpayer_type in ('一般纳税人', '小规模纳税人', '个体工商户', '自然人')`))
        .addColumn('industry', 'text')
        .addColumn('credit', 'text', (c) => c.check(sql`credit in ('A', 'B', 'M', 'C', 'D')`))
        .addColumn('office', 'text')
        .addColumn('region', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // Audiences and the console's filters narrow by office first.
      await db.schema.createIndex('subscribers_office').on('subscribers').columns(['office', 'taxpayer_id']).execute();

      // A chat as its network names it (not chats.id): staff may link a chat the bot has not seen yet.
      await db.schema
        .createTable('subscriber_chats')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('subscriber_id', 'text', (c) => c.notNull().references('subscribers.id'))
        .addColumn('via', 'text', (c) => c.notNull().check(sql`via in ('staff', 'code')`))
        .addColumn('linked_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('subscriber_chats_pkey', ['channel', 'channel_chat_id'])
        .execute();
      await db.schema.createIndex('subscriber_chats_subscriber').on('subscriber_chats').column('subscriber_id').execute();

      await db.schema
        .createTable('chat_topics')
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('topic', 'text', (c) => c.notNull())
        .addColumn('subscribed', 'integer', (c) => c.notNull().check(sql`subscribed in (0, 1)`))
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('chat_topics_pkey', ['channel', 'channel_chat_id', 'topic'])
        .execute();
      // Planning a notice reads the choices about its topics only.
      await db.schema.createIndex('chat_topics_topic').on('chat_topics').column('topic').execute();

      await db.schema
        .createTable('binding_codes')
        .addColumn('code', 'text', (c) => c.primaryKey())
        .addColumn('subscriber_id', 'text', (c) => c.notNull().references('subscribers.id'))
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .addColumn('used_channel', 'text')
        .addColumn('used_chat_id', 'text')
        .execute();
      await db.schema.createIndex('binding_codes_subscriber').on('binding_codes').column('subscriber_id').execute();
    },
  },
  '0007-notices': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('notices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('text', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('topics', 'text', (c) => c.notNull())
        .addColumn('reminders', 'text', (c) => c.notNull())
        // States beyond 'draft' belong to delivery; no CHECK, so adding one needs no table rebuild on SQLite.
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('targeted', 'integer', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('sent_at', 'text')
        .execute();
      await db.schema.createIndex('notices_created').on('notices').columns(['created_at', 'id']).execute();

      await db.schema
        .createTable('notice_items')
        .addColumn('notice_id', 'text', (c) => c.notNull().references('notices.id'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('entry_id', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('category', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('sources', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('notice_items_pkey', ['notice_id', 'position'])
        .addUniqueConstraint('notice_items_entry_key', ['notice_id', 'entry_id'])
        .execute();

      await db.schema
        .createTable('notice_recipients')
        .addColumn('notice_id', 'text', (c) => c.notNull().references('notices.id'))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('channel_chat_id', 'text', (c) => c.notNull())
        .addColumn('subscriber_id', 'text', (c) => c.notNull().references('subscribers.id'))
        .addColumn('office', 'text')
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('outbox_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('read_at', 'text')
        .addColumn('reminders_sent', 'integer', (c) => c.notNull())
        .addColumn('last_reminded_at', 'text')
        .addPrimaryKeyConstraint('notice_recipients_pkey', ['notice_id', 'channel', 'channel_chat_id'])
        .execute();
      // The report by office, and reminder rounds over the unread.
      await db.schema.createIndex('notice_recipients_office').on('notice_recipients').columns(['notice_id', 'office']).execute();
    },
  },
  '0008-delivery': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('notices').addColumn('number', 'integer').execute();
      // Two instances starting the same notice's delivery race for a number: the second retries.
      await db.schema.createIndex('notices_number').unique().on('notices').column('number').execute();
      // What delivery still has to queue, and what a reminder round still has to reach.
      await db.schema.createIndex('notices_state').on('notices').column('state').execute();
      await db.schema.alterTable('notice_recipients').addColumn('read_via', 'text').execute();
      // A chat's open notices, for its 已读 reply.
      await db.schema.createIndex('notice_recipients_chat').on('notice_recipients').columns(['channel', 'channel_chat_id']).execute();

      await db.schema
        .createTable('notice_rounds')
        .addColumn('notice_id', 'text', (c) => c.notNull().references('notices.id'))
        .addColumn('round', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('recipients', 'integer', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .addPrimaryKeyConstraint('notice_rounds_pkey', ['notice_id', 'round'])
        .execute();
    },
  },
  '0010-insight': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The analyzer's key of every question (answered or not): the inbox groups the declined ones,
      // and counts the same questions answered after staff taught the knowledge.
      await db.schema.alterTable('messages').addColumn('question_key', 'text').execute();
      await db.schema.createIndex('messages_question_key').on('messages').columns(['question_key', 'created_at']).where(sql.ref('question_key'), 'is not', null).execute();
      // The hot board's live days and its click-through: answered questions by time, and by topic.
      await db.schema.createIndex('messages_answered_time').on('messages').columns(['created_at', 'entry_id']).where(sql.ref('answered'), '=', sql.lit(1)).execute();
      await db.schema.createIndex('messages_topic_time').on('messages').columns(['entry_id', 'created_at']).where(sql.ref('answered'), '=', sql.lit(1)).execute();
      // Retention: inbound messages with no decision (chatter the bot did not take up), by age.
      await db.schema.createIndex('messages_chatter_time').on('messages').column('created_at')
        .where((eb) => eb.and([eb(sql.ref('answered'), 'is', null), eb(sql.ref('direction'), '=', sql.lit('in'))])).execute();

      // Answered questions per Beijing day, tax office of the chat ('' for none) and topic, for days
      // that can no longer change; `rolled_days` says which days are in (a day with no question too).
      await db.schema
        .createTable('question_days')
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('office', 'text', (c) => c.notNull())
        .addColumn('entry_id', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('question_days_pkey', ['day', 'office', 'entry_id'])
        .execute();
      await db.schema
        .createTable('rolled_days')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('rolled_at', 'text', (c) => c.notNull())
        .execute();

      // Declined questions counted by key as they arrive, and what staff decided about each key.
      await db.schema
        .createTable('inbox_keys')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first_at', 'text', (c) => c.notNull())
        .addColumn('last_at', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('open', 'attached', 'dismissed')`))
        .addColumn('decision_id', 'text')
        .execute();
      await db.schema.createIndex('inbox_keys_open').on('inbox_keys').column('last_at').where(sql.ref('state'), '=', sql.lit('open')).execute();
      await db.schema
        .createTable('inbox_decisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('attached', 'dismissed')`))
        .addColumn('entry_id', 'text')
        .addColumn('keys', 'text', (c) => c.notNull())
        .addColumn('examples', 'text', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('inbox_decisions_time').on('inbox_decisions').column('decided_at').execute();

      // Changes to the knowledge folder made from the console: every instance applies the ones it
      // has not seen to its own folder and reloads (plugins/knowledge.ts).
      await db.schema
        .createTable('knowledge_revisions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      // Personal numbers are masked at rest from now on: mask what was stored before.
      const messages = db as unknown as Kysely<{ messages: { id: string; text: string } }>;
      for (let after = ''; ;) {
        const page = await messages.selectFrom('messages').select(['id', 'text']).where('id', '>', after).orderBy('id').limit(2000).execute();
        for (const row of page) {
          const masked = maskPersonalData(row.text);
          if (masked !== row.text) await messages.updateTable('messages').set({ text: masked }).where('id', '=', row.id).execute();
        }
        if (page.length < 2000) break;
        after = (page[page.length - 1] as { id: string }).id;
      }
    },
  },
  '0012-report': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The service report's question figures read the decided inbound messages of a period: a
      // partial index holding only those rows, with every column the report's window needs, so
      // the query never touches the table (chatter and the bot's own messages are most rows).
      await db.schema
        .createIndex('messages_decided')
        .on('messages')
        .columns(['created_at', 'chat_id', 'user_id', 'reason', 'id'])
        .where(sql.ref('direction'), '=', 'in')
        .where(sql.ref('answered'), 'is not', null)
        .execute();
      // A person's data: their messages, found by user.
      await db.schema.createIndex('messages_user').on('messages').columns(['user_id', 'created_at']).execute();
      // Each Beijing day's question figures, kept once final (store/report.ts), and which days are.
      await db.schema
        .createTable('report_days')
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('hour', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('picked', 'integer', (c) => c.notNull())
        .addColumn('escalated', 'integer', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('report_days_pkey', ['day', 'hour', 'reason', 'picked', 'escalated'])
        .execute();
      await db.schema
        .createTable('report_kept_days')
        .addColumn('day', 'text', (c) => c.primaryKey())
        .addColumn('kept_at', 'text', (c) => c.notNull())
        .execute();
      // Notices sent in a period, for read rates by office.
      await db.schema.createIndex('notice_recipients_created').on('notice_recipients').columns(['created_at', 'office', 'read_at']).execute();

      // Who exported or deleted whose data, when, and what it covered: kept when the data is gone.
      await db.schema
        .createTable('data_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('export', 'delete')`))
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('subject_hash', 'text', (c) => c.notNull())
        .addColumn('subject_hint', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('data_requests_created').on('data_requests').columns(['created_at', 'id']).execute();
      await db.schema.createIndex('data_requests_subject').on('data_requests').column('subject_hash').execute();
    },
  },
  '0012-tickets-report': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The report reads the tickets registered, first answered, resolved or rated in a period.
      await db.schema.createIndex('tickets_created').on('tickets').column('created_at').execute();
      await db.schema.createIndex('tickets_first_response').on('tickets').column('first_response_at').execute();
      await db.schema.createIndex('tickets_resolved').on('tickets').column('resolved_at').execute();
      await db.schema.createIndex('ticket_events_type').on('ticket_events').columns(['type', 'at']).execute();

      // A person's deletion (个人信息保护法) keeps the audit trail but not their words: the
      // append-only rule now lets exactly one update through, the redaction of what a requester said
      // (the text replaced by REDACTED, the link to the deleted message cleared, a rating's comment
      // removed), and still refuses every other change and every delete.
      const redacted = sql.lit(REDACTED);
      const sameMessage = sql`new.id = old.id and new.ticket_id = old.ticket_id and new.sender = old.sender and new.transcript = old.transcript and new.at = old.at
        and new.account_id is not distinct from old.account_id and new.message_id is null and (new.text = old.text or (old.sender = 'user' and new.text = ${redacted}))`;
      const sameEvent = sql`new.id = old.id and new.ticket_id = old.ticket_id and new.type = old.type and new.actor = old.actor and new.at = old.at and old.actor = 'user'`;
      if (db.getExecutor().adapter instanceof PostgresAdapter) {
        for (const [table, allowed] of [['ticket_messages', sameMessage], ['ticket_events', sameEvent]] as const) {
          await sql`drop trigger ${sql.raw(`${table}_append_only`)} on ${sql.table(table)}`.execute(db);
          await sql`create trigger ${sql.raw(`${table}_no_delete`)} before delete on ${sql.table(table)} for each row execute function chunfeng_append_only()`.execute(db);
          await sql`create function ${sql.raw(`${table}_redact_only`)}() returns trigger language plpgsql as $$
            begin if ${allowed} then return new; end if;
            raise exception '% 只能追加，不能修改或删除', tg_table_name using errcode = 'restrict_violation'; end $$`.execute(db);
          await sql`create trigger ${sql.raw(`${table}_redact_only`)} before update on ${sql.table(table)} for each row execute function ${sql.raw(`${table}_redact_only`)}()`.execute(db);
        }
      } else {
        for (const [table, allowed] of [['ticket_messages', sameMessage], ['ticket_events', sameEvent]] as const) {
          await sql`drop trigger ${sql.raw(`${table}_no_update`)}`.execute(db);
          await sql`create trigger ${sql.raw(`${table}_no_update`)} before update on ${sql.table(table)} when not (${allowed})
            begin select raise(abort, ${sql.lit(`${table} 只能追加，不能修改或删除`)}); end`.execute(db);
        }
      }
    },
  },
  '0013-report-tallies': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The report counts tickets in the database over index ranges that hold every column it
      // reads, so no table row is visited: the same names, wider (store/README.md).
      const widen = async (index: string, table: string, columns: string[]): Promise<void> => {
        await db.schema.dropIndex(index).execute();
        await db.schema.createIndex(index).on(table).columns(columns).execute();
      };
      await widen('tickets_created', 'tickets', ['created_at', 'category', 'channel', 'channel_user_id', 'user_name', 'first_response_at', 'resolved_at']);
      await widen('tickets_first_response', 'tickets', ['first_response_at', 'created_at']);
      await widen('tickets_resolved', 'tickets', ['resolved_at', 'created_at']);
      await widen('ticket_events_type', 'ticket_events', ['type', 'at', 'ticket_id']);
    },
  },
  '0013-send-pace': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The next free send time of a paced budget (epoch ms), shared by every instance.
      await db.schema
        .createTable('send_pace')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('next_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0014-report-rating': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The rating of each ticket rated in a period, for the report, without visiting the tickets
      // (PostgreSQL read the whole table to join the period's ratings).
      await db.schema.createIndex('tickets_rating').on('tickets').columns(['id', 'rating']).execute();
    },
  },
};

/** What stands in a ticket's record for the words of a requester whose data was deleted on request. */
export const REDACTED = '（已按本人要求删除）';

/** Names of the migrations applied, in this database's own table. */
const BOOKKEEPING = 'chunfeng_migrations';

/**
 * Applies every migration not applied yet, in name order, recording each in `chunfeng_migrations`;
 * running it again is a no-op. Throws naming the migration that failed.
 *
 * Kysely's own Migrator is not used: it looks for its table by listing every table of every schema
 * the connection can see, which races with other schemas being created or dropped at the same time
 * (parallel test runs, other applications sharing the database) and then fails with "schema does
 * not exist". This runner only touches its own table. The caller makes the run exclusive: on
 * PostgreSQL with `postgresLock` inside a transaction, on SQLite with BEGIN IMMEDIATE (connect.ts).
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  await sql`create table if not exists ${sql.table(BOOKKEEPING)} (name text primary key, applied_at text not null)`.execute(db);
  const { rows } = await sql<{ name: string }>`select name from ${sql.table(BOOKKEEPING)}`.execute(db);
  const applied = new Set(rows.map((r) => r.name));
  for (const name of Object.keys(MIGRATIONS).sort()) {
    if (applied.has(name)) continue;
    try {
      await (MIGRATIONS[name] as Migration).up(db);
    } catch (err) {
      throw new Error(`数据库迁移 ${name} 失败：${String(err)}`, { cause: err });
    }
    await sql`insert into ${sql.table(BOOKKEEPING)} (name, applied_at) values (${name}, ${new Date().toISOString()})`.execute(db);
  }
}

/**
 * Takes PostgreSQL's transaction-scoped advisory lock for migrating the current schema, so instances
 * starting together migrate one after the other (the second finds everything applied); other
 * schemas in the same database are not held up.
 */
export async function postgresLock(db: Kysely<unknown>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext('chunfeng-migrate:' || current_schema()))`.execute(db);
}
