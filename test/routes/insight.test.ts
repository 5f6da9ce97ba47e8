import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { build } from '../helpers/build.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { answerText, faqFile, removeDir, tempDir, writeFiles } from '../helpers/knowledge.js';

const TOKEN = 'test-admin-token';
const apps: FastifyInstance[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
  for (const c of cleanups.splice(0)) await c();
});

/** A small knowledge folder: the invoice entry, and a categories list as kb lint reads it. */
function folder(): string {
  const dir = tempDir('chunfeng-inbox-');
  cleanups.push(() => removeDir(dir));
  return writeFiles(dir, {
    'categories.txt': '发票\n契税\n',
    'faq/invoice-lost.md': faqFile({ id: 'invoice-lost', title: '发票丢失了怎么办', category: '发票', questions: ['发票丢了怎么处理', '发票弄丢了要不要报告', '丢了专票怎么办'], keywords: ['发票丢失'] }),
    'faq/deed-tax-rates.md': faqFile({ id: 'deed-tax-rates', title: '契税税率是多少', category: '契税', questions: ['契税交几个点', '买房契税百分之几', '首套房契税多少'], keywords: ['契税', '契税税率'] }),
  });
}

/** A database both instances share: a fresh PostgreSQL schema, or one SQLite file. */
async function sharedDatabase(pg: boolean): Promise<string> {
  if (pg && TEST_PG_URL) {
    const schema = await freshPostgresSchema(TEST_PG_URL);
    cleanups.push(schema.cleanup);
    return schema.url;
  }
  const dir = tempDir('chunfeng-inbox-db-');
  cleanups.push(() => removeDir(dir));
  return `sqlite:${join(dir, 'shared.db')}`;
}

async function instance(databaseUrl: string, knowledgeDir: string): Promise<FastifyInstance> {
  const app = await build({ index: null, env: { KNOWLEDGE_DIR: knowledgeDir, DATABASE_URL: databaseUrl, KNOWLEDGE_POLL_SECONDS: '1' } });
  apps.push(app);
  await app.ready();
  await app.knowledge.loaded;
  return app;
}

const call = async (app: FastifyInstance, method: 'GET' | 'POST', url: string, payload?: unknown) => {
  const res = await app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.statusCode, body: String(res.headers['content-type']).startsWith('application/json') ? res.json() : res.body };
};
const ask = async (app: FastifyInstance, q: string): Promise<{ answered: boolean; id: string | null }> => (await app.inject({ method: 'POST', url: '/api/ask', payload: { q } })).json();

/** A question the folder above cannot answer, and its neighbours in wording. */
const LOST_RECEIPT = '小票不见了咋整';

