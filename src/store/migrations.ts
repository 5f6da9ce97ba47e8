import { Migrator, sql, type Kysely, type Migration } from 'kysely';

/**
 * Every schema change, applied in name order by {@link migrateToLatest} and recorded in
 * `kysely_migration`. Never edit or rename one that has shipped: add the next one instead.
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
};

/** Where Kysely keeps its migration bookkeeping; null: the connection's default schema. */
export interface MigrateOptions {
  /**
   * Needed on PostgreSQL: without it Kysely looks for its `kysely_migration` table in every schema
   * it can see, finds another schema's table (another test run, another app) and then fails to
   * read it through the search_path.
   */
  readonly bookkeepingSchema: string | null;
}

/**
 * Applies every migration not applied yet; running it again is a no-op. On PostgreSQL Kysely runs
 * them in one transaction under an advisory lock, so instances starting together apply them once;
 * on SQLite the caller provides that (see connect.ts). Throws naming the migration that failed.
 */
export async function migrateToLatest(db: Kysely<unknown>, options: MigrateOptions): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ ...MIGRATIONS }) },
    ...(options.bookkeepingSchema ? { migrationTableSchema: options.bookkeepingSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error === undefined) return;
  const failed = results?.find((r) => r.status === 'Error')?.migrationName;
  throw new Error(failed ? `数据库迁移 ${failed} 失败：${String(error)}` : `数据库迁移失败：${String(error)}`, { cause: error });
}
