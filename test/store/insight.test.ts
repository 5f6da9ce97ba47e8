import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rankTopics } from '../../src/core/insight/board.js';
import { periodRange, type Period } from '../../src/core/insight/periods.js';
import { checkProfileJson } from '../../src/core/notices/profile.js';
import { openStore, type Decision, type Store } from '../../src/store/index.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';
import { uscc } from '../helpers/taxpayers.js';

/** Wednesday 2026-11-25, 12:00 in Beijing. */
const NOW = new Date('2026-11-25T04:00:00.000Z');
/** An instant given in Beijing time. */
const bj = (local: string): Date => new Date(`${local}+08:00`);
const answered = (entryId: string, questionKey: string | null = null): Decision => ({ answered: true, entryId, score: 9, reason: 'answered', questionKey });
const declined = (questionKey: string | null, reason = 'uncertain'): Decision => ({ answered: false, entryId: null, score: 1, reason, questionKey });

describe.each(BOTH_DATABASES)('insight figures in the store ($label)', ({ pg }) => {
  let store: Store;
  let cleanup: () => Promise<void>;
  let chats: { a: string; b: string; c: string; p: string };
  let user: string;

  beforeEach(async () => {
    if (pg && !TEST_PG_URL) return;
    if (pg && TEST_PG_URL) {
      const schema = await freshPostgresSchema(TEST_PG_URL);
      store = await openStore(schema.url);
      cleanup = schema.cleanup;
    } else {
      const dir = tempDir('chunfeng-insight-');
      store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
      cleanup = async () => removeDir(dir);
    }
    const group = (id: string, title: string) => store.identities.upsertChat({ channel: 'telegram', channelChatId: id, kind: 'group', title });
    chats = { a: await group('-1', '甲群'), b: await group('-2', '乙群'), c: await group('-3', '丙群'), p: await store.identities.upsertChat({ channel: 'telegram', channelChatId: '9', kind: 'private' }) };
    user = await store.identities.upsertUser({ channel: 'telegram', channelUserId: '9' });
    const profile = (n: number, office: string, chatId: string) => {
      const checked = checkProfileJson({ taxpayerId: uscc(n), name: `企业${n}`, taxpayerType: '一般纳税人', office, chats: [{ channel: 'telegram', chatId }] });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      return checked.value;
    };
    await store.subscribers.upsert([profile(1, '第一分局', '-1'), profile(2, '第二分局', '-2')]);
  });
  afterEach(async () => {
    if (pg && !TEST_PG_URL) return;
    await store.close();
    await cleanup();
  });
  const test = it.skipIf(pg && !TEST_PG_URL);

  const ask = (chatId: string, at: Date, decision: Decision | null, text = '问题') =>
    store.messages.record({ channel: 'telegram', chatId, userId: user, direction: 'in', text, at, decision });

  /** The known dataset: answered questions by chat, topic and Beijing time, and what must not count. */
  async function seed(): Promise<void> {
    const { a, b, c } = chats;
    const rows: [string, string, string][] = [
      [a, 'x', '2026-11-25T10:00:00'], [a, 'x', '2026-11-25T10:01:00'], [a, 'x', '2026-11-25T10:02:00'], [b, 'y', '2026-11-25T11:00:00'],
      [a, 'y', '2026-11-24T09:00:00'], [a, 'y', '2026-11-24T09:30:00'],
      // The last instant of the 24th and the first of the 25th, Beijing time.
      [a, 'w', '2026-11-24T23:59:59.999'], [a, 'w', '2026-11-25T00:00:00'],
      [a, 'x', '2026-11-18T08:00:00'], [c, 'y', '2026-11-18T08:00:00'], [c, 'y', '2026-11-18T09:00:00'], [c, 'y', '2026-11-19T08:00:00'], [c, 'y', '2026-11-22T23:00:00'],
      [b, 'z', '2026-11-02T08:00:00'], [b, 'z', '2026-11-02T09:00:00'],
      [c, 'x', '2026-10-20T08:00:00'], [c, 'x', '2026-10-20T08:00:01'], [c, 'x', '2026-10-21T08:00:00'], [c, 'x', '2026-10-31T23:59:00'], [c, 'x', '2026-10-01T00:00:00'],
    ];
    for (const [chat, entry, local] of rows) await ask(chat, bj(local), answered(entry));
    // Not counted: declined questions, chatter, the bot's replies.
    await ask(a, bj('2026-11-25T10:00:00'), declined('发票 丢失'));
    await ask(a, bj('2026-11-25T10:00:00'), null, '大家好');
    await store.messages.record({ channel: 'telegram', chatId: a, direction: 'out', text: '回答', at: bj('2026-11-25T10:00:00') });
  }

  const board = async (period: Period, filter: { office?: string; chatId?: string } = {}) => {
    const counts = await store.insight.board({ range: periodRange(period, '2026-11-25'), ...filter }, NOW);
    return rankTopics([counts], (id) => id.toUpperCase()).map((r) => [r.id, r.count, r.previous, r.change]);
  };

  test('counts answered questions per topic by Beijing day, week and month against the period before', async () => {
    await seed();
    expect(await board('day')).toEqual([['x', 3, 0, 3], ['w', 1, 1, 0], ['y', 1, 2, -1]]);
    expect(await board('week')).toEqual([['x', 3, 1, 2], ['y', 3, 4, -1], ['w', 2, 0, 2]]);
    expect(await board('month')).toEqual([['y', 7, 0, 7], ['x', 4, 5, -1], ['w', 2, 0, 2], ['z', 2, 0, 2]]);
  });

  test('narrows to the tax office of the chat\'s taxpayer profile, or to one chat', async () => {
    await seed();
    expect(await board('week', { office: '第一分局' })).toEqual([['x', 3, 1, 2], ['w', 2, 0, 2], ['y', 2, 0, 2]]);
    expect(await board('month', { office: '第二分局' })).toEqual([['z', 2, 0, 2], ['y', 1, 0, 1]]);
    expect(await board('month', { chatId: chats.c })).toEqual([['y', 4, 0, 4], ['x', 0, 5, -5]]);
    expect(await board('week', { office: '没有这个分局' })).toEqual([]);
  });

  test('gives the same figures from rolled-up days as from the log, and rolls each finished day once', async () => {
    await seed();
    // The job rolls up every day from the first question (2026-10-01) to two days ago (2026-11-23): 54 days.
    expect(await store.insight.rollUp(NOW)).toBe(54);
    expect(await store.insight.rollUp(NOW)).toBe(0);
    const month = await board('month');
    const office = await board('week', { office: '第一分局' });
    // A month later the 24th and 25th are rolled up too, and November reads the same.
    const later = new Date('2026-12-30T04:00:00.000Z');
    const rank = (counts: Awaited<ReturnType<Store['insight']['board']>>) => rankTopics([counts], (id) => id).map((r) => [r.id, r.count, r.previous, r.change]);
    expect(rank(await store.insight.board({ range: periodRange('month', '2026-11-25') }, later))).toEqual(month);
    expect(rank(await store.insight.board({ range: periodRange('week', '2026-11-25'), office: '第一分局' }, later))).toEqual(office);
  });

  test('shows the questions behind a topic, newest first, masked at rest', async () => {
    await ask(chats.a, bj('2026-11-25T09:00:00'), answered('x'), '我电话13812345678，发票丢了咋办');
    await ask(chats.b, bj('2026-11-25T09:30:00'), answered('x'), '发票丢了');
    await ask(chats.b, bj('2026-11-20T09:30:00'), answered('x'), '上周的');
    const range = periodRange('day', '2026-11-25');
    const messages = await store.insight.boardMessages('x', { range }, 10);
    expect(messages.map((m) => [m.text, m.chatTitle])).toEqual([['发票丢了', '乙群'], ['我电话[手机号]，发票丢了咋办', '甲群']]);
    expect((await store.insight.boardMessages('x', { range, office: '第一分局' }, 10)).map((m) => m.chatTitle)).toEqual(['甲群']);
    const filters = await store.insight.boardFilters();
    expect(filters.offices).toEqual(['第一分局', '第二分局']);
    expect(filters.chats.map((c) => [c.title, c.office])).toEqual([['丙群', null], ['乙群', '第二分局'], ['甲群', '第一分局'], [null, null]]);
  });

  test('counts declined and unsure questions by key as they arrive; a decision takes them out and counts what follows', async () => {
    await ask(chats.a, bj('2026-11-20T09:00:00'), declined('丢失 发票'));
    await ask(chats.b, bj('2026-11-25T09:00:00'), declined('丢失 发票', 'no_match'), '发票丢失怎么办');
    await ask(chats.p, bj('2026-11-22T09:00:00'), declined('丢失 发票'), '发票丢了咋整');
    await ask(chats.a, bj('2026-11-21T09:00:00'), declined('契税 退'));
    // Not in the inbox: small talk, an answered question with the same key.
    await ask(chats.a, bj('2026-11-21T09:00:00'), declined(null, 'small_talk'));
    await ask(chats.a, bj('2026-11-21T09:00:00'), answered('x', '契税 退'));
    expect((await store.insight.openKeys()).sort((x, y) => y.count - x.count)).toEqual([
      { key: '丢失 发票', count: 3, firstAt: bj('2026-11-20T09:00:00'), lastAt: bj('2026-11-25T09:00:00') },
      { key: '契税 退', count: 1, firstAt: bj('2026-11-21T09:00:00'), lastAt: bj('2026-11-21T09:00:00') },
    ]);
    expect((await store.insight.examples(['丢失 发票'], 2)).map((e) => e.text)).toEqual(['发票丢失怎么办', '发票丢了咋整']);

    const decidedAt = bj('2026-11-25T10:00:00');
    await store.insight.decide({ state: 'attached', entryId: 'invoice-lost', keys: ['丢失 发票'], examples: ['发票丢失怎么办'], by: null, at: decidedAt });
    await store.insight.decide({ state: 'dismissed', entryId: null, keys: ['契税 退'], examples: ['契税能退吗'], by: null, at: decidedAt });
    expect(await store.insight.openKeys()).toEqual([]);
    await ask(chats.a, bj('2026-11-25T11:00:00'), answered('invoice-lost', '丢失 发票'));
    await ask(chats.a, bj('2026-11-25T11:00:00'), answered('invoice-lost', '丢失 发票'));
    await ask(chats.a, bj('2026-11-25T11:00:00'), declined('丢失 发票'));
    // Asked again after a decision, a key stays decided: it does not come back into the inbox.
    expect(await store.insight.openKeys()).toEqual([]);
    const decisions = await store.insight.decisions(10);
    expect(decisions.map((d) => [d.state, d.entryId, d.answeredSince, d.declinedSince])).toEqual([['dismissed', null, 0, 0], ['attached', 'invoice-lost', 2, 1]]);
    expect(await store.insight.evalCases()).toEqual([{ q: '发票丢失怎么办', topic: 'invoice-lost' }, { q: '契税能退吗', topic: null }]);
  });

  test('retention deletes old group chatter only; questions go only when asked to', async () => {
    const old = bj('2026-10-01T09:00:00');
    await ask(chats.a, old, null, '群里闲聊');
    await ask(chats.p, old, null, '私聊里没有判断的消息');
    await ask(chats.a, old, answered('x'), '一个问题');
    await ask(chats.a, bj('2026-11-24T09:00:00'), null, '最近的闲聊');
    expect(await store.insight.deleteChatter(bj('2026-10-26T00:00:00'))).toBe(1);
    const left = async (chatId: string) => (await store.messages.recent(chatId, 10)).map((m) => m.text);
    expect(await left(chats.a)).toEqual(['一个问题', '最近的闲聊']);
    expect(await left(chats.p)).toEqual(['私聊里没有判断的消息']);
    expect(await store.insight.deleteQuestions(bj('2026-10-26T00:00:00'))).toBe(1);
    expect(await left(chats.a)).toEqual(['最近的闲聊']);
  });

  test('keeps knowledge revisions in order for every instance to apply', async () => {
    expect(await store.insight.latestRevision()).toBeNull();
    const first = await store.insight.addRevision({ path: 'faq/a.md', content: 'A', summary: '新增', createdBy: null });
    const second = await store.insight.addRevision({ path: 'faq/b.md', content: 'B', summary: '修改', createdBy: null });
    expect(await store.insight.latestRevision()).toBe(second.id);
    expect((await store.insight.revisionsAfter(null)).map((r) => r.path)).toEqual(['faq/a.md', 'faq/b.md']);
    expect((await store.insight.revisionsAfter(first.id)).map((r) => r.content)).toEqual(['B']);
  });
});
