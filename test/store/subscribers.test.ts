import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkProfileJson, type ValidProfile } from '../../src/core/notices/profile.js';
import { planRecipients } from '../../src/core/notices/recipients.js';
import { ALL_TOPICS } from '../../src/core/notices/topics.js';
import { BINDING_LIMITS, openStore, type Store } from '../../src/store/index.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';
import { residentId, uscc } from '../helpers/taxpayers.js';

const T0 = new Date('2026-11-22T08:00:00.000Z');
const HOUR = 3_600_000;
const at = (ms: number): Date => new Date(T0.getTime() + ms);

/** An import item from a contract Profile, as the API would have checked it. */
function item(profile: Record<string, unknown>): ValidProfile {
  const checked = checkProfileJson(profile);
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.value;
}

const MAKER = { taxpayerId: uscc(1), name: '济南甲制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第一分局', region: '历下区', tags: ['出口企业'] };
const SHOP = { taxpayerId: uscc(2), name: '济南乙商贸有限公司', taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office: '第二分局' };
const PERSON = { taxpayerId: residentId(3), name: '张三', taxpayerType: '自然人', office: '第一分局' };

describe.each(BOTH_DATABASES)('subscribers, bindings and notices in the store ($label)', ({ pg }) => {
  let store: Store;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    if (pg && !TEST_PG_URL) return;
    if (pg && TEST_PG_URL) {
      const schema = await freshPostgresSchema(TEST_PG_URL);
      store = await openStore(schema.url);
      cleanup = schema.cleanup;
    } else {
      const dir = tempDir('chunfeng-subscribers-');
      store = await openStore(`sqlite:${join(dir, 'db.sqlite')}`);
      cleanup = async () => removeDir(dir);
    }
  });
  afterEach(async () => {
    if (pg && !TEST_PG_URL) return;
    await store.close();
    await cleanup();
  });
  const test = it.skipIf(pg && !TEST_PG_URL);

  test('upserts by taxpayer id: new profiles created, known ones updated with the fields given', async () => {
    expect(await store.subscribers.upsert([item(MAKER), item(SHOP)], T0)).toEqual([{ ok: true, created: true }, { ok: true, created: true }]);
    expect(await store.subscribers.upsert([item({ taxpayerId: uscc(1), name: '济南甲制造股份有限公司', taxpayerType: '一般纳税人', credit: 'B' })], at(HOUR))).toEqual([{ ok: true, created: false }]);
    const maker = await store.subscribers.get(uscc(1));
    expect(maker).toMatchObject({ ...MAKER, name: '济南甲制造股份有限公司', credit: 'B', chats: [], createdAt: T0, updatedAt: at(HOUR) });
    expect(await store.subscribers.get(uscc(9))).toBeNull();
  });

  test('links chats from an import, and refuses an item whose chat belongs to another profile without writing any of it', async () => {
    await store.subscribers.upsert([item({ ...MAKER, chats: [{ channel: 'telegram', chatId: '-1001' }] })], T0);
    const outcomes = await store.subscribers.upsert([
      item({ ...SHOP, name: '改了名', chats: [{ channel: 'wechat', chatId: 'room@chatroom' }, { channel: 'telegram', chatId: '-1001' }] }),
      item({ ...PERSON, chats: [{ channel: 'telegram', chatId: '42' }] }),
      item({ ...MAKER, chats: [{ channel: 'telegram', chatId: '-1001' }, { channel: 'telegram', chatId: '7' }] }),
    ], at(HOUR));
    expect(outcomes).toEqual([
      { ok: false, message: 'telegram:-1001 已绑定纳税人“济南甲制造有限公司”，一个聊天只能绑定一个纳税人' },
      { ok: true, created: true },
      { ok: true, created: false },
    ]);
    expect(await store.subscribers.get(uscc(2))).toBeNull();
    expect((await store.subscribers.get(residentId(3)))?.chats).toEqual([{ channel: 'telegram', chatId: '42', via: 'staff', linkedAt: at(HOUR) }]);
    expect((await store.subscribers.get(uscc(1)))?.chats.map((c) => c.chatId)).toEqual(['-1001', '7']);
  });

  test('imports a thousand profiles across several transactions', async () => {
    const items = Array.from({ length: 1000 }, (_, i) => item({ taxpayerId: uscc(100 + i), name: `企业${i}`, taxpayerType: '一般纳税人', office: `第${(i % 3) + 1}分局`, chats: [{ channel: 'telegram', chatId: String(5000 + i) }] }));
    const outcomes = await store.subscribers.upsert(items, T0);
    expect(outcomes.filter((o) => o.ok && o.created)).toHaveLength(1000);
    const { total } = await store.subscribers.list({ linked: true }, 0, 1);
    expect(total).toBe(1000);
    expect((await store.subscribers.facets()).offices).toEqual([{ value: '第1分局', count: 334 }, { value: '第2分局', count: 333 }, { value: '第3分局', count: 333 }]);
  });

  test('lists profiles by filters and pages, and counts offices, regions and tags', async () => {
    await store.subscribers.upsert([item({ ...MAKER, tags: ['出口企业', '重点户'], chats: [{ channel: 'telegram', chatId: '1' }] }), item(SHOP), item({ ...PERSON, tags: ['重点户'] })], T0);
    const names = async (filter: Parameters<Store['subscribers']['list']>[0]) => (await store.subscribers.list(filter, 0, 10)).profiles.map((p) => p.name).sort();
    expect(await names({})).toEqual(['张三', '济南乙商贸有限公司', '济南甲制造有限公司'].sort());
    expect(await names({ office: '第一分局' })).toEqual(['张三', '济南甲制造有限公司'].sort());
    expect(await names({ q: '商贸' })).toEqual(['济南乙商贸有限公司']);
    expect(await names({ q: uscc(2).slice(0, 17).toLowerCase() })).toEqual(['济南乙商贸有限公司']);
    expect(await names({ q: '%' })).toEqual([]);
    expect(await names({ tag: '重点户' })).toEqual(['张三', '济南甲制造有限公司'].sort());
    expect(await names({ tag: '重点' })).toEqual([]);
    expect(await names({ linked: true })).toEqual(['济南甲制造有限公司']);
    expect(await names({ linked: false, credit: 'B', industry: 'F', taxpayerType: '小规模纳税人' })).toEqual(['济南乙商贸有限公司']);
    const page = await store.subscribers.list({}, 2, 2);
    expect(page.total).toBe(3);
    expect(page.profiles).toHaveLength(1);
    expect(await store.subscribers.facets()).toEqual({
      offices: [{ value: '第一分局', count: 2 }, { value: '第二分局', count: 1 }],
      regions: [{ value: '历下区', count: 1 }],
      tags: [{ value: '重点户', count: 2 }, { value: '出口企业', count: 1 }],
    });
  });

  test('gives audience candidates with their chats and topic choices, remembered per chat', async () => {
    await store.subscribers.upsert([
      item({ ...MAKER, chats: [{ channel: 'telegram', chatId: '1' }, { channel: 'wechat', chatId: 'room@chatroom' }] }),
      item({ ...SHOP, chats: [{ channel: 'telegram', chatId: '2' }] }),
      item(PERSON),
    ], T0);
    await store.subscribers.setTopic({ channel: 'telegram', chatId: '1' }, '留抵退税', false, T0);
    await store.subscribers.setTopic({ channel: 'telegram', chatId: '1' }, '留抵退税', true, at(HOUR));
    await store.subscribers.setTopic({ channel: 'telegram', chatId: '2' }, ALL_TOPICS, false, T0);
    await store.subscribers.setTopic({ channel: 'telegram', chatId: '2' }, '发票', false, T0);
    expect(await store.subscribers.topics({ channel: 'telegram', chatId: '2' })).toEqual(new Map([[ALL_TOPICS, false], ['发票', false]]));

    const candidates = await store.subscribers.candidates({ taxpayerType: ['一般纳税人', '小规模纳税人'], office: ['第一分局', '第二分局'] }, ['留抵退税']);
    expect(candidates.map((c) => [c.profile.name, c.chats.map((ch) => [ch.channel, ch.chatId, Object.fromEntries(ch.topics)])])).toEqual([
      ['济南甲制造有限公司', [['telegram', '1', { 留抵退税: true }], ['wechat', 'room@chatroom', {}]]],
      ['济南乙商贸有限公司', [['telegram', '2', { [ALL_TOPICS]: false }]]],
    ]);
    const plan = planRecipients(candidates, { audience: {}, topics: ['留抵退税'], items: [] });
    expect(plan.recipients.map((r) => r.chat.chatId)).toEqual(['1', 'room@chatroom']);
    expect(plan.optedOut).toBe(1);
    expect((await store.subscribers.candidates({ credit: ['A'] }, [])).map((c) => c.profile.name)).toEqual(['济南甲制造有限公司']);
  });

  test('a binding code links the chat once, before it expires, and a new code voids the waiting one', async () => {
    await store.subscribers.upsert([item(MAKER), item(SHOP)], T0);
    const maker = await store.subscribers.get(uscc(1));
    const shop = await store.subscribers.get(uscc(2));
    const first = await store.bindings.issue(maker?.id as string, 7 * 24 * HOUR, 'admin', T0);
    expect(first.code).toMatch(/^\d{6}$/);
    expect(first.expiresAt).toEqual(at(7 * 24 * HOUR));
    const second = await store.bindings.issue(maker?.id as string, 7 * 24 * HOUR, 'admin', T0);
    const chat = { channel: 'telegram' as const, chatId: '777' };
    if (first.code !== second.code) expect(await store.bindings.redeem(first.code, chat, at(HOUR))).toEqual({ ok: false, reason: 'unknown' });

    expect(await store.bindings.redeem(second.code, chat, at(HOUR))).toEqual({ ok: true, subscriberId: maker?.id, taxpayerId: uscc(1), name: '济南甲制造有限公司' });
    expect((await store.subscribers.get(uscc(1)))?.chats).toEqual([{ channel: 'telegram', chatId: '777', via: 'code', linkedAt: at(HOUR) }]);
    expect(await store.bindings.redeem(second.code, { channel: 'telegram', chatId: '778' }, at(2 * HOUR))).toEqual({ ok: false, reason: 'used' });

    // A code of another profile sent from the same chat moves the chat there.
    const shopCode = await store.bindings.issue(shop?.id as string, HOUR, null, T0);
    expect(await store.bindings.redeem(shopCode.code, chat, at(2 * HOUR))).toEqual({ ok: false, reason: 'expired' });
    const fresh = await store.bindings.issue(shop?.id as string, HOUR, null, at(2 * HOUR));
    expect(await store.bindings.redeem(fresh.code, chat, at(2 * HOUR))).toMatchObject({ ok: true, taxpayerId: uscc(2) });
    expect((await store.subscribers.get(uscc(1)))?.chats).toEqual([]);
    expect((await store.subscribers.get(uscc(2)))?.chats.map((c) => c.chatId)).toEqual(['777']);
  });

  test('lets one code win when two chats send it at once', async () => {
    await store.subscribers.upsert([item(MAKER)], T0);
    const maker = await store.subscribers.get(uscc(1));
    const { code } = await store.bindings.issue(maker?.id as string, HOUR, null, T0);
    const results = await Promise.all(['1', '2', '3', '4'].map((chatId) => store.bindings.redeem(code, { channel: 'telegram', chatId }, at(1000))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'used')).toHaveLength(3);
    expect((await store.subscribers.get(uscc(1)))?.chats).toHaveLength(1);
  });

  test('stops a chat guessing codes after a few failures, until the window ends', async () => {
    await store.subscribers.upsert([item(MAKER)], T0);
    const maker = await store.subscribers.get(uscc(1));
    const { code } = await store.bindings.issue(maker?.id as string, 24 * HOUR, null, T0);
    const guesser = { channel: 'telegram' as const, chatId: '666' };
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < BINDING_LIMITS.perChat.limit; i++) expect(await store.bindings.redeem(wrong, guesser, at(1000))).toEqual({ ok: false, reason: 'unknown' });
    // Past the limit even the right code is refused, so guessing on learns nothing.
    expect(await store.bindings.redeem(code, guesser, at(2000))).toEqual({ ok: false, reason: 'limited', retryAt: at(HOUR) });
    // Another chat is not held up, and the guesser may try again in the next window.
    expect(await store.bindings.redeem(wrong, { channel: 'telegram', chatId: '667' }, at(3000))).toEqual({ ok: false, reason: 'unknown' });
    expect(await store.bindings.redeem(code, guesser, at(HOUR + 1000))).toMatchObject({ ok: true });
  });

  test('stops guessing from many chats once all of them together failed too often', async () => {
    await store.subscribers.upsert([item(MAKER)], T0);
    const maker = await store.subscribers.get(uscc(1));
    const { code } = await store.bindings.issue(maker?.id as string, 24 * HOUR, null, T0);
    const wrong = code === '000000' ? '000001' : '000000';
    for (let i = 0; i < BINDING_LIMITS.overall.limit; i++) await store.bindings.redeem(wrong, { channel: 'telegram', chatId: String(i) }, at(1000));
    expect(await store.bindings.redeem(code, { channel: 'telegram', chatId: 'honest' }, at(2000))).toEqual({ ok: false, reason: 'limited', retryAt: at(HOUR) });
  });

  test('stores a draft with its items, lists it, and records recipients once per chat', async () => {
    await store.subscribers.upsert([item({ ...MAKER, chats: [{ channel: 'telegram', chatId: '1' }] }), item({ ...SHOP, chats: [{ channel: 'telegram', chatId: '2' }] })], T0);
    const draft = {
      title: '增值税留抵退税政策提醒', text: '请符合条件的企业及时申请。', audience: { credit: ['A' as const, 'B' as const] }, topics: ['留抵退税'],
      reminders: [{ afterHours: 48, text: null }],
      items: [
        { entryId: 'vat-refund-eligibility', title: '留抵退税的条件', category: '留抵退税', body: '答案一', sources: ['公告一'], audience: { taxpayerType: ['一般纳税人' as const] } },
        { entryId: 'small-scale-vat-relief', title: '小规模纳税人的优惠', category: '优惠', body: '答案二', sources: [], audience: { taxpayerType: ['小规模纳税人' as const] } },
      ],
    };
    const created = await store.notices.create(draft, 2, 'admin', T0);
    const other = await store.notices.create({ ...draft, title: '第二条', items: [] }, 0, null, at(HOUR));
    expect(await store.notices.get(created.id)).toEqual({ ...draft, id: created.id, state: 'draft', number: null, targeted: 2, createdBy: 'admin', createdAt: T0, sentAt: null });
    expect(await store.notices.get('nope')).toBeNull();
    expect((await store.notices.list()).map((n) => [n.title, n.itemCount, n.state])).toEqual([['第二条', 0, 'draft'], ['增值税留抵退税政策提醒', 2, 'draft']]);
    expect(other.items).toEqual([]);

    const plan = planRecipients(await store.subscribers.candidates(draft.audience, ['留抵退税', '优惠']), draft);
    expect(await store.notices.addRecipients(created.id, plan.recipients, at(HOUR))).toBe(2);
    expect(await store.notices.addRecipients(created.id, plan.recipients, at(2 * HOUR))).toBe(0);
    expect(await store.notices.recipients(created.id)).toEqual([
      { channel: 'telegram', chatId: '1', subscriberId: plan.recipients[0]?.subscriberId, office: '第一分局', items: ['vat-refund-eligibility'], outboxId: null, createdAt: at(HOUR), readAt: null, remindersSent: 0 },
      { channel: 'telegram', chatId: '2', subscriberId: plan.recipients[1]?.subscriberId, office: '第二分局', items: ['small-scale-vat-relief'], outboxId: null, createdAt: at(HOUR), readAt: null, remindersSent: 0 },
    ]);
  });
});
