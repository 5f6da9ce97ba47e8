import Sqlite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepare } from '../../src/store/prepared.js';

interface Db {
  notes: { id: number; chat: string; text: string; stars: number };
}

describe('prepare', () => {
  let db: Kysely<Db>;
  beforeEach(async () => {
    db = new Kysely<Db>({ dialect: new SqliteDialect({ database: new Sqlite(':memory:') }) });
    await db.schema.createTable('notes').addColumn('id', 'integer', (c) => c.primaryKey()).addColumn('chat', 'text').addColumn('text', 'text').addColumn('stars', 'integer').execute();
  });
  afterEach(async () => {
    await db.destroy();
  });

  it('runs the compiled query with each call\'s values, keeping the constants it was built with', async () => {
    const insert = prepare(db, (a: { id: number; chat: string; text: string }) => db.insertInto('notes').values({ id: a.id, chat: a.chat, text: a.text, stars: 3 }));
    const starred = prepare(db, (a: { chat: string; min: number }) =>
      db.selectFrom('notes').select(['id', 'text']).where('chat', '=', a.chat).where('stars', '>=', a.min).orderBy('id'));
    await insert.execute({ id: 1, chat: '甲群', text: '留抵退税怎么申请' });
    await insert.execute({ id: 2, chat: '乙群', text: '发票丢了怎么办' });
    await insert.execute({ id: 3, chat: '甲群', text: '个税汇算什么时候' });
    expect((await starred.execute({ chat: '甲群', min: 3 })).rows).toEqual([{ id: 1, text: '留抵退税怎么申请' }, { id: 3, text: '个税汇算什么时候' }]);
    expect((await starred.execute({ chat: '乙群', min: 3 })).rows).toEqual([{ id: 2, text: '发票丢了怎么办' }]);
    expect((await starred.execute({ chat: '甲群', min: 4 })).rows).toEqual([]);
  });

  it('refuses an argument that would shape the query instead of being a value', () => {
    expect(() => prepare(db, (a: { column: string }) => db.selectFrom('notes').select(a.column as 'text'))).toThrow(/SQL 文本/);
    expect(() =>
      prepare(db, (a: { chat: string; all: boolean }) => {
        const q = db.selectFrom('notes').select('id');
        return a.all ? q : q.where('chat', '=', a.chat);
      }),
    ).toThrow(/all 没有用作值/);
  });
});
