import { afterAll, beforeAll, beforeEach, afterEach, expect, it } from 'vitest';
import { BEIJING_DAY } from '../../src/channels/channel.js';
import { chinaDate } from '../../src/core/tickets/workdays.js';
import { BOT_BLOCKED, FakeTelegramApi, TOO_MANY_REQUESTS, type SentMessage } from '../fakes/telegram-api.js';
import {
  FakeAdapter, OPEN_LIMITS, UpdateBuilder, buildApp, describeEachDatabase, postUpdate, removeTempDirs, waitForWebhook, type TestApp, type TestDatabase,
} from '../channels/helpers.js';
import { uscc } from '../helpers/taxpayers.js';

/**
 * Sending a notice end to end on both databases: the real app in webhook mode against the fake Bot
 * API, profiles imported over HTTP, the notice composed, sent and reported through the API, and
 * read receipts coming back as Telegram updates. Limits are high so the tests stay fast; the same
 * code at Telegram's real limits is measured in bench/broadcast.js.
 */

const SECRET = 'delivery-test-secret';
const ADMIN = 'delivery-test-admin-token';
/** A weekday at 10:00 in Beijing: within office hours. */
const MONDAY_10AM = new Date('2026-11-30T02:00:00Z');

afterAll(() => removeTempDirs());

/** Companies 1..n on Telegram private chats 900001.., first office for odd numbers, general taxpayers for n ≤ half. */
function companies(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    taxpayerId: uscc(100 + i), name: `测试企业${i + 1}`, taxpayerType: i < n / 2 ? '一般纳税人' : '小规模纳税人', industry: 'C', credit: 'A',
    office: i % 2 === 0 ? '第一分局' : '第二分局', chats: [{ channel: 'telegram', chatId: String(900_001 + i) }],
  }));
}

