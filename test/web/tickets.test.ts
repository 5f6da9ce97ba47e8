import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { UpdateBuilder, postUpdate, waitForWebhook, type TgUser } from '../channels/helpers.js';
import { TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, callApi, startApp, type RunningApp, type WatchedPage } from './browser.js';

const ADMIN = 'tickets-browser-admin-token';
const SECRET = 'tickets-browser-webhook-secret';
const XSS = '<img src=x onerror=alert(1)>';

/** Each test's own taxpayer, so an open ticket of one test is never another's. */
let nextUserId = 4001;
function taxpayer(first_name: string): TgUser {
  return { id: nextUserId++, is_bot: false, first_name };
}

describe.skipIf(!HAS_CHROMIUM)(`the ticket console in chromium, tickets opened through the Telegram webhook${CHROMIUM_NOTE}`, () => {
  let telegram: FakeTelegramApi;
  beforeAll(async () => {
    telegram = await FakeTelegramApi.start();
  });
  afterAll(async () => {
    await telegram.close();
  });
  const suite = browserSuite(() => ({ ADMIN_TOKEN: ADMIN, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET }));
  beforeAll(() => waitForWebhook(suite.server().app, SECRET));
  const updates = new UpdateBuilder();

  /** A taxpayer's message in their private chat with the bot, through the real webhook. */
  async function say(from: TgUser, text: string): Promise<void> {
    const res = await postUpdate(suite.server().app, SECRET, updates.privateText(text, from));
    expect(res.statusCode).toBe(200);
  }

  /** The texts the bot sent to a chat through the fake Bot API. */
  const sentTo = (chat: number): string[] => telegram.callsOf('sendMessage').filter((c) => String(c.params.chat_id) === String(chat)).map((c) => String(c.params.text));

  /** Waits until the bot has sent `chat` a message containing `text`, and answers that message. */
  async function botSaid(chat: number, text: string | RegExp): Promise<string> {
    const match = (t: string): boolean => (typeof text === 'string' ? t.includes(text) : text.test(t));
    await telegram.waitUntil(() => sentTo(chat).some(match), 10_000, `a message to ${chat} with ${String(text)}`);
    return sentTo(chat).find(match) as string;
  }

  async function agent(name: string): Promise<{ id: string; token: string }> {
    const { status, json } = await callApi(suite.server(), 'POST', '/api/accounts', ADMIN, { name, role: 'agent' });
    expect(status).toBe(201);
    return json as { id: string; token: string };
  }

  /** Signs in on the console; an agent lands on the queue, whose live stream is then open. */
  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('访问令牌').fill(token);
    await page.getByRole('button', { name: '登录' }).click();
    await page.waitForURL('**/console/tickets');
  }

  const live = (page: Page) => page.locator('[data-test="live-open"]');
  const queueRow = (page: Page, number: string) => page.locator('[data-test="tickets"] .el-table__body tr', { hasText: number });
  const tabText = (page: Page, tab: string) => page.locator(`[data-test="tab-${tab}"]`).innerText();
  const transcript = (page: Page) => page.locator('[data-test="transcript"]');

  /** Opens a ticket from the queue by its number. */
  async function openTicket(w: WatchedPage, number: string): Promise<void> {
    await queueRow(w.page, number).getByText(number).click();
    await w.page.locator('[data-test="ticket-number"]', { hasText: number }).waitFor();
  }

  it('shows a 转人工 arriving live, then claim, reply (reaching the chat through the bot) and resolve', async () => {
    const li = await agent('李工');
    const w = await suite.open('/console/');
    const { page, shot } = w;
    await signIn(page, li.token);
    await live(page).waitFor();
    const waiting = async (): Promise<number> => Number(/\d+/.exec(await tabText(page, 'new'))?.[0]);
    const before = await waiting();

    const wang = taxpayer('王先生');
    await say(wang, '转人工');
    const registered = await botSaid(wang.id, /CF-\d{8}-\d{4}/);
    const number = /CF-\d{8}-\d{4}/.exec(registered)?.[0] as string;

    // No reload: the stream brings it.
    await queueRow(page, number).waitFor();
    await expect.poll(waiting).toBe(before + 1);
    // The browser tab says so too, for an agent working in another tab.
    await expect(page.title()).resolves.toBe(`(${before + 1}) 工单 · 春风控制台`);
    await expect(queueRow(page, number).innerText()).resolves.toMatch(/已登记[\s\S]*Telegram[\s\S]*剩余 \d+ 个工作日|今天到期/);
    await shot('tickets-queue');

    await openTicket(w, number);
    await transcript(page).locator('[data-from="user"]', { hasText: '转人工' }).waitFor();
    await page.locator('[data-test="claim"]').click();
    await page.locator('[data-test="ticket-state"]', { hasText: '已分派' }).waitFor();

    await page.getByLabel('回复内容').fill('您好，我是李工。请问贵公司的纳税信用等级是？');
    await page.locator('[data-test="send-reply"]').click();
    await transcript(page).locator('[data-from="agent"]', { hasText: '请问贵公司的纳税信用等级是？' }).waitFor();
    // The reply reaches the taxpayer's chat through the bot, signed with the agent's name.
    await expect(botSaid(wang.id, '请问贵公司的纳税信用等级是？')).resolves.toContain('李工');

    // The taxpayer answers in the chat: it shows up in the open ticket by itself.
    await say(wang, 'B级');
    await transcript(page).locator('[data-from="user"]', { hasText: 'B级' }).waitFor();
    await shot('tickets-ticket');

    await page.locator('[data-test="resolve"]').click();
    await page.getByLabel('答复意见').fill('已告知留抵退税的申请条件和办理渠道');
    await page.locator('[data-test="confirm-resolve"]').click();
    await page.locator('[data-test="ticket-state"]', { hasText: '已答复' }).waitFor();
    await botSaid(wang.id, '满意');
    const trail = await page.locator('[data-test="events"]').innerText();
    for (const step of ['认领', '回复', '办结']) expect(trail).toContain(step);
    expect(trail).toContain('已告知留抵退税的申请条件和办理渠道');
    await page.locator('[data-test="reopen"]').waitFor();
    // The rating request is marked 等待发送 until the bot has delivered it; then the mark goes.
    await expect.poll(() => page.locator('[data-test="delivery"]').count(), { timeout: 10_000 }).toBe(0);
    await shot('tickets-resolved');
  });

  it('marks a repeat requester (3 tickets in 30 days) and opens their history in one click', async () => {
    const wu = await agent('吴工');
    const chen = taxpayer('陈会计');
    const numbers: string[] = [];
    for (let i = 0; i < 3; i++) {
      await say(chen, '转人工');
      await telegram.waitUntil(() => sentTo(chen.id).some((t) => /CF-\d{8}-\d{4}/.test(t) && !numbers.some((n) => t.includes(n))), 10_000, 'a new ticket number');
      const number = sentTo(chen.id).map((t) => /CF-\d{8}-\d{4}/.exec(t)?.[0]).find((n) => n !== undefined && !numbers.includes(n)) as string;
      numbers.push(number);
      if (i === 2) break;
      expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/claim`, wu.token)).status).toBe(200);
      expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/resolve`, wu.token, { resolution: '已电话答复' })).status).toBe(200);
      await say(chen, '1');
      await botSaid(chen.id, '感谢您的评价');
    }

    const w = await suite.open('/console/');
    await signIn(w.page, wu.token);
    await w.page.locator('[data-test="tab-repeat"]').click();
    await queueRow(w.page, numbers[2] as string).locator('[data-test="repeat"]').click();
    await w.page.locator('[data-test="history"]').getByText('陈会计').waitFor();
    await expect.poll(() => w.page.locator('[data-test="tickets"] .el-table__body tr').count()).toBe(3);
    const listed = await w.page.locator('[data-test="tickets"] .el-table__body tr td:first-child').allInnerTexts();
    expect(listed.map((t) => t.trim()).sort()).toEqual([...numbers].sort());
    await w.shot('tickets-history');
  });

  it('shows a 不满意 rating with its comment for a supervisor, and lets the agent take the chat over again', async () => {
    const lin = await agent('林工');
    const guo = taxpayer('郭先生');
    await say(guo, '转人工');
    const number = /CF-\d{8}-\d{4}/.exec(await botSaid(guo.id, /CF-\d{8}-\d{4}/))?.[0] as string;
    expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/claim`, lin.token)).status).toBe(200);
    expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/resolve`, lin.token, { resolution: '已电话答复' })).status).toBe(200);
    await say(guo, '3 等待太久');
    await botSaid(guo.id, '负责人会再联系您');

    const w = await suite.open('/console/');
    await signIn(w.page, lin.token);
    await w.page.locator('[data-test="tab-all"]').click();
    await openTicket(w, number);
    await w.page.locator('[data-test="flagged"]').getByText('不满意 · 待督办').waitFor();
    await expect(w.page.locator('.el-descriptions').innerText()).resolves.toMatch(/3 不满意[\s\S]*留言：等待太久/);
    await expect(w.page.locator('[data-test="events"]').innerText()).resolves.toContain('纳税人评价');
    await w.shot('tickets-unsatisfied');

    await w.page.locator('[data-test="take-over"]').click();
    await w.page.waitForURL((url) => !url.pathname.endsWith(number));
    await w.page.locator('[data-test="ticket-state"]', { hasText: '已分派' }).waitFor();
    await expect(w.page.locator('[data-test="ticket-number"]').innerText()).resolves.not.toBe(number);
    await expect(w.page.locator('.el-descriptions').innerText()).resolves.toMatch(/处理人\s+林工[\s\S]*来源\s+工作人员接管/);
    // The taxpayer's next message goes to the new ticket, not to the FAQ.
    await w.page.getByLabel('回复内容').waitFor();
    await say(guo, '好的，请问还需要准备什么材料');
    await transcript(w.page).locator('[data-from="user"]', { hasText: '还需要准备什么材料' }).waitFor();
  });

  it('marks a reply the chat refused, and queues it again on 重发', async () => {
    const bai = await agent('白工');
    const xu = taxpayer('许女士');
    await say(xu, '转人工');
    const number = /CF-\d{8}-\d{4}/.exec(await botSaid(xu.id, /CF-\d{8}-\d{4}/))?.[0] as string;
    expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/claim`, bai.token)).status).toBe(200);

    const w = await suite.open('/console/');
    await signIn(w.page, bai.token);
    await w.page.locator('[data-test="tab-mine"]').click();
    await openTicket(w, number);
    // Telegram refuses the next message outright (a 400 is not retried).
    telegram.fail('sendMessage', { code: 400, description: 'Bad Request: chat not found' });
    await w.page.getByLabel('回复内容').fill('请问您方便电话联系吗？');
    await w.page.locator('[data-test="send-reply"]').click();
    const line = transcript(w.page).locator('[data-from="agent"]', { hasText: '请问您方便电话联系吗？' });
    await line.locator('[data-test="delivery"]', { hasText: '发送失败' }).waitFor({ timeout: 15_000 });
    await w.shot('tickets-undelivered');

    telegram.clearFailures();
    await line.locator('[data-test="resend"]').click();
    await botSaid(xu.id, '请问您方便电话联系吗？');
    // The new attempt is a message of its own, delivered: its mark goes.
    await expect.poll(() => transcript(w.page).locator('[data-from="agent"]', { hasText: '请问您方便电话联系吗？' }).count()).toBe(2);
    await expect.poll(() => transcript(w.page).locator('[data-from="agent"]').last().locator('[data-test="delivery"]').count(), { timeout: 10_000 }).toBe(0);
  });

  it('lists an overdue ticket first, in red, with the working days it is late', async () => {
    const feng = await agent('冯工');
    const ma = taxpayer('马先生');
    await say(ma, '你好');
    await botSaid(ma.id, /./);
    const gao = taxpayer('高女士');
    await say(gao, '转人工');
    const fresh = /CF-\d{8}-\d{4}/.exec(await botSaid(gao.id, /CF-\d{8}-\d{4}/))?.[0] as string;

    // A complaint registered three weeks ago and never handled, put in the store as the gateway would have.
    const { store } = suite.server().app;
    const who = await store.tickets.requester('telegram', String(ma.id), String(ma.id));
    expect(who).not.toBeNull();
    const day = 86_400_000;
    const at = new Date(Date.now() - 21 * day);
    const { ticket: late } = await store.tickets.open({
      channel: 'telegram', chatId: String(ma.id), userId: String(ma.id), ...who!, source: 'complaint', category: '服务态度类', priority: 'normal',
      dueAt: new Date(Date.now() - 7 * day), firstResponseDueAt: new Date(at.getTime() + day), actor: 'user', at,
    });

    const w = await suite.open('/console/');
    await signIn(w.page, feng.token);
    const rows = w.page.locator('[data-test="tickets"] .el-table__body tr');
    await queueRow(w.page, fresh).waitFor();
    await queueRow(w.page, late.number).waitFor();
    await expect(tabText(w.page, 'overdue')).resolves.toMatch(/超时\s*1/);
    // Overdue first although it is the older one, and marked.
    await expect(rows.first().innerText()).resolves.toContain(late.number);
    await expect(rows.first().getAttribute('class')).resolves.toContain('late');
    await expect(rows.first().locator('[data-test="sla"]').innerText()).resolves.toMatch(/^已超时 \d+ 个工作日$/);
    await expect(queueRow(w.page, fresh).locator('[data-test="sla"]').innerText()).resolves.toMatch(/^(剩余 \d+ 个工作日|今天到期)$/);
    await w.page.locator('[data-test="tab-overdue"]').click();
    await expect.poll(() => rows.count()).toBe(1);
    await w.shot('tickets-overdue');
  });

  it('shows what a taxpayer typed as those characters, never as markup', async () => {
    const zhao = await agent('赵工');
    const w = await suite.open('/console/');
    await signIn(w.page, zhao.token);
    await live(w.page).waitFor();
    const sun = taxpayer(XSS);
    await say(sun, '转人工');
    const number = /CF-\d{8}-\d{4}/.exec(await botSaid(sun.id, /CF-\d{8}-\d{4}/))?.[0] as string;
    await queueRow(w.page, number).waitFor();
    await openTicket(w, number);
    await w.page.locator('[data-test="claim"]').click();
    await w.page.locator('[data-test="ticket-state"]', { hasText: '已分派' }).waitFor();
    await say(sun, XSS);
    const line = transcript(w.page).locator('[data-from="user"] .bubble').last();
    await expect.poll(() => line.innerText()).toBe(XSS);
    await expect(w.page.locator('img[src="x"]').count()).resolves.toBe(0);
    await w.shot('tickets-markup-as-text');
  });

  it('lets an admin transfer a ticket to an agent, who then holds it', async () => {
    const zheng = await agent('郑工');
    const he = taxpayer('何女士');
    await say(he, '人工客服');
    const number = /CF-\d{8}-\d{4}/.exec(await botSaid(he.id, /CF-\d{8}-\d{4}/))?.[0] as string;

    const w = await suite.open('/console/');
    await w.page.getByLabel('访问令牌').fill(ADMIN);
    await w.page.getByRole('button', { name: '登录' }).click();
    await w.page.getByRole('menuitem', { name: '工单' }).click();
    await openTicket(w, number);
    await w.page.locator('[data-test="transfer"]').click();
    await w.page.locator('[data-test="transfer-to"]').click();
    await w.page.locator('.el-select-dropdown__item', { hasText: '郑工' }).filter({ visible: true }).first().click();
    await w.page.locator('[data-test="confirm-transfer"]').click();
    await w.page.locator('[data-test="ticket-state"]', { hasText: '已分派' }).waitFor();
    await expect(w.page.locator('.el-descriptions').innerText()).resolves.toMatch(/处理人\s+郑工/);
    await expect(w.page.locator('[data-test="events"]').innerText()).resolves.toContain('转交给 郑工');
    const { json } = await callApi(suite.server(), 'GET', `/api/tickets/${number}`, zheng.token);
    expect(json).toMatchObject({ state: 'assigned', assignee: zheng.id });
    await w.shot('tickets-transferred');
  });

  it('says in Chinese when another agent was quicker (409), and when the live connection drops', async () => {
    const [qian, zhou] = await Promise.all([agent('钱工'), agent('周工')]);
    const liu = taxpayer('刘女士');
    await say(liu, '我要找真人');
    const number = /CF-\d{8}-\d{4}/.exec(await botSaid(liu.id, /CF-\d{8}-\d{4}/))?.[0] as string;

    const w = await suite.open('/console/');
    // 周工's browser loses the live stream: the page says so, and its 认领 button goes stale.
    await w.context.route('**/api/events', (route) => route.abort('internetdisconnected'));
    await signIn(w.page, zhou.token);
    await w.page.locator('[data-test="live-down"]').getByText('连接中断').waitFor();
    await openTicket(w, number);

    // GET and POST /api/tickets/:id take the number as well as the id.
    expect((await callApi(suite.server(), 'POST', `/api/tickets/${number}/claim`, qian.token)).status).toBe(200);

    await w.page.locator('[data-test="claim"]').click();
    await w.page.locator('[data-test="conflict"]').getByText('工单已被其他工作人员认领').waitFor();
    await w.page.locator('[data-test="ticket-state"]', { hasText: '已分派' }).waitFor();
    await expect(w.page.locator('[data-test="claim"]').count()).resolves.toBe(0);
    await w.shot('tickets-conflict');

    // The network is back: the stream reconnects by itself.
    await w.context.unroute('**/api/events');
    await live(w.page).waitFor({ timeout: 20_000 });
  });
});

describe.skipIf(!HAS_CHROMIUM || !TEST_PG_URL)(
  `the ticket console with two gateway instances on one PostgreSQL${CHROMIUM_NOTE}${TEST_PG_URL ? '' : ' (skipped: TEST_DATABASE_URL not set)'}`,
  () => {
    let telegram: FakeTelegramApi;
    let database: { url: string; cleanup(): Promise<void> };
    let other: RunningApp;
    const env = (): Record<string, string> => ({
      ADMIN_TOKEN: ADMIN, DATABASE_URL: database.url, TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, TELEGRAM_WEBHOOK_SECRET: SECRET,
    });
    beforeAll(async () => {
      [telegram, database] = await Promise.all([FakeTelegramApi.start(), freshPostgresSchema(TEST_PG_URL as string, 'chunfeng_console')]);
    });
    afterAll(async () => {
      await telegram.close();
      await database.cleanup();
    });
    const suite = browserSuite(env);
    // The second instance starts once the first has migrated the schema.
    beforeAll(async () => {
      other = await startApp(env());
      await waitForWebhook(other.app, SECRET);
    });
    afterAll(() => other.close());
    const updates = new UpdateBuilder();

    it('shows in a console on one instance a ticket opened through the other, and the reply goes out', async () => {
      const { status, json } = await callApi(suite.server(), 'POST', '/api/accounts', ADMIN, { name: '韩工', role: 'agent' });
      expect(status).toBe(201);
      const w = await suite.open('/console/');
      await w.page.getByLabel('访问令牌').fill(json.token as string);
      await w.page.getByRole('button', { name: '登录' }).click();
      await w.page.locator('[data-test="live-open"]').waitFor();

      const tang = taxpayer('唐先生');
      expect((await postUpdate(other.app, SECRET, updates.privateText('转人工', tang))).statusCode).toBe(200);
      await telegram.waitUntil(() => telegram.callsOf('sendMessage').some((c) => String(c.params.chat_id) === String(tang.id)), 10_000, 'the ticket number');
      const number = telegram.callsOf('sendMessage').map((c) => /CF-\d{8}-\d{4}/.exec(String(c.params.text))?.[0]).find(Boolean) as string;
      await w.page.locator('[data-test="tickets"] .el-table__body tr', { hasText: number }).getByText(number).click();
      await w.page.locator('[data-test="claim"]').click();
      await w.page.getByLabel('回复内容').fill('您好，我是韩工。');
      await w.page.locator('[data-test="send-reply"]').click();
      await telegram.waitUntil(() => telegram.callsOf('sendMessage').some((c) => String(c.params.text).includes('您好，我是韩工。')), 10_000, 'the reply');

      // The taxpayer's answer reaches the other instance; the open ticket shows it by itself.
      expect((await postUpdate(other.app, SECRET, updates.privateText('谢谢，我在等', tang))).statusCode).toBe(200);
      await w.page.locator('[data-test="transcript"] [data-from="user"]', { hasText: '谢谢，我在等' }).waitFor();
      await w.shot('tickets-two-instances');
    });
  },
);