describe.each(BOTH_DATABASES)('the unanswered inbox, end to end ($label)', ({ pg }) => {
  const test = it.skipIf(pg && !TEST_PG_URL);

  test('a declined question attached to an entry is answered after the reload, on this instance and another, without a restart', async () => {
    const db = await sharedDatabase(pg);
    const [dirA, dirB] = [folder(), folder()];
    const a = await instance(db, dirA);
    const b = await instance(db, dirB);

    expect(await ask(a, LOST_RECEIPT)).toMatchObject({ answered: false });
    expect(await ask(b, '小票不见了咋整？')).toMatchObject({ answered: false });
    const inbox = await call(a, 'GET', '/api/insight/unanswered');
    expect(inbox.status).toBe(200);
    expect(inbox.body.total).toBe(1);
    const group = inbox.body.groups[0];
    expect(group).toMatchObject({ count: 2, examples: ['小票不见了咋整？', LOST_RECEIPT] });

    const attached = await call(a, 'POST', `/api/insight/unanswered/${group.id}/attach`, { entry: 'invoice-lost' });
    expect(attached.status).toBe(200);
    expect(attached.body).toMatchObject({ entry: 'invoice-lost', file: 'faq/invoice-lost.md', added: ['小票不见了咋整？', LOST_RECEIPT] });
    // An ordinary file change in the folder: the phrasing is now one of the entry's questions.
    expect(readFileSync(join(dirA, 'faq/invoice-lost.md'), 'utf8')).toContain(`  - ${LOST_RECEIPT}\n`);
    expect(await ask(a, LOST_RECEIPT)).toMatchObject({ answered: true, id: 'invoice-lost' });
    expect((await call(a, 'GET', '/api/insight/unanswered')).body.total).toBe(0);

    // The other instance finds the revision in the store, writes it into its own folder and reloads.
    await vi.waitFor(() => expect(readFileSync(join(dirB, 'faq/invoice-lost.md'), 'utf8')).toContain(LOST_RECEIPT), { timeout: 45_000, interval: 200 });
    await vi.waitFor(async () => expect(await ask(b, LOST_RECEIPT)).toMatchObject({ answered: true, id: 'invoice-lost' }), { timeout: 45_000, interval: 200 });

    // Staff see the inbox working: the same question answered since, on A and then on B (B declined it
    // while it had not picked up the change yet).
    const decisions = await call(a, 'GET', '/api/insight/decisions');
    expect(decisions.body.decisions[0]).toMatchObject({ state: 'attached', entry: 'invoice-lost', title: '发票丢失了怎么办', answeredSince: 2 });
  }, 120_000);

  test('a new entry drafted from a group is checked like kb lint, written as a file and answers', async () => {
    const db = await sharedDatabase(pg);
    const dir = folder();
    const app = await instance(db, dir);
    expect(await ask(app, '个体户核定征收怎么申请')).toMatchObject({ answered: false });
    const group = (await call(app, 'GET', '/api/insight/unanswered')).body.groups[0];

    const draft = {
      id: 'assessed-collection', title: '个体户核定征收怎么申请', category: '个体户', questions: ['个体户核定征收怎么申请'], keywords: ['核定征收'],
      sources: ['国家税务总局公告2024年第1号'], answer: '太短',
    };
    const checked = await call(app, 'POST', '/api/insight/drafts/check', draft);
    expect(checked.body.problems.map((p: { message: string }) => p.message)).toEqual([
      '有 1 种问法，建议 5-10 种', '答案长 2 字，建议 80-400 字', '分类“个体户”不在 categories.txt 中',
    ]);
    const refused = await call(app, 'POST', `/api/insight/unanswered/${group.id}/draft`, draft);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('问法');

    const good = {
      ...draft, category: '发票', answer: answerText('核定征收'),
      questions: ['个体户核定征收怎么申请', '个体工商户怎么办理核定征收', '定额征收在哪里申请', '核定征收要交什么材料', '个体户可以核定吗'],
    };
    expect((await call(app, 'POST', '/api/insight/drafts/check', good)).body.problems).toEqual([]);
    const created = await call(app, 'POST', `/api/insight/unanswered/${group.id}/draft`, good);
    expect(created).toMatchObject({ status: 201, body: { entry: 'assessed-collection', file: 'faq/assessed-collection.md' } });
    expect(readFileSync(join(dir, 'faq/assessed-collection.md'), 'utf8')).toMatch(/^---\nid: assessed-collection\nkind: faq\n/);
    expect(await ask(app, '个体户核定征收怎么申请')).toMatchObject({ answered: true, id: 'assessed-collection' });
    // The same id again is what kb lint calls a duplicate.
    expect((await call(app, 'POST', '/api/insight/drafts/check', good)).body.problems.map((p: { message: string }) => p.message)).toContain('id“assessed-collection”已被其他条目使用');
  }, 120_000);

  test('each read lists the open groups as they stand, whichever instance changed them since the last read', async () => {
    const db = await sharedDatabase(pg);
    const a = await instance(db, folder());
    const b = await instance(db, folder());
    const inbox = async (): Promise<{ total: number; groups: { id: string; count: number; examples: string[] }[] }> => (await call(a, 'GET', '/api/insight/unanswered')).body;
    expect(await ask(a, '今天股市怎么样')).toMatchObject({ answered: false });
    const [stocks] = (await inbox()).groups;
    expect(stocks).toMatchObject({ count: 1 });
    expect(await inbox()).toMatchObject({ total: 1, groups: [{ id: stocks?.id, count: 1 }] });
    // The same question again, declined by the other instance: counted in A's next read.
    await ask(b, '今天股市怎么样');
    expect(await inbox()).toMatchObject({ total: 1, groups: [{ id: stocks?.id, count: 2 }] });
    // A question of its own: a second group.
    await ask(b, LOST_RECEIPT);
    expect((await inbox()).groups.map((g) => g.count)).toEqual([2, 1]);
    // Dismissed on B: gone from A's list, and a dismissed key asked again stays out.
    expect((await call(b, 'POST', `/api/insight/unanswered/${stocks?.id}/dismiss`)).status).toBe(200);
    await ask(a, '今天股市怎么样');
    expect(await inbox()).toMatchObject({ total: 1, groups: [{ count: 1, examples: [LOST_RECEIPT] }] });
  }, 120_000);

  test('a dismissed group leaves the inbox and becomes out-of-scope evaluation cases', async () => {
    const app = await instance(await sharedDatabase(pg), folder());
    expect(await ask(app, '今天股市怎么样')).toMatchObject({ answered: false });
    const group = (await call(app, 'GET', '/api/insight/unanswered')).body.groups[0];
    expect((await call(app, 'POST', `/api/insight/unanswered/${group.id}/dismiss`)).body).toMatchObject({ count: 1 });
    expect((await call(app, 'GET', '/api/insight/unanswered')).body.groups).toEqual([]);
    expect((await call(app, 'POST', `/api/insight/unanswered/${group.id}/dismiss`)).status).toBe(404);
    expect((await call(app, 'GET', '/api/insight/eval.jsonl')).body).toBe('{"q":"今天股市怎么样","topic":null}\n');
  }, 120_000);
});

