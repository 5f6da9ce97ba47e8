import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { removeDir, tempDir } from '../helpers/knowledge.js';
import { residentId, uscc } from '../helpers/taxpayers.js';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, callApi } from './browser.js';

const ADMIN = 'browser-test-admin-token';

/** Companies and people of two offices, most linked to a chat, as the JSON API takes them. */
const PROFILES = [
  { taxpayerId: uscc(1), name: '济南历下精密制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'A', office: '第一分局', region: '历下区', tags: ['出口企业'], chats: [{ channel: 'telegram', chatId: '-1001' }] },
  { taxpayerId: uscc(2), name: '济南泉城机械制造有限公司', taxpayerType: '一般纳税人', industry: 'C', credit: 'B', office: '第一分局', region: '历下区', chats: [{ channel: 'wechat', chatId: 'quancheng@chatroom' }] },
  { taxpayerId: uscc(3), name: '济南大明湖商贸有限公司', taxpayerType: '小规模纳税人', industry: 'F', credit: 'B', office: '第二分局', region: '市中区', chats: [{ channel: 'telegram', chatId: '3003' }] },
  { taxpayerId: uscc(4), name: '济南千佛山建材批发部', taxpayerType: '小规模纳税人', industry: 'F', credit: 'M', office: '第二分局', region: '市中区', chats: [{ channel: 'telegram', chatId: '4004' }] },
  { taxpayerId: uscc(5), name: '济南趵突泉科技有限公司', taxpayerType: '一般纳税人', industry: 'I', credit: 'A', office: '第二分局', region: '高新区' },
];

/** The pages' helpers over one running app: the API as a script calls it, a staff account, signing in, picking from a select. */
function helpers(suite: ReturnType<typeof browserSuite>) {

  /** The API as a script would call it. */
  const api = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => callApi(suite.server(), method, path, token, body);

  async function staffToken(name: string): Promise<string> {
    const { status, json } = await api('POST', '/api/accounts', ADMIN, { name, role: 'staff' });
    expect(status).toBe(201);
    return json.token as string;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('访问令牌').fill(token);
    await page.getByRole('button', { name: '登录' }).click();
  }

  /** Picks options of an Element Plus select by typing and clicking, as a clerk does. */
  async function pick(page: Page, select: string, typed: string, option: string): Promise<void> {
    await page.locator(`[data-test="${select}"]`).click();
    await page.locator(`[data-test="${select}"] input`).fill(typed);
    await page.locator('.el-select-dropdown__item', { hasText: option }).filter({ visible: true }).first().click();
  }

  return { api, staffToken, signIn, pick };
}

describe.skipIf(!HAS_CHROMIUM)(`the console's taxpayer page in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ADMIN_TOKEN: ADMIN });
  const { staffToken, signIn } = helpers(suite);

  it('imports a GBK CSV from Excel: the good rows appear in the list, the bad row is reported with its row, column and problem', async () => {
    const token = await staffToken('王科员');
    const dir = tempDir('chunfeng-web-csv-');
    try {
      const file = join(dir, '历下区纳税人.csv');
      writeFileSync(file, iconv.encode([
        '纳税人识别号,纳税人名称,纳税人类型,所属行业,纳税信用等级,主管分局,所属区域,标签,联系电话',
        `${uscc(11)},济南经十路餐饮管理有限公司,一般纳税人,住宿和餐饮业,A,第一分局,历下区,重点户,0531-8888`,
        `${uscc(12)},济南芙蓉街文化传媒有限公司,小规模,R 文化、体育和娱乐业,B级,第一分局,历下区,,`,
        `${uscc(13)},济南曲水亭物流有限公司,一般纳税人,交通运输,E,第二分局,历下区,,`,
        `${residentId(14)},李四,自然人,,,第二分局,,,`,
      ].join('\r\n'), 'gbk'));

      const { page, shot } = await suite.open('/console/subscribers');
      await signIn(page, token);
      await page.waitForURL('**/console/subscribers');
      await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['首页', '纳税人', '通知', '热搜榜', '待解答', '服务报告', '个人信息']);
      await page.locator('[data-test="open-import"]').click();
      await page.locator('[data-test="csv-input"] input[type=file]').setInputFiles(file);
      await expect(page.locator('[data-test="chosen-file"]').innerText()).resolves.toBe('历下区纳税人.csv');
      await page.locator('[data-test="start-import"]').click();

      const summary = page.locator('[data-test="import-summary"]');
      await summary.waitFor();
      await expect(summary.innerText()).resolves.toContain('读取 4 行（GBK 编码），已导入 3 户：新增 3，更新 0。1 行有问题，没有导入');
      await page.getByText('这些列不认识，已忽略：联系电话').waitFor();
      const errors = await page.locator('[data-test="import-errors"] .el-table__body tr').allInnerTexts();
      expect(errors.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual(['4 纳税信用等级 应为 A、B、M、C、D 之一（可以不填），现为“E”']);
      await shot('console-subscribers-import-report');

      await page.getByRole('dialog', { name: '导入纳税人档案' }).getByRole('button', { name: '关闭', exact: true }).click();
      const listed = page.locator('[data-test="subscribers"] .el-table__body tr');
      await listed.filter({ hasText: '济南经十路餐饮管理有限公司' }).waitFor();
      await expect(listed.filter({ hasText: '济南经十路餐饮管理有限公司' }).innerText()).resolves.toMatch(/一般纳税人\s+H 住宿和餐饮业\s+A\s+第一分局\s+历下区\s+重点户\s+未绑定/);
      await expect(listed.filter({ hasText: '济南芙蓉街文化传媒有限公司' }).innerText()).resolves.toMatch(/小规模纳税人\s+R 文化、体育和娱乐业\s+B/);
      await expect(listed.filter({ hasText: '曲水亭' }).count()).resolves.toBe(0);
      await shot('console-subscribers');

      // The office filter narrows the list to one office.
      await page.locator('[data-test="filter-office"]').click();
      await page.locator('.el-select-dropdown__item', { hasText: '第二分局' }).filter({ visible: true }).click();
      await listed.filter({ hasText: '李四' }).waitFor();
      await expect(listed.filter({ hasText: '第一分局' }).count()).resolves.toBe(0);
      await shot('console-subscribers-by-office');
    } finally {
      removeDir(dir);
    }
  });

});

describe.skipIf(!HAS_CHROMIUM)(`the console's notice pages in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ADMIN_TOKEN: ADMIN });
  const { api, staffToken, signIn, pick } = helpers(suite);

  it('composes a policy pack, previews who gets which item, and saves it as a draft', async () => {
    const token = await staffToken('赵科长');
    expect((await api('POST', '/api/subscribers', token, PROFILES)).json).toMatchObject({ upserted: 5, errors: [] });

    const { page, shot } = await suite.open('/console/notices');
    await signIn(page, token);
    await page.waitForURL('**/console/notices');
    await page.locator('[data-test="new-notice"]').click();
    await page.waitForURL('**/console/notices/new');

    await page.getByLabel('标题').fill('增值税留抵退税和小规模纳税人优惠政策提醒');
    await page.getByLabel('正文').fill('各位纳税人：近期增值税政策有调整，以下是与贵单位有关的政策，请对照办理。如有疑问，可在本群提问或拨打12366。');
    await pick(page, 'entries', '留抵退税需要', '增值税留抵退税需要满足哪些条件');
    await pick(page, 'entries', '小规模纳税人增值税', '小规模纳税人增值税有什么优惠');
    // A click beside the select closes its list, as it would for a clerk.
    await page.getByText('新建通知或政策包', { exact: true }).click();
    await page.locator('.el-select-dropdown').filter({ visible: true }).waitFor({ state: 'hidden' });
    await page.locator('[data-test="audience-type"]').getByText('一般纳税人').click();
    await page.locator('[data-test="audience-type"]').getByText('小规模纳税人').click();
    await page.locator('[data-test="add-reminder"]').click();

    // 5 companies match; 趵突泉科技 has no chat; 千佛山 (M) and the others each get their own items.
    const headline = page.locator('[data-test="preview-headline"]');
    await expect.poll(() => headline.innerText()).toBe('将发送给 4 户（4 个聊天）：第一分局 2，第二分局 2');
    await expect.poll(() => page.locator('[data-test="preview"]').innerText()).toContain('符合条件的纳税人 5 户；其中 1 户还没有绑定聊天，不会收到。');
    const items = await page.locator('[data-test="preview-items"] li').allInnerTexts();
    expect(items).toEqual(['增值税留抵退税需要满足哪些条件：2 个聊天', '小规模纳税人增值税有什么优惠：2 个聊天']);
    const sample = await page.locator('[data-test="preview-sample"] .el-table__body tr').allInnerTexts();
    expect(sample.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual([
      '913701********001W 济南历下精密制造有限公司 一般纳税人 A 第一分局 Telegram 增值税留抵退税需要满足哪些条件',
      expect.stringMatching(/^913701\*{8}003. 济南大明湖商贸有限公司 小规模纳税人 B 第二分局 Telegram 小规模纳税人增值税有什么优惠$/),
      expect.stringMatching(/^913701\*{8}002. 济南泉城机械制造有限公司 一般纳税人 B 第一分局 微信 增值税留抵退税需要满足哪些条件$/),
      expect.stringMatching(/^913701\*{8}004. 济南千佛山建材批发部 小规模纳税人 M 第二分局 Telegram 小规模纳税人增值税有什么优惠$/),
    ]);
    await shot('console-notice-compose');

    await page.locator('[data-test="save-draft"]').click();
    await page.waitForURL(/\/console\/notices\/[0-9a-f-]{36}$/);
    await expect(page.locator('[data-test="notice-title"]').innerText()).resolves.toBe('增值税留抵退税和小规模纳税人优惠政策提醒');
    await page.getByText('草稿（尚未发送）').waitFor();
    await page.getByText('第 1 轮：发送后 2 天').waitFor();
    await expect(page.locator('[data-test="notice-items"]').innerText()).resolves.toMatch(/1\. 增值税留抵退税需要满足哪些条件\s*留抵退税 · 发给：纳税人类型 一般纳税人；信用等级 A、B/);
    await expect(page.locator('[data-test="preview-headline"]').innerText()).resolves.toBe('将发送给 4 户（4 个聊天）：第一分局 2，第二分局 2');
    await shot('console-notice-detail');

    await page.getByText('← 返回通知列表').click();
    const row = page.locator('[data-test="notices"] .el-table__body tr', { hasText: '增值税留抵退税和小规模纳税人优惠政策提醒' });
    await expect(row.innerText()).resolves.toMatch(/政策包 2 条\s+草稿\s+4 个聊天\s+留抵退税、优惠\s+赵科长/);
    await page.locator('.el-loading-mask').waitFor({ state: 'detached' });
    await shot('console-notices');
  });
});

describe.skipIf(!HAS_CHROMIUM)(`sending a notice from the console in chromium${CHROMIUM_NOTE}`, () => {
  // The app sends through a fake Bot API, started before the app (hooks run in this order).
  const env: Record<string, string> = { ADMIN_TOKEN: ADMIN };
  let telegram: FakeTelegramApi;
  beforeAll(async () => {
    telegram = await FakeTelegramApi.start();
    Object.assign(env, { TELEGRAM_BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, TELEGRAM_WEBHOOK_SECRET: 'browser-test-secret' });
  });
  afterAll(() => telegram.close());
  const suite = browserSuite(env);
  const { api, staffToken, signIn } = helpers(suite);

  it('sends a draft after a confirmation, shows the progress, then the read rate by office as a chart, and downloads the CSV', async () => {
    const token = await staffToken('钱科长');
    const linked = PROFILES.map((p, i) => ({ ...p, chats: [{ channel: 'telegram', chatId: String(61_000 + i) }] }));
    expect((await api('POST', '/api/subscribers', token, linked)).json).toMatchObject({ upserted: 5, errors: [] });
    const { json } = await api('POST', '/api/notices', token, { title: '个人所得税汇算清缴提醒', text: '请在规定期限内完成汇算。', audience: {} });
    const id = json.id as string;

    const { page, shot } = await suite.open(`/console/notices/${id}`);
    await signIn(page, token);
    await page.waitForURL(`**/console/notices/${id}`);
    await page.locator('[data-test="send-notice"]').click();
    const confirm = page.getByRole('dialog', { name: '确定发送“个人所得税汇算清缴提醒”吗？' });
    await expect(confirm.innerText()).resolves.toContain('将按现在的纳税人档案发给 5 个聊天（5 户）');
    await confirm.getByRole('button', { name: '发送' }).click();

    await expect.poll(() => page.locator('[data-test="progress-text"]').innerText(), { timeout: 15_000 }).toBe('已发送 5 / 5，失败 0，无法送达 0');
    await expect(page.locator('[data-test="notice-state"]').innerText()).resolves.toBe('已开始发送（通知 1）');
    expect(telegram.delivered.map((m) => m.chat.id).sort()).toEqual([61_000, 61_001, 61_002, 61_003, 61_004]);
    await shot('console-notice-sent');

    // Three taxpayers confirm reading: two of 第一分局's two, one of 第二分局's three.
    const { store } = suite.server().app;
    for (const chat of ['61000', '61001', '61002']) await store.delivery.markRead(id, { channel: 'telegram', chatId: chat }, 'button');
    await page.reload();
    await expect.poll(() => page.locator('[data-test="read-rate"]').innerText()).toBe('60.0%');
    const offices = await page.locator('[data-test="by-office"] .el-table__body tr').allInnerTexts();
    expect(offices.map((r) => r.replace(/\s+/g, ' ').trim())).toEqual(['第一分局 2 2 0 0 2 100.0%', '第二分局 3 3 0 0 1 33.3%']);
    const chart = page.locator('[data-test="read-rate-chart"]');
    await expect(chart.getAttribute('aria-label')).resolves.toBe('按分局的阅读率：第一分局 100.0%，第二分局 33.3%');
    await expect(chart.locator('canvas').count()).resolves.toBe(1);
    await chart.scrollIntoViewIfNeeded();
    await shot('console-notice-report');

    const download = page.waitForEvent('download');
    await page.locator('[data-test="download-report"]').click();
    const file = await (await download).path();
    const csv = readFileSync(file, 'utf8');
    expect(csv.startsWith('\uFEFF纳税人识别号,名称,主管分局')).toBe(true);
    expect(csv).toContain(`${uscc(1)},济南历下精密制造有限公司,第一分局,Telegram,61000,,已发送,`);
  });
});
