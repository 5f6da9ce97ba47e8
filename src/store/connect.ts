import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { migrateToLatest, postgresLock } from './migrations.js';
import type { Database } from './schema.js';

/**
 * Everything that differs between SQLite and PostgreSQL lives in this file: opening the connection
 * and making migrations safe. The repositories use one dialect-neutral SQL for both.
 */

/** Which database a store runs on. */
export type StoreKind = 'sqlite' | 'postgres';

/** An open, migrated database. */
export interface Connection {
  readonly db: Kysely<Database>;
  readonly kind: StoreKind;
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

/** Prepared statements kept per SQLite connection; the repositories use a few dozen shapes. */
const SQLITE_STATEMENT_CACHE_SIZE = 200;

/**
 * The database as Kysely's SQLite dialect sees it, keeping each prepared statement for reuse.
 * Kysely prepares the SQL of every query it runs, and SQLite compiling the same few INSERTs again
 * for every message was a seventh of the gateway's CPU. A better-sqlite3 statement can run again as
 * soon as the last run returned, which is always the case here: runs are synchronous and the store
 * never streams. Least recently used out first, so queries of varying shape cannot grow it.
 */
function cachingStatements(file: Sqlite): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    prepare(text) {
      let statement = statements.get(text);
      if (statement) statements.delete(text);
      else {
        statement = file.prepare(text);
        if (statements.size >= SQLITE_STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(text, statement);
      return statement;
    },
    close() {
      statements.clear();
      file.close();
    },
  };
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
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(file) }) });
  try {
    const key = memory ? null : resolve(path);
    const previous = key ? sqliteMigrations.get(key) : undefined;
    const run = (previous ?? Promise.resolve()).catch(() => undefined).then(() => migrateSqlite(file, db));
    if (key) sqliteMigrations.set(key, run);
    try {
      await run;
    } finally {
      if (key && sqliteMigrations.get(key) === run) sqliteMigrations.delete(key);
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, kind: 'sqlite' };
}

/**
 * Migrations on SQLite run inside one `BEGIN IMMEDIATE`, so a migration that fails halfway leaves
 * nothing behind and two processes starting together do not both create the tables: SQLite's DDL is transactional, the Kysely dialect sends
 * everything over this same connection, and the write lock makes a second process wait (busy
 * timeout) and then find the migrations applied. Within one process the lock would block the thread
 * that holds it, so migrations of the same file are chained instead.
 */
async function migrateSqlite(file: Sqlite, db: Kysely<Database>): Promise<void> {
  file.exec('BEGIN IMMEDIATE');
  try {
    await migrateToLatest(db as Kysely<unknown>);
    file.exec('COMMIT');
  } catch (err) {
    if (file.inTransaction) file.exec('ROLLBACK');
    throw err;
  }
}

async function connectPostgres(databaseUrl: string, options: ConnectOptions): Promise<Connection> {
  // Timeouts: with the database unreachable, handlers, /readyz and shutdown fail after a while
  // instead of waiting for ever.
  const pool = new pg.Pool({ connectionString: databaseUrl, application_name: 'chunfeng', connectionTimeoutMillis: 5_000, query_timeout: 15_000 });
  pool.on('error', (err) => options.onPoolError?.(err));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
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
  return { db, kind: 'postgres' };
}
