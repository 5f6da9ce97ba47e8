import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isWorkingDay } from '../../src/core/tickets/workdays.js';
import { build } from '../helpers/build.js';
import { faqFile, removeDir, tempDir, writeFiles } from '../helpers/knowledge.js';

let app: FastifyInstance | null = null;
const dirs: string[] = [];
afterEach(async () => {
  await app?.close();
  app = null;
  for (const d of dirs.splice(0)) removeDir(d);
});

/** A small knowledge folder: an invoice entry only. */
function folder(): string {
  const dir = tempDir('chunfeng-reload-');
  dirs.push(dir);
  return writeFiles(dir, {
    'faq/invoice-lost.md': faqFile({ id: 'invoice-lost', title: '发票丢失了怎么办', questions: ['发票丢了怎么处理', '发票弄丢了要不要报告', '丢了专票怎么办'], keywords: ['发票丢失'] }),
  });
}

const ask = async (q: string): Promise<{ answered: boolean; id: string | null }> => (await app!.inject({ method: 'POST', url: '/api/ask', payload: { q } })).json();

describe('reloading the knowledge without a restart', () => {
  it('answers from a new entry once reloaded, and keeps answering /healthz while the worker builds', async () => {
    const dir = folder();
    app = await build({ index: null, env: { KNOWLEDGE_DIR: dir } });
    await app.ready();
    await app.knowledge.loaded;
    expect(await ask('契税交几个点')).toMatchObject({ answered: false });

    writeFiles(dir, {
      'faq/deed-tax-rates.md': faqFile({ id: 'deed-tax-rates', title: '契税税率是多少', questions: ['契税交几个点', '买房契税百分之几', '首套房契税多少'], keywords: ['契税', '契税税率'] }),
    });
    const reloading = app.knowledge.reload();
    // The old index answers and /healthz is served while the new one is built in a worker thread.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect(await ask('发票丢了怎么处理')).toMatchObject({ answered: true, id: 'invoice-lost' });
    expect(await reloading).toMatchObject({ entries: 2, fromCache: false });
    expect(await ask('契税交几个点')).toMatchObject({ answered: true, id: 'deed-tax-rates' });
  });

  it('runs reloads asked for during one once, after it', async () => {
    app = await build({ index: null, env: { KNOWLEDGE_DIR: folder() } });
    await app.ready();
    await app.knowledge.loaded;
    const first = app.knowledge.reload();
    const second = app.knowledge.reload();
    const third = app.knowledge.reload();
    expect(third).toBe(second);
    expect(second).not.toBe(first);
    await Promise.all([first, second]);
  });

  it('gives out the folder\'s working-day calendar from start, before the first load, and the new one after a reload', async () => {
    const dir = folder();
    writeFiles(dir, { 'calendar/2026.yaml': 'year: 2026\nholidays:\n  - 2026-10-01 ~ 2026-10-07\nworkdays: [2026-10-10]\n' });
    app = await build({ index: null, env: { KNOWLEDGE_DIR: dir } });
    await app.ready();
    // The worker is still building: reminder rounds and deadlines already skip 国庆 and count the 调休 Saturday.
    expect(app.knowledge.ready).toBe(false);
    const before = app.knowledge.tickets().calendar;
    expect([isWorkingDay('2026-10-01', before), isWorkingDay('2026-10-10', before)]).toEqual([false, true]);
    await app.knowledge.loaded;
    writeFiles(dir, { 'calendar/2026.yaml': 'year: 2026\nholidays:\n  - 2026-10-01 ~ 2026-10-08\nworkdays: [2026-10-10]\n' });
    await app.knowledge.reload();
    expect(isWorkingDay('2026-10-08', app.knowledge.tickets().calendar)).toBe(false);
  });

  it('keeps the old index when the folder cannot be loaded, and says why', async () => {
    const dir = folder();
    app = await build({ index: null, env: { KNOWLEDGE_DIR: dir } });
    await app.ready();
    await app.knowledge.loaded;
    rmSync(join(dir, 'faq'), { recursive: true });
    rmSync(dir, { recursive: true });
    await expect(app.knowledge.reload()).rejects.toThrow(/知识库/);
    expect(await ask('发票丢了怎么处理')).toMatchObject({ answered: true, id: 'invoice-lost' });
  });
});
