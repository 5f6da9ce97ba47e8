/**
 * The part of better-sqlite3 the store uses. The package ships no types and adding
 * @types/better-sqlite3 would be a new dependency; Kysely's own SqliteDatabase interface describes
 * what its dialect calls, this adds the pragmas and raw statements `connect.ts` needs. Delete this
 * file if @types/better-sqlite3 is ever installed.
 */
declare module 'better-sqlite3' {
  import type { SqliteDatabase, SqliteStatement } from 'kysely';

  /** Constructor options (https://github.com/WiseLibs/better-sqlite3/blob/master/docs/api.md). */
  interface Options {
    readonly?: boolean;
    fileMustExist?: boolean;
    /** Milliseconds to wait for another connection's lock before SQLITE_BUSY (sets busy_timeout). */
    timeout?: number;
  }

  /** One open SQLite database file. */
  class Database implements SqliteDatabase {
    constructor(filename: string, options?: Options);
    readonly open: boolean;
    readonly inTransaction: boolean;
    prepare(sql: string): SqliteStatement;
    /** Runs a PRAGMA; with `simple: true` returns the first column of the first row. */
    pragma(source: string, options: { simple: true }): unknown;
    /** Runs SQL text that may hold several statements and returns nothing. */
    exec(sql: string): this;
    close(): this;
  }

  export default Database;
}
