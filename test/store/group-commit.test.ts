import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitSqliteDialect } from '../../src/store/group-commit.js';

interface Db {
  parents: { id: number };
  notes: { id: number; parent: number | null; text: string };
}

describe('SQLite group commit', () => {
  let dir: string;
  let file: string;
  let db: Kysely<Db>;
  let conn: Sqlite;
  /** A second connection, as another process would have: it sees only what was committed. */
  let reader: Sqlite;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chunfeng-group-commit-'));
    file = join(dir, 'db.sqlite');
    const setup = new Sqlite(file);
    setup.pragma('journal_mode = WAL', { simple: true });
    setup.exec(`create table parents (id integer primary key);
      create table notes (id integer primary key, parent integer references parents(id) deferrable initially deferred, text text not null)`);
    setup.close();
    conn = new Sqlite(file);
    conn.pragma('foreign_keys = ON', { simple: true });
    db = new Kysely<Db>({ dialect: new GroupCommitSqliteDialect(conn) });
    reader = new Sqlite(file, { readonly: true });
  });

  afterEach(async () => {
    reader.close();
    await db.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const committed = (): number => (reader.prepare('select count(*) as n from notes').all([])[0] as { n: number }).n;
  const commits = (): number => reader.pragma('data_version', { simple: true }) as number;
  const insert = (id: number, parent: number | null = null) => db.insertInto('notes').values({ id, parent, text: `第${id}条` }).execute();

  it('commits the writes of one turn together, and tells each caller only once they are committed', async () => {
    const before = commits();
    const seenAtResolve: number[] = [];
    await Promise.all(Array.from({ length: 50 }, (_, i) => insert(i + 1).then(() => seenAtResolve.push(committed()))));
    expect(committed()).toBe(50);
    expect(seenAtResolve.every((n) => n === 50)).toBe(true);
    // One commit (the reader counts each commit of another connection once), not fifty.
    expect(commits() - before).toBe(1);
  });

  it('rejects a failing statement alone and commits the rest of its turn', async () => {
    await insert(1);
    const results = await Promise.allSettled([insert(2), insert(1), insert(3)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed()).toBe(3);
  });

  it('runs a unit whole or not at all, while the rest of its turn commits', async () => {
    await insert(1);
    const dialect = new GroupCommitSqliteDialect(conn);
    const units = new Kysely<Db>({ dialect });
    const note = (id: number) => units.insertInto('notes').values({ id, parent: null, text: `第${id}条` }).compile();
    const results = await Promise.allSettled([
      dialect.together([note(2), note(3)]),
      // Its second statement fails: its first is undone with it.
      dialect.together([note(4), note(1)]),
      insert(5),
      dialect.together([note(6), units.selectFrom('notes').select('id').where('id', '=', 6).compile()]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    // A unit's statements see each other: the read after the insert finds it.
    expect((results[3] as PromiseFulfilledResult<{ rows: unknown[] }[]>).value[1]?.rows).toEqual([{ id: 6 }]);
    expect(reader.prepare('select id from notes order by id').all([])).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 5 }, { id: 6 }]);
  });

  it('rejects every write of a turn whose commit fails, and keeps none of them', async () => {
    // A deferred foreign key is checked at COMMIT: the orphan fails the whole turn.
    const results = await Promise.allSettled([insert(1), insert(2, 999), insert(3)]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(committed()).toBe(0);
    // The connection is usable again.
    await insert(4);
    expect(committed()).toBe(1);
  });

  it('runs reads at once, seeing what is committed', async () => {
    await insert(1);
    const [, rows] = await Promise.all([insert(2), db.selectFrom('notes').select('id').orderBy('id').execute()]);
    expect(rows.map((r) => r.id)).toEqual([1]);
    expect((await sql<{ n: number }>`select count(*) as n from notes`.execute(db)).rows[0]?.n).toBe(2);
  });

  it('gives an explicit transaction the connection to itself, after committing the turn', async () => {
    const pending = insert(1);
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ id: 2, parent: null, text: '事务内' }).execute();
        // Outside writes wait for the transaction to end.
        void insert(3);
        expect(committed()).toBe(1);
        throw new Error('回滚');
      }),
    ).rejects.toThrow('回滚');
    await pending;
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(reader.prepare('select id from notes order by id').all([])).toEqual([{ id: 1 }, { id: 3 }]);
  });

  it('reports an explicit transaction\'s failed commit as such, and goes on working', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ id: 1, parent: 999, text: '孤儿' }).execute();
      }),
    ).rejects.toThrow(/FOREIGN KEY/);
    await insert(2);
    expect(reader.prepare('select id from notes').all([])).toEqual([{ id: 2 }]);
  });

  it('commits what is waiting when closed', async () => {
    const pending = insert(1);
    // Kysely hands the query to the driver a fixed number of microtasks later; the turn is not over.
    for (let i = 0; i < 50; i++) await Promise.resolve();
    expect(committed()).toBe(0);
    await db.destroy();
    await pending;
    expect(committed()).toBe(1);
    conn = new Sqlite(file);
    db = new Kysely<Db>({ dialect: new GroupCommitSqliteDialect(conn) });
  });
});
