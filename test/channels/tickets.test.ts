import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelError } from '../../src/channels/channel.js';
import { OFFER } from '../../src/core/tickets/flow.js';
import type { TicketDetail } from '../../src/store/index.js';
import { FakeAdapter, appsPerTest, describeEachDatabase, knowledgeIndex, removeTempDirs, type TestApp } from './helpers.js';

afterAll(() => removeTempDirs());
// The index is built once per file, before the tests: on a busy machine that alone can take longer than one test may.
beforeAll(() => void knowledgeIndex(), 180_000);

/** Asking for a person, in the ways people say it: each opens a ticket. */
const ASKING = [
  '转人工', '人工', '人工客服', '/human', '找工作人员', '我要找真人', '能不能让工作人员回我', '请帮我转人工', '有人工吗', '麻烦联系工作人员', '客服在吗',
  '我要投诉', '窗口的人态度太差了', '税务所的人向我索要好处，我要举报',
];
/** Questions that only mention the words: the FAQ answers them, no ticket. */
const MENTIONING = [
  '投诉渠道有哪些', '怎么举报虚开发票', '投诉电话是多少', '举报偷税有奖励吗', '对税务局服务不满意去哪投诉', '投诉了多久会有回复', '人工智能会取代会计吗',
  '发票丢了怎么办', '个体户注销要办什么手续', '纳税服务投诉怎么处理', '举报有奖励吗', '怎么投诉税务人员',
];
/** Questions the knowledge cannot answer. */
const UNKNOWN = ['火星上怎么报税', '量子纠缠的税率是多少'];

describe('the questions these tests rely on', () => {
  it('are not answered by the knowledge', () => {
    for (const q of UNKNOWN) expect(knowledgeIndex().ask(q).answered).toBe(false);
  });
});

