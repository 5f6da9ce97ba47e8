import { CompiledQuery, Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/store/connect.js';
import { BatchingPostgresDialect } from '../../src/store/pg-batch.js';
import { TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';

const PG_NOTE = TEST_PG_URL ? '' : ' (skipped: TEST_DATABASE_URL not set)';

interface Db {
  notes: { id: number; text: string };
}

describe.skipIf(!TEST_PG_URL)(`PostgreSQL batches${PG_NOTE}`, () => {
  let db: Kysely<Db>;
  let url: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const fresh = await freshPostgresSchema(TEST_PG_URL as string, 'chunfeng_batch');
    url = fresh.url;
    cleanup = fresh.cleanup;
    db = new Kysely<Db>({ dialect: new BatchingPostgresDialect(new pg.Pool({ connectionString: fresh.url, pipeline: true })) });
    await db.schema.createTable('notes').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('text', 'text', (c) => c.notNull()).execute();
  });

  afterEach(async () => {
    await db.destroy();
    await cleanup();
  });

  const txid = async (): Promise<string> => (await sql<{ id: string }>`select txid_current()::text as id`.execute(db)).rows[0]!.id;

  it('runs the statements of one turn in one transaction, and those of later turns in others', async () => {
    const together = await Promise.all(Array.from({ length: 5 }, txid));
    expect(new Set(together).size).toBe(1);
    expect(await txid()).not.toBe(together[0]);
  });

  it('stores and returns any text exactly, quotes, backslashes and SQL included', async () => {
    const texts = ["it's", 'C:\\Program Files\\', "'); drop table notes; --", '$1 $2', '留抵退税\n"引号"', '\\\'', ''];
    await Promise.all(texts.map((text, i) => db.insertInto('notes').values({ id: i + 1, text }).execute()));
    const rows = await db.selectFrom('notes').select(['id', 'text']).orderBy('id').execute();
    expect(rows.map((r) => r.text)).toEqual(texts);
  });

  it('runs a unit whole or not at all, in the turn\'s batch, and on its own when the batch is refused', async () => {
    const dialect = new BatchingPostgresDialect(new pg.Pool({ connectionString: url, pipeline: true }));
    const units = new Kysely<Db>({ dialect });
    try {
      await units.insertInto('notes').values({ id: 1, text: '一' }).execute();
      const note = (id: number) => units.insertInto('notes').values({ id, text: `第${id}条` }).compile();
      // One batch: each unit in it shares the turn's transaction.
      const [a, b] = await Promise.all([dialect.together([note(2), note(3)]), dialect.together([note(4), sql`select txid_current()::text as id`.compile(units)])]);
      expect(a).toHaveLength(2);
      expect(b).toHaveLength(2);
      // A unit whose second statement fails refuses the batch; run again alone, it keeps neither statement.
      const results = await Promise.allSettled([dialect.together([note(5), note(1)]), dialect.together([note(6), note(7)]), units.insertInto('notes').values({ id: 8, text: '八' }).execute()]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: '23505' });
      // Any value travels as a parameter (a Date here), in a unit as anywhere.
      const dated = (id: number) => CompiledQuery.raw('insert into notes (id, text) values ($1, $2)', [id, new Date(0)]);
      await dialect.together([note(9), dated(10)]);
      await expect(dialect.together([dated(11), note(1)])).rejects.toMatchObject({ code: '23505' });
      const rows = await units.selectFrom('notes').select('id').orderBy('id').execute();
      expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    } finally {
      await units.destroy();
    }
  });

  it('rejects a failing statement alone: the rest of its turn is stored', async () => {
    await db.insertInto('notes').values({ id: 1, text: '一' }).execute();
    const results = await Promise.allSettled([
      db.insertInto('notes').values({ id: 2, text: '二' }).execute(),
      db.insertInto('notes').values({ id: 1, text: '重复' }).execute(),
      db.insertInto('notes').values({ id: 3, text: '三' }).returning('id').execute(),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/duplicate key/);
    expect((results[2] as PromiseFulfilledResult<{ id: number }[]>).value).toEqual([{ id: 3 }]);
    expect((await db.selectFrom('notes').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it('refuses a fraction for an integer column rather than rounding it', async () => {
    const results = await Promise.allSettled([
      db.insertInto('notes').values({ id: 1.5, text: '小数' }).execute(),
      db.insertInto('notes').values({ id: 2, text: '整数' }).execute(),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect((await db.selectFrom('notes').select('id').execute()).map((r) => r.id)).toEqual([2]);
  });

  it('rejects a batch it cannot tell committed, and does not run it again', async () => {
    await sql`create table log (k integer unique, text text not null)`.execute(db);
    // Another connection holds the row the batch will wait for, past the batch's timeout.
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query('begin');
    await holder.query(`insert into log (k, text) values (1, '占用')`);
    const impatient = new Kysely<{ log: { k: number | null; text: string } }>({
      dialect: new BatchingPostgresDialect(new pg.Pool({ connectionString: url, query_timeout: 300, pipeline: true })),
    });
    try {
      const results = await Promise.allSettled([
        impatient.insertInto('log').values({ k: null, text: '甲' }).execute(),
        impatient.insertInto('log').values({ k: 1, text: '乙' }).onConflict((oc) => oc.column('k').doNothing()).execute(),
      ]);
      expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
      await holder.query('rollback');
      // The server goes on with the batch once the row is free; nothing runs it a second time.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const rows = await sql<{ text: string }>`select text from log order by text`.execute(db);
      expect(rows.rows.filter((r) => r.text === '甲').length).toBeLessThanOrEqual(1);
      expect(rows.rows.filter((r) => r.text === '乙').length).toBeLessThanOrEqual(1);
    } finally {
      await holder.end();
      await impatient.destroy();
    }
  });

  it('passes arrays as parameters, in a batch like any other value', async () => {
    const [list] = await Promise.all([sql<{ a: number[] }>`select ${[1, 2, 3]}::int[] as a`.execute(db), txid()]);
    expect(list.rows[0]?.a).toEqual([1, 2, 3]);
  });

  it('gives an explicit transaction its own connection; a rollback keeps none of it', async () => {
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('notes').values({ id: 1, text: '事务内' }).execute();
        // Outside the transaction, meanwhile: committed on its own.
        await db.insertInto('notes').values({ id: 2, text: '事务外' }).execute();
        throw new Error('回滚');
      }),
    ).rejects.toThrow('回滚');
    expect((await db.selectFrom('notes').select('id').execute()).map((r) => r.id)).toEqual([2]);
  });
});

describe.skipIf(!TEST_PG_URL)(`PostgreSQL connection settings${PG_NOTE}`, () => {
  const setting = async (url: string): Promise<string> => {
    const { db } = await connect(url);
    try {
      return (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0]!.synchronous_commit;
    } finally {
      await db.destroy();
    }
  };

  it('does not wait for the disk on commit, unless DATABASE_URL says otherwise', async () => {
    const fresh = await freshPostgresSchema(TEST_PG_URL as string, 'chunfeng_settings');
    try {
      expect(await setting(fresh.url)).toBe('off');
      const url = new URL(fresh.url);
      url.searchParams.set('options', `${url.searchParams.get('options') ?? ''} -c synchronous_commit=on`);
      expect(await setting(url.toString())).toBe('on');
    } finally {
      await fresh.cleanup();
    }
  });
});
