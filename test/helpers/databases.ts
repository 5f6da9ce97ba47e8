import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** TEST_DATABASE_URL, or null: PostgreSQL suites are then skipped and say so. */
export const TEST_PG_URL = process.env.TEST_DATABASE_URL?.trim() || null;

/** The two databases for `describe.each`: `pg` true for PostgreSQL, whose label says when it is skipped. */
export const BOTH_DATABASES = [
  { label: 'SQLite', pg: false },
  { label: TEST_PG_URL ? 'PostgreSQL' : 'PostgreSQL (skipped: TEST_DATABASE_URL not set)', pg: true },
] as const;

/** Runs `run` with a connected client, and disconnects. */
export async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/**
 * A new schema with a random name on `base`, first on search_path through the connection options,
 * so parallel and aborted runs never see each other's tables; `cleanup` drops it.
 */
export async function freshPostgresSchema(base: string, prefix = 'chunfeng_test'): Promise<{ url: string; schema: string; cleanup(): Promise<void> }> {
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await withClient(base, (c) => c.query(`create schema ${schema}`));
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return { url: url.toString(), schema, cleanup: () => withClient(base, (c) => c.query(`drop schema if exists ${schema} cascade`)).then(() => undefined) };
}

/** A fresh database for one store test, and how to throw it away. */
export interface StoreTarget {
  readonly url: string;
  cleanup(): Promise<void>;
}

/** SQLite in a temporary folder, and a fresh PostgreSQL schema (null when TEST_DATABASE_URL is not set), for `describe.each`. */
export function storeTargets(prefix: string): { label: string; make: (() => Promise<StoreTarget>) | null }[] {
  return [
    {
      label: 'SQLite',
      make: async () => {
        const dir = mkdtempSync(join(tmpdir(), `${prefix.replaceAll('_', '-')}-`));
        return { url: `sqlite:${join(dir, 'chunfeng.db')}`, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
    { label: TEST_PG_URL ? 'PostgreSQL' : 'PostgreSQL (skipped: TEST_DATABASE_URL not set)', make: TEST_PG_URL ? () => freshPostgresSchema(TEST_PG_URL as string, prefix) : null },
  ];
}