describeEachDatabase('Tickets in chats', (db) => {
  const apps = appsPerTest(db);
  const start = async (adapter: FakeAdapter): Promise<TestApp> => (await apps.start(adapter)).t;
  const agent = async (t: TestApp, name: string): Promise<{ id: string; token: string }> => {
    const { account, token } = await t.store.accounts.create(name, 'agent');
    return { id: account.id, token };
  };
  const call = async (t: TestApp, token: string, method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() as TicketDetail & { error?: { code: string; message: string } } };
  };

  it('opens a ticket for a dozen ways of asking for a person, and answers a dozen questions that only mention the words', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter);
    let sent = 0;
    for (const [i, text] of ASKING.entries()) {
      await adapter.deliver(adapter.message(text, { chatKind: 'private', userId: `asker-${i}` }));
      await adapter.waitForSends(++sent);
      expect(adapter.sends.at(-1)!.out.text, text).toMatch(/工单号 CF-\d{8}-\d{4}/);
    }
    for (const [i, text] of MENTIONING.entries()) {
      await adapter.deliver(adapter.message(text, { chatKind: 'private', userId: `mention-${i}` }));
      await adapter.waitForSends(++sent);
      expect(adapter.sends.at(-1)!.out.text, text).not.toContain('工单号');
    }
    const tickets = await t.store.tickets.list();
    expect(tickets).toHaveLength(ASKING.length);
    // Numbered in the order they came, without gaps.
    expect(tickets.map((x) => Number(x.number.slice(-4))).sort((a, b) => a - b)).toEqual(ASKING.map((_, i) => i + 1));
    expect(tickets.find((x) => x.userId === 'asker-12')).toMatchObject({ source: 'complaint', category: '服务态度类', priority: 'high' });
    expect(tickets.find((x) => x.userId === 'asker-13')).toMatchObject({ category: '侵害权益类', priority: 'urgent' });
  });

  it('relays a group member\'s messages to their ticket in silence while others are still answered; 转人工 again and 查询工单 name the same ticket', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter);
    const zhang = { chatId: 'g-1', userId: 'u-zhang', userName: '张会计' };
    const li = { chatId: 'g-1', userId: 'u-li', userName: '李出纳' };
    await adapter.deliver(adapter.message('发票丢了怎么办', zhang));
    await adapter.deliver(adapter.message('转人工', zhang));
    await adapter.waitForSends(2);
    const number = /CF-\d{8}-\d{4}/.exec(adapter.sends[1]!.out.text)![0];

    await adapter.deliver(adapter.message('我的发票是上个月丢的，电话 13812345678', zhang));
    await adapter.deliver(adapter.message('大家好', { ...zhang, mentionsBot: false }));
    await adapter.deliver(adapter.message('个体户注销要办什么手续', li));
    await adapter.waitForSends(3);
    expect(adapter.sends[2]!.out.text).toMatch(/^【/);
    await adapter.deliver(adapter.message('转人工', zhang));
    const status = adapter.message('查询工单', zhang);
    await adapter.deliver(status);
    await adapter.waitForSends(5);
    expect(adapter.sends[3]!.out.text).toContain(`您的工单 ${number} 正在处理中`);
    expect(adapter.sends[4]!.out.text).toContain(`${number} 已登记`);
    // Nothing else was said to Zhang: the relayed message got no answer from the bot.
    expect(adapter.sends).toHaveLength(5);

    const [ticket] = await t.store.tickets.list();
    const detail = await t.store.tickets.get(ticket!.id);
    expect(detail!.messages.filter((m) => m.transcript).map((m) => m.text)).toEqual(['发票丢了怎么办', '转人工']);
    // Personal numbers are masked at rest on the ticket too, as in the message log.
    expect(detail!.messages.filter((m) => !m.transcript).map((m) => m.text)).toEqual(['我的发票是上个月丢的，电话 [手机号]', '转人工']);
    expect(await t.store.tickets.list()).toHaveLength(1);

    // The agent's reply quotes Zhang's last message in the group (Telegram cannot @ a user without a username).
    const agentLi = await agent(t, '李工');
    await call(t, agentLi.token, 'POST', `/api/tickets/${ticket!.id}/claim`);
    await call(t, agentLi.token, 'POST', `/api/tickets/${ticket!.id}/reply`, { text: '请把发票号码发给我' });
    await adapter.waitForSends(6);
    expect(adapter.sends[5]!.out).toMatchObject({ chatId: 'g-1', text: '【工作人员 李工】请把发票号码发给我', replyToMessageId: status.messageId });
  });

  it('offers a person after two unanswered questions in a row and opens the ticket on 是', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter);
    const me = { chatKind: 'private' as const, userId: 'u-wang' };
    await adapter.deliver(adapter.message('是', me));
    await adapter.deliver(adapter.message(UNKNOWN[0]!, me));
    await adapter.waitForSends(2);
    expect(adapter.sends.map((s) => s.out.text)).not.toContain(OFFER);
    await adapter.deliver(adapter.message(UNKNOWN[1]!, me));
    await adapter.waitForSends(4);
    expect(adapter.sends[3]!.out.text).toBe(OFFER);
    await adapter.deliver(adapter.message('是', me));
    await adapter.waitForSends(5);
    expect(adapter.sends[4]!.out.text).toContain('已为您转接工作人员，工单号 CF-');
    const [ticket] = await t.store.tickets.list();
    expect(ticket).toMatchObject({ source: 'offer', userId: 'u-wang' });
  });

  it('carries an agent\'s reply to the chat signed with their name, asks for a rating on resolve, and stores it', async () => {
    const adapter = new FakeAdapter('wechat');
    const t = await start(adapter);
    const li = await agent(t, '李工');
    const zhang = { chatId: 'room-1', userId: 'wx-zhang', userName: '张会计' };
    await adapter.deliver(adapter.message('转人工', zhang));
    await adapter.waitForSends(1);
    const [ticket] = await t.store.tickets.list();
    expect((await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/reply`, { text: '您好' })).body.error?.message).toBe('请先认领工单再回复');
    expect((await call(t, li.token, 'POST', `/api/tickets/${ticket!.number}/claim`)).status).toBe(200);
    const replied = await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/reply`, { text: '您好，请问是哪张发票？' });
    expect(replied.status).toBe(200);
    await adapter.waitForSends(2);
    // In a WeChat group the reply @-mentions the requester.
    expect(adapter.sends[1]!.out).toMatchObject({ chatId: 'room-1', text: '【工作人员 李工】您好，请问是哪张发票？', mention: { userId: 'wx-zhang', name: '张会计' } });

    await adapter.deliver(adapter.message('是11月的专票', zhang));
    const resolved = await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/resolve`, { resolution: '已指导您在电子税务局作废重开' });
    expect(resolved.body.state).toBe('resolved');
    await adapter.waitForSends(3);
    expect(adapter.sends[2]!.out.text).toContain('1 非常满意，2 满意，3 不满意');
    await adapter.deliver(adapter.message('3 等待太久', zhang));
    await adapter.waitForSends(4);
    expect(adapter.sends[3]!.out.text).toContain('很抱歉没能让您满意');
    // After the rating the bot answers questions again.
    await adapter.deliver(adapter.message('个体户注销要办什么手续', zhang));
    await adapter.waitForSends(5);
    expect(adapter.sends[4]!.out.text).toMatch(/^【/);

    const detail = (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body;
    expect(detail).toMatchObject({ state: 'followed_up', rating: 3, ratingComment: '等待太久', flagged: true });
    expect(detail.messages.filter((m) => !m.transcript).map((m) => [m.from, m.text])).toEqual([
      ['agent', '您好，请问是哪张发票？'], ['user', '是11月的专票'], ['bot', expect.stringContaining('已指导您在电子税务局作废重开')],
    ]);
    expect(detail.events.map((e) => e.type)).toEqual(['registered', 'claimed', 'replied', 'resolved', 'rated', 'flagged', 'followed_up']);
    expect((await call(t, li.token, 'GET', '/api/tickets?flagged=true')).body).toMatchObject({ tickets: [{ id: ticket!.id }] });

    // 还没解决 reopens it, back to the agent who had it.
    await adapter.deliver(adapter.message('还没解决', zhang));
    await adapter.waitForSends(6);
    expect(adapter.sends[5]!.out.text).toContain(`已重新打开工单 ${ticket!.number}`);
    expect((await t.store.tickets.find(ticket!.id))).toMatchObject({ state: 'in_progress', assignee: li.id, rating: null });
  });

  it('marks an agent reply that cannot be delivered on the message, and keeps it', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter);
    const li = await agent(t, '李工');
    await adapter.deliver(adapter.message('转人工', { chatKind: 'private', userId: 'u-1' }));
    await adapter.waitForSends(1);
    const [ticket] = await t.store.tickets.list();
    await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/claim`);
    adapter.failures.push(new ChannelError('telegram', 'refused', 'Bad Request: chat not found'));
    await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/reply`, { text: '您好' });
    await expect.poll(async () => (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body.messages.at(-1)?.delivery?.state).toBe('failed');
    const last = (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body.messages.at(-1)!;
    expect(last).toMatchObject({ from: 'agent', text: '您好', delivery: { state: 'failed', attempts: 1, error: expect.stringContaining('chat not found') } });

    // Sent again from the console: a new message, delivered; the failed one stays as it was.
    const resent = await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/messages/${last.id}/resend`);
    expect(resent.status).toBe(200);
    await adapter.waitForSends(2);
    expect(adapter.sends[1]!.out.text).toBe('【工作人员 李工】您好');
    await expect.poll(async () => (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body.messages.at(-1)?.delivery?.state).toBe('sent');
    const after = (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body;
    expect(after.messages.filter((m) => !m.transcript).map((m) => m.delivery?.state)).toEqual(['failed', 'sent']);
    expect(after.events.at(-1)).toMatchObject({ type: 'resent' });
    expect((await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/messages/${after.messages.at(-1)!.id}/resend`)).body.error?.message).toBe('这条消息没有发送失败，不需要重发');

    // A network failure is retried by itself, and the attempts show.
    adapter.failures.push(new ChannelError('telegram', 'network', 'ECONNRESET'));
    await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/reply`, { text: '还在吗' });
    await adapter.waitForSends(3);
    await expect.poll(async () => (await call(t, li.token, 'GET', `/api/tickets/${ticket!.id}`)).body.messages.at(-1)?.delivery).toMatchObject({ state: 'sent', attempts: 2 });
  });
});
