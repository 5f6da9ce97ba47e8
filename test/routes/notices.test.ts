import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';
import { residentId, uscc } from '../helpers/taxpayers.js';

const ADMIN = 'test-admin-token';
let app: FastifyInstance;
let staff: string;
let agent: string;

function call(method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown) {
  return app.inject({ method, url, payload: payload as object, headers: token ? { authorization: `Bearer ${token}` } : {}, remoteAddress: '198.51.100.40' });
}

/** Two first-office companies and a second-office one linked to chats, a natural person and an unlinked company. */
const PROFILES = [
  { taxpayerId: uscc(1), name: '济南甲制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第一分局', tags: ['出口企业'], chats: [{ channel: 'telegram', chatId: '-1001' }] },
  { taxpayerId: uscc(2), name: '济南乙制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'B', office: '第一分局', chats: [{ channel: 'wechat', chatId: 'yi@chatroom' }] },
  { taxpayerId: uscc(3), name: '济南丙商贸有限公司', taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office: '第二分局', chats: [{ channel: 'telegram', chatId: '3003' }] },
  { taxpayerId: residentId(4), name: '张三丰', taxpayerType: '自然人', office: '第二分局', chats: [{ channel: 'telegram', chatId: '4004' }] },
  { taxpayerId: uscc(5), name: '济南丁制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第二分局' },
];

beforeAll(async () => {
  app = await build();
  const make = async (name: string, role: string) => (await call('POST', '/api/accounts', ADMIN, { name, role })).json().token as string;
  staff = await make('张科长', 'staff');
  agent = await make('李工', 'agent');
  expect((await call('POST', '/api/subscribers', staff, PROFILES)).json()).toMatchObject({ upserted: 5, errors: [] });
  await app.store.subscribers.setTopic({ channel: 'telegram', chatId: '3003' }, '留抵退税', false);
});
afterAll(() => app.close());

describe('audiences and notices over HTTP', () => {
  it('previews an audience: counts, by office, who has no chat, and a masked sample', async () => {
    const res = await call('POST', '/api/audiences/preview', staff, { audience: { taxpayerType: ['一般纳税人'], industry: ['制造业'], credit: ['A', 'B'] } });
    expect(res.statusCode, res.body).toBe(200);
    const preview = res.json();
    expect(preview).toMatchObject({ targeted: 2, households: 2, matched: 3, unlinked: 1, optedOut: 0, withoutItems: 0, byOffice: [{ office: '第一分局', households: 2, chats: 2 }], items: [] });
    expect(preview.sample.map((s: { taxpayerId: string }) => s.taxpayerId)).toEqual(['913701********001W', expect.stringMatching(/^913701\*{8}002.$/)]);
    expect(JSON.stringify(preview)).not.toContain(uscc(1));
  });

  it('leaves out chats that unsubscribed from a topic, and masks a natural person\'s name', async () => {
    const preview = (await call('POST', '/api/audiences/preview', staff, { audience: { office: ['第二分局'] }, topics: ['留抵退税'] })).json();
    expect(preview).toMatchObject({ targeted: 1, matched: 3, unlinked: 1, optedOut: 1 });
    expect(preview.sample).toEqual([expect.objectContaining({ taxpayerId: '370102********0042'.replace(/\d{4}$/, residentId(4).slice(-4)), name: '张**', channel: 'telegram', items: [] })]);
  });

  it('previews a pack recipient by recipient (一户一策)', async () => {
    const preview = (await call('POST', '/api/audiences/preview', staff, { audience: { taxpayerType: ['企业'] }, entries: ['vat-refund-eligibility', 'small-scale-vat-relief'] })).json();
    expect(preview.items).toEqual([
      { entryId: 'vat-refund-eligibility', title: '增值税留抵退税需要满足哪些条件', chats: 2 },
      { entryId: 'small-scale-vat-relief', title: '小规模纳税人增值税有什么优惠', chats: 1 },
    ]);
    // 丙商贸 is a small-scale taxpayer that unsubscribed from 留抵退税: it gets the 优惠 item only;
    // 张三丰 (a natural person) gets neither and is left out rather than sent a bare cover note.
    const smallScale = (await call('POST', '/api/audiences/preview', staff, { audience: {}, entries: ['small-scale-vat-relief', 'vat-refund-eligibility'] })).json();
    expect(smallScale.sample.map((s: { name: string; items: string[] }) => [s.name, s.items])).toEqual([
      ['济南甲制造有限公司', ['vat-refund-eligibility']],
      ['济南丙商贸有限公司', ['small-scale-vat-relief']],
      ['济南乙制造有限公司', ['vat-refund-eligibility']],
    ]);
    expect(smallScale).toMatchObject({ targeted: 3, withoutItems: 1 });
  });

  it('refuses a bad audience with every problem named', async () => {
    const res = await call('POST', '/api/audiences/preview', staff, { audience: { credit: ['E'], industry: ['互联网'] }, entries: ['no-such-entry'] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toBe('请求格式不正确：信用等级：应为 A、B、M、C、D 之一（可以不填），现为“E”；行业：应为国民经济行业门类 A-T，如“C 制造业”“制造业”或“C”，现为“互联网”；没有条目 no-such-entry');
    expect((await call('POST', '/api/audiences/preview', staff, { audience: { size: ['大'] } })).json().error.message).toContain('不认识的字段 size');
  });

  it('saves a pack as a draft, answering {id, targeted}, lists it and shows it with its per-recipient preview', async () => {
    const res = await call('POST', '/api/notices', staff, {
      title: '增值税留抵退税政策提醒', text: '各位纳税人：留抵退税政策有新规定，请对照本单位情况及时申请。', entries: ['vat-refund-eligibility', 'small-scale-vat-relief'],
      audience: { taxpayerType: ['企业'] }, reminders: [{ afterHours: 48 }],
    });
    expect(res.statusCode, res.body).toBe(201);
    const { id, targeted } = res.json();
    expect(targeted).toBe(3);
    const list = (await call('GET', '/api/notices', staff)).json();
    expect(list.notices[0]).toEqual({ id, title: '增值税留抵退税政策提醒', kind: 'pack', state: 'draft', number: null, targeted: 3, topics: [], itemCount: 2, createdAt: expect.any(String), createdBy: { id: expect.any(String), name: '张科长' } });
    const shown = (await call('GET', `/api/notices/${id}`, staff)).json();
    expect(shown).toMatchObject({ id, kind: 'pack', text: '各位纳税人：留抵退税政策有新规定，请对照本单位情况及时申请。', audience: { taxpayerType: ['一般纳税人', '小规模纳税人'] }, reminders: [{ afterHours: 48, text: null }] });
    expect(shown.items.map((i: { entryId: string; category: string; audience: unknown }) => [i.entryId, i.category, i.audience])).toEqual([
      ['vat-refund-eligibility', '留抵退税', { taxpayerType: ['一般纳税人'], credit: ['A', 'B'] }],
      ['small-scale-vat-relief', '优惠', { taxpayerType: ['小规模纳税人'] }],
    ]);
    expect(shown.items[0].body).toContain('纳税缴费信用级别为A级或B级');
    expect(shown.preview).toMatchObject({ targeted: 3, households: 3, withoutItems: 0, unlinked: 1 });
    expect(shown.preview.sample.map((r: { name: string; items: string[] }) => r.items)).toEqual([['vat-refund-eligibility'], ['small-scale-vat-relief'], ['vat-refund-eligibility']]);
    expect((await call('GET', '/api/notices/nope', staff)).statusCode).toBe(404);
  });

  it('saves a plain notice, and refuses one with problems', async () => {
    const plain = await call('POST', '/api/notices', staff, { title: '申报期提醒', text: '本月申报期截至15日。', audience: {} , topics: ['申报'] });
    expect(plain.json()).toEqual({ id: expect.any(String), targeted: 4, households: 4 });
    const bad = await call('POST', '/api/notices', staff, { title: '测试', text: '测试', audience: {}, topics: ['天气'], reminders: [{ afterHours: 48 }, { afterHours: 24 }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^请求格式不正确：不认识的主题“天气”.*；第 2 轮提醒：应晚于上一轮$/);
    expect((await call('POST', '/api/notices', staff, { title: '', text: '测试', audience: {} })).statusCode).toBe(400);
  });

  it('lists the entries a pack can hold, with their audience tags, for staff only', async () => {
    const { entries } = (await call('GET', '/api/entries', staff)).json();
    expect(entries.find((e: { id: string }) => e.id === 'vat-refund-eligibility')).toEqual({ id: 'vat-refund-eligibility', title: '增值税留抵退税需要满足哪些条件', kind: 'faq', category: '留抵退税', audience: { taxpayerType: ['一般纳税人'], credit: ['A', 'B'] }, validUntil: null });
    expect(entries.some((e: { kind: string }) => e.kind === 'referral')).toBe(false);
    for (const [method, url, body] of [['GET', '/api/entries'], ['GET', '/api/notices'], ['POST', '/api/notices', { title: 'a', text: 'b', audience: {} }], ['POST', '/api/audiences/preview', { audience: {} }]] as const) {
      expect((await call(method, url, agent, body)).statusCode, `${method} ${url}`).toBe(403);
      expect((await call(method, url, null, body)).statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('documents every new route in OpenAPI', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/api/subscribers', '/api/subscribers/import', '/api/subscribers/options', '/api/subscribers/template.csv', '/api/subscribers/{taxpayerId}/binding-code', '/api/audiences/preview', '/api/notices', '/api/notices/{id}', '/api/entries']) {
      expect(spec.paths[path], path).toBeDefined();
    }
    expect(spec.paths['/api/notices'].post.summary).toContain('草稿');
  });
});