describe('the hot-questions board over HTTP', () => {
  it('ranks today\'s topics against yesterday, and shows the masked questions behind one', async () => {
    const app = await build();
    apps.push(app);
    await app.ready();
    const chatId = await app.store.identities.upsertChat({ channel: 'telegram', channelChatId: '-9', kind: 'group', title: '办税群' });
    const now = Date.now();
    const record = (entryId: string, hoursAgo: number, text = '问题') =>
      app.store.messages.record({ channel: 'telegram', chatId, direction: 'in', text, at: new Date(now - hoursAgo * 3_600_000), decision: { answered: true, entryId, score: 9, reason: 'answered' } });
    await record('vat-refund-apply', 0, '留抵退税怎么申请，电话13812345678');
    await record('vat-refund-apply', 0);
    await record('invoice-lost', 0);
    await record('invoice-lost', 24 * 8);

    const hot = await call(app, 'GET', '/api/insight/hot?period=day');
    expect(hot.status).toBe(200);
    expect(hot.body).toMatchObject({ period: 'day' });
    expect(hot.body.topics[0]).toMatchObject({ id: 'vat-refund-apply', count: 2, previous: 0, change: 2 });
    expect(hot.body.topics[0].title).toBe(app.knowledge.get().entry('vat-refund-apply')?.title);
    const messages = await call(app, 'GET', `/api/insight/hot/vat-refund-apply/messages?period=day&chat=${chatId}`);
    expect(messages.body.messages.map((m: { text: string }) => m.text)).toContain('留抵退税怎么申请，电话[手机号]');

    expect((await call(app, 'GET', '/api/insight/hot?period=year')).body.error.message).toBe('请求格式不正确：period 应为 day、week、month 之一');
    expect((await call(app, 'GET', '/api/insight/hot?date=2026-02-30')).body.error).toEqual({ code: 'CHUNFENG_BAD_REQUEST', message: 'date 应为 YYYY-MM-DD 格式的日期，现为“2026-02-30”' });
    expect((await app.inject({ method: 'GET', url: '/api/insight/hot' })).statusCode).toBe(401);
    const agent = (await call(app, 'POST', '/api/accounts', { name: '坐席', role: 'agent' })).body.token as string;
    expect((await app.inject({ method: 'GET', url: '/api/insight/unanswered', headers: { authorization: `Bearer ${agent}` } })).statusCode).toBe(403);

    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, { security?: unknown }>> };
    for (const path of ['/api/insight/hot', '/api/insight/unanswered', '/api/insight/unanswered/{group}/attach', '/api/insight/unanswered/{group}/dismiss', '/api/insight/unanswered/{group}/draft']) {
      expect(Object.values(spec.paths[path] ?? {})[0]?.security, path).toEqual([{ bearerAuth: [] }]);
    }
  });
});
