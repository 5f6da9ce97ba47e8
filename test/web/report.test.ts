import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, callApi } from './browser.js';

const ADMIN = 'browser-test-admin-token';

describe.skipIf(!HAS_CHROMIUM)(`the console's service report and personal data pages in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ADMIN_TOKEN: ADMIN });

  async function staffToken(name: string): Promise<string> {
    const { status, json } = await callApi(suite.server(), 'POST', '/api/accounts', ADMIN, { name, role: 'staff' });
    expect(status).toBe(201);
    return json.token as string;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('访问令牌').fill(token);
    await page.getByRole('button', { name: '登录' }).click();
  }

  /** A week of questions (2026-W48) from three people, most in office hours, Beijing time. */
  async function seed(): Promise<void> {
    const { store } = suite.server().app;
    const group = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '-100', kind: 'group', title: '纳税人之家' });
    const names = ['王先生', '李女士', '张会计'];
    const users = await Promise.all(names.map((n, i) => store.identities.upsertUser({ channel: 'telegram', channelUserId: `52345678${i}`, displayName: n })));
    const reasons = ['answered', 'answered', 'answered', 'referred', 'uncertain', 'picked', 'no_match', 'answered', 'uncertain', 'answered'];
    let n = 0;
    for (let day = 23; day <= 27; day++) {
      for (const hour of [9, 10, 10, 14, 15, 15, 16]) {
        const reason = reasons[n % reasons.length] as string;
        const answered = ['answered', 'referred', 'picked'].includes(reason);
        await store.messages.record({
          // A pick comes from whoever was offered the suggestions just before.
          channel: 'telegram', chatId: group, userId: users[(reason === 'picked' ? n - 1 : n) % 3] as string, direction: 'in', channelMessageId: `m${n}`, text: `问题 ${n}`,
          at: new Date(`2026-11-${day}T${String(hour).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00+08:00`),
          decision: { answered, entryId: answered ? 'vat-rate' : null, score: 5, reason },
        });
        n++;
      }
    }
  }

  it('shows the week’s figures with charts, exports a table as CSV with a BOM, and prints a clean weekly report', async () => {
    await seed();
    const token = await staffToken('赵科长');
    const { page, shot } = await suite.open('/console/report?week=2026-W48');
    await signIn(page, token);
    await page.waitForURL('**/console/report?week=2026-W48');
    await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['首页', '纳税人', '通知', '热搜榜', '待解答', '服务报告', '个人信息']);
    const tiles = page.locator('[data-test="report-tiles"]');
    await tiles.getByText('咨询量').waitFor();
    // 35 messages: 32 questions (the 3 picks answer offers), 7 offers of which 3 were picked from.
    await expect(tiles.locator('.tile').first().innerText()).resolves.toBe('咨询量\n32\n作答 18，转办 4，未能回答 3');
    await expect(tiles.innerText()).resolves.toContain('建议采纳率\n42.9%');
    await expect(page.locator('[data-test="report-period"]').innerText()).resolves.toContain('2026-11-23 至 2026-11-29（北京时间）');
    await page.locator('[data-test="chart-hours"] svg').waitFor();
    await expect(page.locator('[data-test="week-label"]').innerText()).resolves.toBe('2026-W48');
    await shot('console-report');

    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="csv-hours"]').click()]);
    expect(download.suggestedFilename()).toBe('服务报告-2026-W48-咨询时段（北京时间）.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv.startsWith('\uFEFF时段,咨询量\r\n')).toBe(true);
    expect(csv).toContain('\r\n10:00-11:00,9\r\n');

    await page.locator('[data-test="prev-week"]').click();
    await page.waitForURL('**/console/report?week=2026-W47');
    await expect(tiles.locator('.tile').first().innerText()).resolves.toContain('0');

    const print = await suite.open('/console/report/print?week=2026-W48');
    await signIn(print.page, token);
    await print.page.waitForURL('**/console/report/print?week=2026-W48');
    await expect(print.page.locator('[data-test="print-title"]').innerText()).resolves.toBe('春风纳税服务周报');
    await print.page.locator('[data-test="chart-hours"] svg').waitFor();
    await print.page.emulateMedia({ media: 'print' });
    // On paper: no buttons, no console frame around the report.
    await expect(print.page.locator('[data-test="print"]').isVisible()).resolves.toBe(false);
    await expect(print.page.locator('.el-aside').count()).resolves.toBe(0);
    await print.shot('console-report-print');
    const pdf = await print.page.pdf({ format: 'A4' });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('finds a person, exports their data as a file, deletes it with a note, and shows both in the log', async () => {
    const token = await staffToken('钱科员');
    const { store } = suite.server().app;
    const chat = await store.identities.upsertChat({ channel: 'wechat', channelChatId: 'wxid_sun', kind: 'private' });
    const user = await store.identities.upsertUser({ channel: 'wechat', channelUserId: 'wxid_sun', displayName: '孙女士' });
    await store.messages.record({ channel: 'wechat', chatId: chat, userId: user, direction: 'in', channelMessageId: 's1', text: '个税汇算怎么退税', decision: null });

    const { page, shot } = await suite.open('/console/people');
    await signIn(page, token);
    await page.waitForURL('**/console/people');
    await page.locator('input[data-test="people-search"]').fill('孙');
    await page.locator('[data-test="people-search-button"]').click();
    const results = page.locator('[data-test="people-results"] .el-table__body tr');
    await expect(results.allInnerTexts()).resolves.toEqual([expect.stringContaining('wxid_sun')]);

    await page.locator('[data-test="export-person"]').click();
    await page.locator('input[data-test="request-note"]').fill('依申请 2026-11');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test="confirm-request"]').click()]);
    expect(download.suggestedFilename()).toBe('个人信息-wechat-wxid_sun.json');
    const data = JSON.parse(readFileSync(await download.path(), 'utf8')) as { messages: { text: string }[] };
    expect(data.messages.map((m) => m.text)).toEqual(['个税汇算怎么退税']);

    await page.locator('[data-test="delete-person"]').click();
    // A deletion needs its reference first.
    await expect(page.locator('[data-test="confirm-request"]').isDisabled()).resolves.toBe(true);
    await page.locator('input[data-test="request-note"]').fill('本人来电，工单 CF-20261129-0001');
    await shot('console-people-delete');
    await page.locator('[data-test="confirm-request"]').click();
    await page.getByText('已删除：消息 1，聊天 1，用户 1').waitFor();
    const log = page.locator('[data-test="people-log"] .el-table__body tr');
    await expect(log.count()).resolves.toBe(2);
    await expect(log.first().innerText()).resolves.toContain('本人来电，工单 CF-20261129-0001');
    await expect(log.first().innerText()).resolves.toContain('钱科员');
    await shot('console-people');
  });
});
