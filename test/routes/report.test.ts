import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';

let app: FastifyInstance;
const ADMIN = 'test-admin-token';
let staff: string;
let agent: string;

function call(method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown) {
  return app.inject({ method, url, payload: payload as object, headers: token ? { authorization: `Bearer ${token}` } : {}, remoteAddress: '198.51.100.41' });
}

beforeAll(async () => {
  app = await build();
  const make = async (name: string, role: string) => (await call('POST', '/api/accounts', ADMIN, { name, role })).json().token as string;
  staff = await make('张科员', 'staff');
  agent = await make('李坐席', 'agent');
  const { store } = app;
  const chatId = await store.identities.upsertChat({ channel: 'wechat', channelChatId: 'wxid_wang', kind: 'private' });
  const userId = await store.identities.upsertUser({ channel: 'wechat', channelUserId: 'wxid_wang', displayName: '王先生' });
  const ask = (id: string, at: string, reason: string) => store.messages.record({
    channel: 'wechat', chatId, userId, direction: 'in', channelMessageId: id, text: `问题${id}`, at: new Date(at),
    decision: { answered: reason === 'answered', entryId: null, score: 1, reason },
  });
  // Tuesday 24 November, 09:30 and 10:30 Beijing time.
  await ask('1', '2026-11-24T01:30:00Z', 'answered');
  await ask('2', '2026-11-24T02:30:00Z', 'uncertain');
});
afterAll(() => app.close());

describe('GET /api/insight/report', () => {
  it('gives staff the figures of a week or a span of days', async () => {
    const res = await call('GET', '/api/insight/report?week=2026-W48', staff);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.period).toEqual({ label: '2026-W48', from: '2026-11-22T16:00:00.000Z', to: '2026-11-29T16:00:00.000Z', firstDay: '2026-11-23', lastDay: '2026-11-29' });
    expect(body.questions).toMatchObject({ total: 2, answered: 1, offered: 1, accepted: 0, deflection: { count: 1, of: 2, rate: 0.5 } });
    expect(body.busiest).toEqual([{ hour: 9, count: 1 }, { hour: 10, count: 1 }]);
    expect(body.hours).toHaveLength(24);
    expect(body.tickets).toMatchObject({ total: 0, escalation: { count: 0, of: 2 } });
    const days = await call('GET', '/api/insight/report?from=2026-11-24&to=2026-11-24', staff);
    expect(days.json().questions.total).toBe(2);
    expect(days.json().period.label).toBe('2026-11-24');
  });

  it('refuses agents and anonymous callers, and says what is wrong with a period', async () => {
    expect((await call('GET', '/api/insight/report', null)).statusCode).toBe(401);
    expect((await call('GET', '/api/insight/report', agent)).statusCode).toBe(403);
    const bad = await call('GET', '/api/insight/report?week=2026-W60', staff);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual({ error: { code: 'CHUNFENG_BAD_REQUEST', message: '2026 年只有第 1 至第 53 周，没有第 60 周' } });
    expect((await call('GET', '/api/insight/report?from=2026-11-24', staff)).json().error.message).toBe('from 和 to 要一起给出（YYYY-MM-DD，北京时间，含两端）');
  });

  it('exports one table or the whole report as CSV that Excel opens (UTF-8 with a BOM)', async () => {
    const one = await call('GET', '/api/insight/report.csv?week=2026-W48&table=hours', staff);
    expect(one.statusCode).toBe(200);
    expect(one.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(one.headers['content-disposition']).toContain(encodeURIComponent('服务报告-2026-W48-咨询时段（北京时间）.csv'));
    expect(one.body.split('\r\n').slice(0, 3)).toEqual(['\uFEFF时段,咨询量', '00:00-01:00,0', '01:00-02:00,0']);
    expect(one.body).toContain('\r\n09:00-10:00,1\r\n');
    const all = await call('GET', '/api/insight/report.csv?week=2026-W48', staff);
    expect(all.body.startsWith('\uFEFF总体指标（2026-W48）\r\n')).toBe(true);
    expect((await call('GET', '/api/insight/report.csv?week=2026-W48&table=nope', staff)).statusCode).toBe(400);
  });
});

describe('personal data on request', () => {
  it('staff find a person, export their data and delete it; both are logged with their name', async () => {
    const found = await call('GET', '/api/people?q=王', staff);
    expect(found.json().people).toEqual([{ channel: 'wechat', user: 'wxid_wang', displayName: '王先生', firstSeenAt: expect.any(String) }]);
    const exported = await call('POST', '/api/people/export', staff, { channel: 'wechat', user: 'wxid_wang', note: '申请 7 号' });
    expect(exported.statusCode).toBe(200);
    expect(exported.json().messages.map((m: { text: string }) => m.text)).toEqual(['问题1', '问题2']);
    const noNote = await call('POST', '/api/people/delete', staff, { channel: 'wechat', user: 'wxid_wang' });
    expect(noNote.statusCode).toBe(400);
    const deleted = await call('POST', '/api/people/delete', staff, { channel: 'wechat', user: 'wxid_wang', note: '申请 7 号' });
    expect(deleted.json().deleted).toMatchObject({ messages: 2, person: 1 });
    const gone = await call('POST', '/api/people/export', staff, { channel: 'wechat', user: 'wxid_wang' });
    expect(gone.statusCode).toBe(404);
    expect(gone.json().error.message).toBe('没有这位用户的数据（渠道 wechat）：可能从未联系过机器人，或已经删除');
    const log = (await call('GET', '/api/people/requests', staff)).json().requests;
    expect(log.map((r: { kind: string; by: string; subject: string; note: string }) => [r.kind, r.by, r.subject, r.note])).toEqual([
      ['delete', '张科员', 'wx*****ng', '申请 7 号'],
      ['export', '张科员', 'wx*****ng', '申请 7 号'],
    ]);
    expect((await call('POST', '/api/people/delete', agent, { channel: 'wechat', user: 'x', note: 'n' })).statusCode).toBe(403);
  });
});
