import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { REAL_KNOWLEDGE, removeDir, tempDir } from '../helpers/knowledge.js';
import { uscc } from '../helpers/taxpayers.js';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, callApi } from './browser.js';

const ADMIN = 'browser-test-admin-token';
/** A copy of the real knowledge: attaching writes into it, never into the repository's folder. */
const KNOWLEDGE = tempDir('chunfeng-web-insight-');
cpSync(REAL_KNOWLEDGE, KNOWLEDGE, { recursive: true });
afterAll(() => removeDir(KNOWLEDGE));

const DAY = 24 * 3600_000;

describe.skipIf(!HAS_CHROMIUM)(`the console's 热搜榜 and 待解答 in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ADMIN_TOKEN: ADMIN, KNOWLEDGE_DIR: KNOWLEDGE });
  const api = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => callApi(suite.server(), method, path, token, body);

  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('访问令牌').fill(token);
    await page.getByRole('button', { name: '登录' }).click();
  }
  async function staffToken(name: string): Promise<string> {
    const { status, json } = await api('POST', '/api/accounts', ADMIN, { name, role: 'staff' });
    expect(status).toBe(201);
    return json.token as string;
  }

  /** Answered questions in two offices' groups, this week and the week before. */
  async function seedBoard(): Promise<void> {
    const { store } = suite.server().app;
    await api('POST', '/api/subscribers', ADMIN, [
      { taxpayerId: uscc(1), name: '济南历下精密制造有限公司', taxpayerType: '一般纳税人', office: '第一分局', chats: [{ channel: 'telegram', chatId: '-1001' }] },
      { taxpayerId: uscc(2), name: '济南大明湖商贸有限公司', taxpayerType: '小规模纳税人', office: '第二分局', chats: [{ channel: 'telegram', chatId: '-1002' }] },
    ]);
    const first = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '-1001', kind: 'group', title: '历下区企业办税群' });
    const second = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '-1002', kind: 'group', title: '市中区个体户群' });
    const now = Date.now();
    const ask = (chatId: string, entryId: string, daysAgo: number, text: string) =>
      store.messages.record({ channel: 'telegram', chatId, direction: 'in', text, at: new Date(now - daysAgo * DAY), decision: { answered: true, entryId, score: 12, reason: 'answered' } });
    for (let i = 0; i < 6; i++) await ask(first, 'invoice-lost', 0, i === 0 ? '发票丢了怎么办？我的电话13812345678' : '发票丢了怎么办');
    for (let i = 0; i < 4; i++) await ask(second, 'vat-refund-apply', 0, '留抵退税怎么申请');
    for (let i = 0; i < 5; i++) await ask(second, 'vat-refund-apply', 7, '留抵退税怎么申请');
    await ask(first, 'vat-refund-apply', 0, '留抵退税在哪里申请');
  }

  it('热搜榜: the chart and the ranked table, filtered by period and office, with the masked questions behind a topic', async () => {
    await seedBoard();
    const token = await staffToken('赵科长');
    const { page, shot } = await suite.open('/console/hot');
    await signIn(page, token);
    await page.waitForURL('**/console/hot');
    await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['首页', '纳税人', '通知', '热搜榜', '待解答', '服务报告', '个人信息']);
    await page.locator('[data-test="hot-chart"] canvas').waitFor();
    await page.locator('[data-test="period"]').getByText('日').click();
    const rows = page.locator('[data-test="hot-table"] .el-table__body tr');
    await expect.poll(() => rows.allInnerTexts()).toEqual([
      expect.stringMatching(/^1\s+发票丢失了怎么办\s+6\s+0\s+↑ 6$/),
      expect.stringMatching(/^2\s+.+\s+5\s+0\s+↑ 5$/),
    ]);
    await shot('insight-hot');

    await page.locator('[data-test="office"]').click();
    await page.locator('.el-select-dropdown__item', { hasText: '第二分局' }).filter({ visible: true }).click();
    await expect.poll(() => rows.allInnerTexts()).toEqual([expect.stringMatching(/^1\s+.+\s+4\s+0\s+↑ 4$/)]);

    await page.locator('[data-test="office"] .el-select__clear').click({ force: true });
    await page.locator('[data-test="hot-table"]').getByText('发票丢失了怎么办').click();
    const drawer = page.locator('[data-test="topic-drawer"]');
    await expect.poll(() => drawer.locator('[data-test="topic-message"]').count()).toBe(6);
    await expect(drawer.getByText('发票丢了怎么办？我的电话[手机号]').count()).resolves.toBe(1);
    await expect(drawer.getByText('历下区企业办税群').count()).resolves.toBeGreaterThan(0);
    await shot('insight-hot-messages');
  }, 60_000);

  it('待解答: a group attached to an entry is answered after the reload; a group dismissed leaves; the draft form says what kb lint says', async () => {
    for (const q of ['小票不见了咋整', '小票不见了咋整啊', '今天股市怎么样', '今天股市怎么样']) {
      const res = await fetch(`${suite.server().url}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q }) });
      expect(((await res.json()) as { answered: boolean }).answered).toBe(false);
    }
    const token = await staffToken('钱科员');
    const { page, shot } = await suite.open('/console/unanswered');
    await signIn(page, token);
    await page.waitForURL('**/console/unanswered');
    const groups = page.locator('[data-test="inbox"] .el-table__body tr');
    await expect.poll(() => groups.count()).toBe(2);
    await expect(page.locator('[data-test="inbox-total"]').innerText()).resolves.toBe('待处理 2 组');
    await shot('insight-unanswered');

    // 新建条目: checked like kb lint before anything is written.
    await groups.filter({ hasText: '今天股市怎么样' }).locator('[data-test="draft"]').click();
    await page.locator('[data-test="draft-check"]').click();
    const problems = page.locator('[data-test="draft-problems"]');
    await problems.waitFor();
    await expect(problems.innerText()).resolves.toContain('缺少字段 id');
    await shot('insight-draft');
    await page.locator('[data-test="draft-dialog"]').getByRole('button', { name: '取消' }).click();

    // 加到条目: the phrasings go into the entry's file, and the same question is answered, no restart.
    await groups.filter({ hasText: '小票不见了咋整' }).locator('[data-test="attach"]').click();
    await page.locator('[data-test="attach-entry"]').click();
    await page.locator('[data-test="attach-entry"] input').fill('发票丢失');
    await page.locator('.el-select-dropdown__item', { hasText: '发票丢失了怎么办' }).filter({ visible: true }).first().click();
    await page.locator('[data-test="attach-confirm"]').click();
    // The index is rebuilt in a worker (statutes included): a few seconds, more on a busy machine.
    await page.locator('.el-message--success').waitFor({ timeout: 60_000 });
    await expect.poll(() => groups.count()).toBe(1);
    expect(readFileSync(join(KNOWLEDGE, 'faq/invoice-lost.md'), 'utf8')).toContain('  - 小票不见了咋整\n');
    const answered = await fetch(`${suite.server().url}/api/ask`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ q: '小票不见了咋整' }) });
    expect(await answered.json()).toMatchObject({ answered: true, id: 'invoice-lost' });

    // 忽略: confirmed, the group leaves; 已处理 shows both, with the question answered since.
    await groups.filter({ hasText: '今天股市怎么样' }).locator('[data-test="dismiss"]').click();
    await page.locator('.el-message-box').getByRole('button', { name: '忽略' }).click();
    await expect.poll(() => groups.count()).toBe(0);
    await page.reload();
    const decided = page.locator('[data-test="decisions"] .el-table__body tr');
    await expect.poll(() => decided.count()).toBe(2);
    await expect(decided.nth(1).innerText()).resolves.toMatch(/加到条目\s+发票丢失了怎么办[\s\S]*\s1\s+0\s+钱科员/);
    await shot('insight-decided');
  }, 90_000);
});
