import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type CompiledQuery, type QueryResult } from 'kysely';
import { GroupCommitSqliteDialect } from './group-commit.js';
import { BatchingPostgresDialect } from './pg-batch.js';
import pg from 'pg';
import { migrateToLatest, postgresLock } from './migrations.js';
import type { Database } from './schema.js';

/**
 * Everything that differs between SQLite and PostgreSQL lives in this file: opening the connection
 * and making migrations safe. The repositories use one dialect-neutral SQL for both.
 */

/** Which database a store runs on. */
export type StoreKind = 'sqlite' | 'postgres';

/**
 * Runs statements as one unit with the other writes of the turn (group commit on SQLite, batches on
 * PostgreSQL): all of them take effect or none does. Resolves with each statement's result once
 * committed; rejects with the failure of the first statement that failed.
 */
export type Together = (queries: readonly CompiledQuery[]) => Promise<QueryResult<unknown>[]>;

/** An open, migrated database. */
export interface Connection {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
  readonly together: Together;
}

/** Which unique index or constraint an error says was violated, or null when it is no such error. */
export function violatedUnique(err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { code?: unknown; constraint?: unknown; message?: unknown };
  // PostgreSQL names the constraint or index.
  if (e.code === '23505' && typeof e.constraint === 'string') return e.constraint;
  // SQLite names the columns: "UNIQUE constraint failed: outbox.dedupe_key".
  if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof e.message === 'string') return e.message.replace(/^UNIQUE constraint failed: /, '');
  return null;
}

/** Options that only matter for some databases. */
export interface ConnectOptions {
  /**
   * Called when an idle PostgreSQL connection breaks (server restart, network). pg's pool emits
   * these as 'error' events, which would crash the process if nobody listened; the next query gets
   * a fresh connection, so by default they are ignored.
   */
  readonly onPoolError?: (err: Error) => void;
}

/** How long a SQLite writer waits for another process's lock before failing with SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Opens `sqlite:PATH` or `postgres://...` and applies pending migrations. */
export async function connect(databaseUrl: string, options: ConnectOptions = {}): Promise<Connection> {
  if (databaseUrl.startsWith('sqlite:')) return connectSqlite(databaseUrl.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) return connectPostgres(databaseUrl, options);
  throw new Error('数据库地址应为 sqlite:文件路径 或 postgres://...');
}

/** SQLite migrations under way in this process, by file: see {@link migrateSqlite}. */
const sqliteMigrations = new Map<string, Promise<void>>();

async function connectSqlite(path: string): Promise<Connection> {
  if (!path) throw new Error('sqlite: 后应为数据库文件路径');
  const memory = path === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const file = new Sqlite(path, { timeout: SQLITE_BUSY_TIMEOUT_MS });
  try {
    // WAL lets readers work while one writer writes; in-memory databases stay in 'memory' mode.
    file.pragma('journal_mode = WAL', { simple: true });
    // In WAL mode NORMAL syncs at checkpoints instead of every commit: a crash of the process loses
    // nothing, a power cut at most the last commits; FULL would cost an fsync per stored message.
    file.pragma('synchronous = NORMAL', { simple: true });
    // better-sqlite3's build turns this on by default, but plain SQLite ignores REFERENCES unless
    // asked, per connection; saying so keeps SQLite as strict as PostgreSQL whatever the build.
    file.pragma('foreign_keys = ON', { simple: true });
  } catch (err) {
    file.close();
    throw err;
  }
  const key = memory ? null : resolve(path);
  try {
    const previous = key ? sqliteMigrations.get(key) : undefined;
    const run = (previous ?? Promise.resolve()).catch(() => undefined).then(() => migrateSqlite(file));
    if (key) sqliteMigrations.set(key, run);
    try {
      await run;
    } finally {
      if (key && sqliteMigrations.get(key) === run) sqliteMigrations.delete(key);
    }
  } catch (err) {
    file.close();
    throw err;
  }
  const dialect = new GroupCommitSqliteDialect(file);
  return { db: new Kysely<Database>({ dialect }), kind: 'sqlite', together: (queries) => dialect.together(queries) };
}

/**
 * Migrations on SQLite run inside one `BEGIN IMMEDIATE`, so a migration that fails halfway leaves
 * nothing behind and two processes starting together do not both create the tables: SQLite's DDL
 * is transactional, the Kysely dialect sends everything over this same connection, and the write lock makes a second process wait (busy
 * timeout) and then find the migrations applied. Within one process the lock would block the thread
 * that holds it, so migrations of the same file are chained instead.
 */
async function migrateSqlite(file: Sqlite): Promise<void> {
  // Kysely's own dialect over the open file (closing it is left to the store), with no group commit:
  // the migrations' statements belong to this one transaction.
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: { prepare: (text) => file.prepare(text), close: () => undefined } }) });
  file.exec('BEGIN IMMEDIATE');
  try {
    await migrateToLatest(db);
    file.exec('COMMIT');
  } catch (err) {
    if (file.inTransaction) file.exec('ROLLBACK');
    throw err;
  }
}

/**
 * The same trade as SQLite's synchronous=NORMAL: a commit returns once PostgreSQL has it, without
 * waiting for its log to reach the disk. A crash of the database server can lose the last fraction
 * of a second of commits (never consistency); a crash of the gateway loses nothing. Waiting for the
 * disk doubled each commit here (0.9 ms against 0.44 ms), and a message waits for its rounds of the
 * store in turn. Put before the connection's own `options`, so an operator's setting in
 * DATABASE_URL comes later and wins.
 */
function withoutCommitWait(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const own = url.searchParams.get('options');
  url.searchParams.set('options', ['-c synchronous_commit=off', own].filter(Boolean).join(' '));
  return url.toString();
}

async function connectPostgres(databaseUrl: string, options: ConnectOptions): Promise<Connection> {
  // Timeouts: with the database unreachable, handlers, /readyz and shutdown fail after a while
  // instead of waiting for ever.
  // Pipelined clients: a turn's batch goes out as one round trip with bound parameters (pg-batch.ts).
  const pool = new pg.Pool({ connectionString: withoutCommitWait(databaseUrl), application_name: 'chunfeng', connectionTimeoutMillis: 5_000, query_timeout: 15_000, pipeline: true });
  pool.on('error', (err) => options.onPoolError?.(err));
  const dialect = new BatchingPostgresDialect(pool);
  const db = new Kysely<Database>({ dialect });
  try {
    const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    if ((rows[0]?.schema ?? null) === null) throw new Error('PostgreSQL 的 search_path 中没有存在的 schema，无法建表');
    // PostgreSQL's DDL is transactional: a migration that fails leaves nothing behind.
    await (db as Kysely<unknown>).transaction().execute(async (trx) => {
      await postgresLock(trx);
      await migrateToLatest(trx);
    });
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, kind: 'postgres', together: (queries) => dialect.together(queries) };
}
