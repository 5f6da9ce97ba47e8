import { afterEach, beforeEach, it } from 'vitest';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import { TEST_PG_URL, freshPostgresSchema } from './databases.js';
import { removeDir, tempDir } from './knowledge.js';

/** A store on a fresh database of each kind, with a plain Kysely beside it for what no repository writes yet. */
export function storeOn(pgWanted: boolean): { open(): Promise<{ store: Store; raw: Kysely<Database> }>; close(): Promise<void> } {
  let cleanup: () => Promise<void> = async () => undefined;
  let store: Store | null = null;
  let raw: Kysely<Database> | null = null;
  return {
    async open() {
      if (pgWanted && TEST_PG_URL) {
        const schema = await freshPostgresSchema(TEST_PG_URL);
        store = await openStore(schema.url);
        raw = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 1 }) }) });
        cleanup = schema.cleanup;
      } else {
        const dir = tempDir('chunfeng-report-');
        const path = join(dir, 'db.sqlite');
        store = await openStore(`sqlite:${path}`);
        raw = new Kysely<Database>({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
        cleanup = async () => removeDir(dir);
      }
      return { store, raw };
    },
    async close() {
      await raw?.destroy();
      await store?.close();
      await cleanup();
    },
  };
}

/**
 * For the body of a `describe.each(BOTH_DATABASES)`: a fresh store (and raw connection) before each
 * test, closed after it, and `test`, skipped with its label when PostgreSQL is not configured.
 */
export function eachTestStore(onPg: boolean): { readonly store: Store; readonly raw: Kysely<Database>; readonly test: ReturnType<typeof it.skipIf> } {
  const target = storeOn(onPg);
  const skipped = onPg && !TEST_PG_URL;
  let opened: { store: Store; raw: Kysely<Database> } | null = null;
  beforeEach(async () => {
    if (!skipped) opened = await target.open();
  });
  afterEach(async () => {
    if (!skipped) await target.close();
  });
  const current = (): { store: Store; raw: Kysely<Database> } => {
    if (!opened) throw new Error('store not open');
    return opened;
  };
  return {
    get store() {
      return current().store;
    },
    get raw() {
      return current().raw;
    },
    test: it.skipIf(skipped),
  };
}