describeEachDatabase('notice delivery', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;
  let t: TestApp;
  let clock: Date;

  beforeAll(async () => {
    api = await FakeTelegramApi.start();
  });
  afterAll(() => api.close());
  beforeEach(async () => {
    database = await db.create();
    clock = MONDAY_10AM;
    t = await buildApp({
      databaseUrl: database.url, telegram: { api, webhookSecret: SECRET }, env: { ADMIN_TOKEN: ADMIN, OUTBOX_MAX_ATTEMPTS: '2' },
      // The job is run by hand (and by the send route), on a clock the test moves.
      noticeJob: { everyMs: 3_600_000, now: () => clock },
    });
    await waitForWebhook(t.app, SECRET);
    api.clearCalls();
    api.clearFailures();
  });
  afterEach(async () => {
    await t.app.close();
    await database.cleanup();
  });

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    t.app.inject({ method, url, payload: payload as object, headers: { authorization: `Bearer ${ADMIN}` } });

  async function compose(body: Record<string, unknown>): Promise<string> {
    const res = await call('POST', '/api/notices', { text: '请对照本单位情况及时办理。', audience: {}, ...body });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  }

  /** Sends a notice and waits until nothing of it is left to send. */
  async function sendAndSettle(id: string): Promise<Record<string, unknown> & { targeted: number; pending: number }> {
    const res = await call('POST', `/api/notices/${id}/send`);
    expect(res.statusCode, res.body).toBe(202);
    const until = Date.now() + 15_000;
    for (;;) {
      const report = (await call('GET', `/api/notices/${id}/report`)).json();
      if (report.state === 'queued' && report.pending === 0) return report;
      if (Date.now() > until) throw new Error(`notice not settled: ${JSON.stringify(report)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const messagesTo = (chat: number): SentMessage[] => api.delivered.filter((m) => m.chat.id === chat);

  it('sends a pack once to each recipient with only the items meant for it (一户一策), and a second send changes nothing', async () => {
    expect((await call('POST', '/api/subscribers', companies(6))).json()).toMatchObject({ upserted: 6, errors: [] });
    const id = await compose({ title: '留抵退税和小规模优惠', entries: ['vat-refund-eligibility', 'small-scale-vat-relief'], audience: { taxpayerType: ['企业'] } });
    const report = await sendAndSettle(id);
    expect(report).toMatchObject({ targeted: 6, sent: 6, delivered: 6, failed: 0, unreachable: 0, read: 0, readRate: 0, pending: 0, deferred: { count: 0, until: null } });
    expect(report.byOffice).toEqual([
      { office: '第一分局', targeted: 3, sent: 3, delivered: 3, failed: 0, unreachable: 0, read: 0, readRate: 0 },
      { office: '第二分局', targeted: 3, sent: 3, delivered: 3, failed: 0, unreachable: 0, read: 0, readRate: 0 },
    ]);
    expect(report.items).toEqual([
      { entryId: 'vat-refund-eligibility', title: '增值税留抵退税需要满足哪些条件', recipients: 3 },
      { entryId: 'small-scale-vat-relief', title: '小规模纳税人增值税有什么优惠', recipients: 3 },
    ]);
    for (let i = 0; i < 6; i++) {
      const [message, ...more] = messagesTo(900_001 + i);
      expect(more).toEqual([]);
      expect(message?.text).toMatch(/^【通知 1】留抵退税和小规模优惠/);
      // General taxpayers (the first half) get the refund item only, small-scale ones the relief item only.
      expect(message?.text.includes('留抵退税需要满足哪些条件')).toBe(i < 3);
      expect(message?.text.includes('小规模纳税人增值税有什么优惠')).toBe(i >= 3);
    }
    const send = api.callsOf('sendMessage')[0]!;
    expect(send.params.reply_markup).toEqual({ inline_keyboard: [[{ text: '已读', callback_data: `read:${id}` }]] });

    const again = await call('POST', `/api/notices/${id}/send`);
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ number: 1, state: 'queued', targeted: 6, started: false });
    t.scope.noticeJob.kick();
    await new Promise((r) => setTimeout(r, 200));
    expect(api.delivered).toHaveLength(6);

    const csv = (await call('GET', `/api/notices/${id}/report.csv`)).body;
    expect(csv.startsWith('\uFEFF纳税人识别号,名称,主管分局,渠道,聊天,收到的条目,发送状态,发送时间,阅读时间,确认方式,提醒次数,说明\r\n')).toBe(true);
    expect(csv).toContain(`${uscc(100)},测试企业1,第一分局,Telegram,900001,增值税留抵退税需要满足哪些条件,已发送,`);
    expect(csv.trim().split('\r\n')).toHaveLength(7);
  });

  it('waits out a 429 for the whole channel, marks a blocked chat unreachable and skips it next time, fails after the attempts allowed', async () => {
    await call('POST', '/api/subscribers', companies(4));
    api.fail('sendMessage', TOO_MANY_REQUESTS(1));
    const first = await compose({ title: '第一条' });
    const report = await sendAndSettle(first);
    expect(report).toMatchObject({ targeted: 4, sent: 4, failed: 0 });
    for (let i = 0; i < 4; i++) expect(messagesTo(900_001 + i)).toHaveLength(1);
    const refused = api.callsOf('sendMessage').find((c) => !c.result)!;
    const retried = api.callsOf('sendMessage').find((c) => c.result && c.params.chat_id === refused.params.chat_id)!;
    // Sent again only once the second Telegram asked for had passed.
    expect(retried.at - refused.at).toBeGreaterThan(900);

    api.clearCalls();
    api.fail('sendMessage', BOT_BLOCKED);
    const second = await sendAndSettle(await compose({ title: '第二条' }));
    expect(second).toMatchObject({ targeted: 4, sent: 3, unreachable: 1 });

    api.clearCalls();
    api.fail('sendMessage', { code: 502, description: 'Bad Gateway' }, Infinity);
    const third = await sendAndSettle(await compose({ title: '第三条' }));
    // The blocked chat is not tried again; the others fail after OUTBOX_MAX_ATTEMPTS (2) tries each.
    expect(third).toMatchObject({ targeted: 4, sent: 0, failed: 3, unreachable: 1 });
    expect(api.callsOf('sendMessage')).toHaveLength(6);
    const csv = (await call('GET', `/api/notices/${(await t.store.notices.list())[0]!.id}/report.csv`)).body;
    expect(csv).toContain('发送失败,,,,0,已尝试 2 次：无法连接 Telegram');
  });

  it('records reading from the 已读 button once (answered, message edited) and from a 已读 reply naming the notice', async () => {
    await call('POST', '/api/subscribers', companies(2));
    const first = await compose({ title: '第一条' });
    await sendAndSettle(first);
    const second = await compose({ title: '第二条' });
    await sendAndSettle(second);
    const [message] = messagesTo(900_001);
    const user = { id: 900_001, is_bot: false as const, first_name: '测试' };
    const press = (n: number) => ({
      update_id: 70_000 + n,
      callback_query: { id: `cb-${n}`, from: user, chat_instance: 'ci', data: `read:${first}`, message: { ...message, chat: { id: 900_001, type: 'private', first_name: '测试' } } },
    });
    expect((await postUpdate(t.app, SECRET, press(1))).statusCode).toBe(200);
    expect(api.callsOf('answerCallbackQuery').map((c) => c.params.text)).toEqual(['已确认阅读，谢谢']);
    const [edit, ...moreEdits] = api.callsOf('editMessageText');
    expect(moreEdits).toEqual([]);
    expect(edit?.params).toMatchObject({ chat_id: 900_001, message_id: message!.message_id });
    expect(String(edit?.params.text)).toMatch(/^【通知 1】第一条[\s\S]*\n\n已读（\d{4}-\d\d-\d\d \d\d:\d\d 确认）$/);

    await postUpdate(t.app, SECRET, press(2));
    expect(api.callsOf('answerCallbackQuery').map((c) => c.params.text)).toEqual(['已确认阅读，谢谢', '您已确认阅读过这条通知']);
    expect(api.callsOf('editMessageText')).toHaveLength(1);

    // The other chat has two open notices: 已读 alone lists them, 已读 2 confirms the second.
    const u = new UpdateBuilder(api.bot);
    const other = { id: 900_002, is_bot: false as const, first_name: '企业二' };
    api.clearCalls();
    await postUpdate(t.app, SECRET, u.privateText('已读', other));
    await api.waitForCalls('sendMessage', 1);
    expect(api.delivered[0]?.text).toBe('您有 2 条通知待确认。通知 1：第一条\n通知 2：第二条\n请回复“已读”加通知编号，例如“已读 1”。');
    await postUpdate(t.app, SECRET, u.privateText('已读 2', other));
    await api.waitForCalls('sendMessage', 2);
    expect(api.delivered[1]?.text).toMatch(/^已确认阅读通知 2「第二条」（.+），谢谢。$/);

    const one = (await call('GET', `/api/notices/${first}/report`)).json();
    expect(one).toMatchObject({ targeted: 2, read: 1, readRate: 0.5, byOffice: [{ office: '第一分局', read: 1, readRate: 1 }, { office: '第二分局', read: 0, readRate: 0 }] });
    const two = (await call('GET', `/api/notices/${second}/report`)).json();
    expect(two).toMatchObject({ read: 1, byOffice: [{ office: '第一分局', read: 0 }, { office: '第二分局', read: 1 }] });
    const csv = (await call('GET', `/api/notices/${first}/report.csv`)).body;
    expect(csv).toMatch(/900001,,已发送,\d{4}-\d\d-\d\d \d\d:\d\d,\d{4}-\d\d-\d\d \d\d:\d\d,按钮,0,/);
  });

  it('reminds only the unread, reachable and still subscribed, after the delay, in office hours, each round once', async () => {
    await call('POST', '/api/subscribers', companies(4));
    const id = await compose({ title: '申报提醒', topics: ['留抵退税'], reminders: [{ afterHours: 24 }, { afterHours: 72, text: '最后提醒：请尽快办理' }] });
    // One chat has blocked the bot: the notice finds it unreachable.
    api.fail('sendMessage', BOT_BLOCKED);
    expect(await sendAndSettle(id)).toMatchObject({ sent: 3, unreachable: 1 });
    const blocked = Number(api.callsOf('sendMessage').find((c) => !c.result)!.params.chat_id);
    // Of the others, one reads it and one unsubscribes from its topic: only the last is reminded.
    const [reader, quitter, unread] = [900_001, 900_002, 900_003, 900_004].filter((c) => c !== blocked) as [number, number, number];
    await t.store.delivery.markRead(id, { channel: 'telegram', chatId: String(reader) }, 'reply');
    await t.store.subscribers.setTopic({ channel: 'telegram', chatId: String(quitter) }, '留抵退税', false);
    api.clearCalls();

    clock = new Date(MONDAY_10AM.getTime() + 23 * 3_600_000);
    await t.scope.noticeJob.run();
    expect((await call('GET', `/api/notices/${id}/report`)).json().reminders).toEqual([]);

    // A day later, but at 10 in the evening: not in office hours.
    clock = new Date(MONDAY_10AM.getTime() + 36 * 3_600_000);
    await t.scope.noticeJob.run();
    expect((await call('GET', `/api/notices/${id}/report`)).json().reminders).toEqual([]);

    clock = new Date(MONDAY_10AM.getTime() + 48 * 3_600_000);
    await t.scope.noticeJob.run();
    await t.scope.noticeJob.run();
    await api.waitForCalls('sendMessage', 1);
    const report = (await call('GET', `/api/notices/${id}/report`)).json();
    expect(report.reminders).toEqual([{ round: 1, afterHours: 24, startedAt: clock.toISOString(), recipients: 1, finishedAt: clock.toISOString() }]);
    await t.scope.noticeJob.run();
    await new Promise((r) => setTimeout(r, 100));
    expect(api.delivered.map((m) => [m.chat.id, m.text.split('\n')[0]])).toEqual([[unread, '【提醒】申报提醒']]);

    clock = new Date(MONDAY_10AM.getTime() + 72 * 3_600_000);
    await t.scope.noticeJob.run();
    await api.waitForCalls('sendMessage', 2);
    expect(api.delivered[1]?.text.split('\n')[0]).toBe('最后提醒：请尽快办理');
    expect((await call('GET', `/api/notices/${id}/report`)).json().reminders.map((r: { round: number; recipients: number }) => [r.round, r.recipients])).toEqual([[1, 1], [2, 1]]);
  });

  it('holds reminders over the National Day holiday and sends one on the 调休 Saturday, by knowledge/calendar', async () => {
    await call('POST', '/api/subscribers', companies(2));
    // Sent Wednesday 2026-09-30 at 10:00 Beijing time; the rounds fall due on 10-01 (国庆) and on Friday 10-09 at 18:00.
    clock = new Date('2026-09-30T10:00:00+08:00');
    const id = await compose({ title: '国庆前通知', reminders: [{ afterHours: 24 }, { afterHours: 9 * 24 + 8, text: '再次提醒：请尽快办理' }] });
    // The report tells staff when the first round will go: after the holiday, at the start of office hours.
    expect(await sendAndSettle(id)).toMatchObject({ sent: 2, nextReminder: { round: 1, afterHours: 24, at: new Date('2026-10-08T09:00:00+08:00').toISOString() } });
    await t.store.delivery.markRead(id, { channel: 'telegram', chatId: '900001' }, 'reply');
    api.clearCalls();
    const roundsAt = async (local: string): Promise<number[]> => {
      clock = new Date(`${local}+08:00`);
      await t.scope.noticeJob.run();
      return (await call('GET', `/api/notices/${id}/report`)).json().reminders.map((r: { round: number }) => r.round);
    };

    // A weekday, in office hours, but a holiday: nothing, on any day of it.
    for (const day of ['2026-10-01', '2026-10-05', '2026-10-07']) expect(await roundsAt(`${day}T10:00:00`)).toEqual([]);
    expect(await roundsAt('2026-10-08T08:30:00')).toEqual([]);
    expect(await roundsAt('2026-10-08T09:00:00')).toEqual([1]);
    expect((await call('GET', `/api/notices/${id}/report`)).json().nextReminder).toEqual({ round: 2, afterHours: 224, at: new Date('2026-10-10T09:00:00+08:00').toISOString() });
    await api.waitForCalls('sendMessage', 1);
    expect(api.delivered.map((m) => [m.chat.id, m.text.split('\n')[0]])).toEqual([[900_002, '【提醒】国庆前通知']]);

    // The second round is due on Friday evening; Saturday 10-10 is worked (调休), so it goes then.
    expect(await roundsAt('2026-10-09T18:00:00')).toEqual([1]);
    expect(await roundsAt('2026-10-10T09:30:00')).toEqual([1, 2]);
    await api.waitForCalls('sendMessage', 2);
    expect(api.delivered[1]?.text.split('\n')[0]).toBe('再次提醒：请尽快办理');
    expect(api.delivered[1]?.chat.id).toBe(900_002);
    const report = (await call('GET', `/api/notices/${id}/report`)).json();
    expect(report.nextReminder).toBeNull();
    expect(report.reminders.map((r: { startedAt: string; recipients: number }) => [r.startedAt, r.recipients])).toEqual([
      [new Date('2026-10-08T09:00:00+08:00').toISOString(), 1], [new Date('2026-10-10T09:30:00+08:00').toISOString(), 1],
    ]);
  });

  it('answers a question asked in the middle of a broadcast before the broadcast has finished', async () => {
    await t.app.close();
    t = await buildApp({
      databaseUrl: database.url, telegram: { api, webhookSecret: SECRET }, env: { ADMIN_TOKEN: ADMIN },
      limits: { telegram: { ...OPEN_LIMITS.telegram!, account: [{ limit: 100, windowMs: 1_000 }] } }, noticeJob: { everyMs: 3_600_000 },
    });
    await waitForWebhook(t.app, SECRET);
    await call('POST', '/api/subscribers', companies(150));
    const id = await compose({ title: '大范围通知' });
    api.clearCalls();
    expect((await call('POST', `/api/notices/${id}/send`)).statusCode).toBe(202);
    await api.waitForCalls('sendMessage', 20, 10_000);
    const asker = { id: 555_001, is_bot: false as const, first_name: '提问人' };
    expect((await postUpdate(t.app, SECRET, new UpdateBuilder(api.bot).privateText('个体户注销要办什么手续', asker))).statusCode).toBe(200);
    await api.waitUntil(() => messagesTo(555_001).length > 0, 10_000, 'the answer');
    const answeredAt = api.callsOf('sendMessage').findIndex((c) => Number(c.params.chat_id) === 555_001);
    // Sent while most of the broadcast was still waiting.
    expect(answeredAt).toBeLessThan(100);
    await api.waitForCalls('sendMessage', 151, 15_000);
  });

  it('keeps WeChat within its day budget and carries the rest over to the next Beijing day, shown in the report', async () => {
    await t.app.close();
    const wechat = new FakeAdapter('wechat');
    t = await buildApp({
      databaseUrl: database.url, env: { ADMIN_TOKEN: ADMIN }, adapters: [wechat],
      limits: { wechat: { ...OPEN_LIMITS.wechat!, broadcast: [{ limit: 2, ...BEIJING_DAY }] } }, noticeJob: { everyMs: 3_600_000 },
    });
    await wechat.started;
    await call('POST', '/api/subscribers', Array.from({ length: 5 }, (_, i) => ({
      taxpayerId: uscc(300 + i), name: `微信企业${i}`, taxpayerType: '一般纳税人', office: '第一分局', chats: [{ channel: 'wechat', chatId: `wx-${i}` }],
    })));
    const id = await compose({ title: '微信通知' });
    await call('POST', `/api/notices/${id}/send`);
    const until = Date.now() + 10_000;
    let report = (await call('GET', `/api/notices/${id}/report`)).json();
    while (report.deferred.count < 3 && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
      report = (await call('GET', `/api/notices/${id}/report`)).json();
    }
    const tomorrow = chinaDate(new Date(Date.now() + 86_400_000));
    expect(report).toMatchObject({ targeted: 5, sent: 2, pending: 3, deferred: { count: 3, until: tomorrow } });
    expect(wechat.sends).toHaveLength(2);
    // A question still gets its answer the same day.
    await wechat.deliver(wechat.message('个体户注销要办什么手续', { chatKind: 'private', userId: 'wx-asker' }));
    await wechat.waitForSends(3);
    expect(wechat.sends[2]?.out.chatId).toBe('wx-asker');
  });
});
