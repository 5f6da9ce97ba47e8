import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, callApi, type WatchedPage } from './browser.js';

const ADMIN = 'browser-test-admin-token';
const XSS = '<img src=x onerror=alert(1)>';

describe.skipIf(!HAS_CHROMIUM)(`the console in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ADMIN_TOKEN: ADMIN });

  /** The API as a script would call it. */
  const api = (method: 'GET' | 'POST', path: string, token: string, body?: unknown) => callApi(suite.server(), method, path, token, body);

  async function createAccount(name: string, role: string): Promise<{ id: string; token: string }> {
    const { status, json } = await api('POST', '/api/accounts', ADMIN, { name, role });
    expect(status).toBe(201);
    return json as { id: string; token: string };
  }

  const open = (path = '/console/'): Promise<WatchedPage> => suite.open(path);

  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('访问令牌').fill(token);
    await page.getByRole('button', { name: '登录' }).click();
  }

  /** The accounts table's row for a name. */
  const row = (page: Page, name: string) => page.locator('[data-test="accounts"] .el-table__body tr', { hasText: name });

  it('refuses a wrong token with a Chinese message, and signs the admin in', async () => {
    const { page, shot } = await open();
    await page.waitForURL('**/console/login');
    await expect(page.title()).resolves.toBe('登录 · 春风控制台');
    await signIn(page, 'not-the-right-token');
    await expect(page.locator('[data-test="sign-in-error"]').innerText()).resolves.toContain('令牌不正确，或账号已停用');
    await shot('console-sign-in-error');

    await signIn(page, ADMIN);
    await page.getByRole('heading', { name: '您好，管理员' }).waitFor();
    await expect(page.locator('[data-test="me-name"]').innerText()).resolves.toBe('管理员');
    await expect(page.locator('.el-descriptions').innerText()).resolves.toMatch(/角色\s+管理员（管理账号，可使用全部功能）/);
    await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['首页', '工单', '纳税人', '通知', '热搜榜', '待解答', '服务报告', '个人信息', '账号管理']);
    await shot('console-home');
  });

  it('lets an admin create an agent account and shows its token once', async () => {
    const { page, shot } = await open();
    await signIn(page, ADMIN);
    await page.getByRole('menuitem', { name: '账号管理' }).click();
    await page.waitForURL('**/console/accounts');
    await row(page, '管理员').waitFor();

    await page.locator('[data-test="new-account"]').click();
    await page.getByRole('dialog', { name: '新建账号' }).getByLabel('名称').fill('李工');
    await page.locator('[data-test="create-account"]').click();
    const tokenBox = page.locator('input[data-test="new-token"]');
    await tokenBox.waitFor();
    const token = await tokenBox.inputValue();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await page.getByText('令牌只显示这一次').waitFor();
    await shot('console-token-once');

    // The token signs in the new account through the API, as a script would use it.
    const me = await api('GET', '/api/me', token);
    expect(me).toMatchObject({ status: 200, json: { name: '李工', role: 'agent', disabledAt: null } });

    await page.locator('[data-test="token-saved"]').click();
    await page.getByRole('dialog', { name: '账号已创建' }).waitFor({ state: 'hidden' });
    await expect(row(page, '李工').innerText()).resolves.toMatch(/李工\s+坐席\s+在用/);
    // Once closed, the token is nowhere on the page.
    await expect(page.content()).resolves.not.toContain(token);
    await shot('console-accounts');
  });

  it('shows an account name with markup as text and runs nothing', async () => {
    await createAccount(XSS, 'agent');
    const { page, shot } = await open('/console/accounts');
    await signIn(page, ADMIN);
    await page.waitForURL('**/console/accounts');
    const cell = row(page, XSS).locator('.name');
    await expect(cell.innerText()).resolves.toBe(XSS);
    await expect(page.locator('img[src="x"]').count()).resolves.toBe(0);
    await shot('console-markup-as-text');
  });

  it('asks before disabling an account; its token is refused at once, and works again once enabled', async () => {
    const agent = await createAccount('赵工', 'agent');
    const { page, shot } = await open('/console/accounts');
    await signIn(page, ADMIN);
    await row(page, '赵工').getByRole('button', { name: '停用' }).click();
    const confirm = page.locator('.el-message-box');
    await confirm.getByText('确定停用这个账号吗？').waitFor();
    await expect(confirm.innerText()).resolves.toContain('停用后，“赵工”的令牌立即失效');
    await shot('console-disable-confirm');
    await confirm.getByRole('button', { name: '停用' }).click();
    await row(page, '赵工').getByText('已停用', { exact: true }).first().waitFor();
    expect((await api('GET', '/api/me', agent.token)).status).toBe(401);

    await row(page, '赵工').getByRole('button', { name: '重新启用' }).click();
    await row(page, '赵工').getByText('在用', { exact: true }).first().waitFor();
    expect((await api('GET', '/api/me', agent.token)).status).toBe(200);
    // The admin's own row cannot be disabled.
    await expect(row(page, '管理员').getByRole('button', { name: '停用' }).isDisabled()).resolves.toBe(true);
  });

  it('filters the accounts by role', async () => {
    await createAccount('张科长', 'staff');
    await createAccount('钱工', 'agent');
    const { page, shot } = await open('/console/accounts');
    await signIn(page, ADMIN);
    await row(page, '张科长').waitFor();
    await page.locator('th', { hasText: '角色' }).locator('.el-table__column-filter-trigger').click();
    const filter = page.locator('.el-table-filter').filter({ visible: true });
    await filter.getByText('业务人员').click();
    await filter.getByRole('button', { name: '筛选' }).click();
    await filter.waitFor({ state: 'hidden' });
    await expect(row(page, '钱工').count()).resolves.toBe(0);
    const roles = await page.locator('[data-test="accounts"] .el-table__body tr td:nth-child(2)').allInnerTexts();
    expect(roles.length).toBeGreaterThan(0);
    expect(new Set(roles.map((r) => r.trim()))).toEqual(new Set(['业务人员']));
    await shot('console-filter-by-role');
  });

  it('lands an agent on the ticket queue, shows no 账号管理, and sends a disabled account back to sign-in with a Chinese message', async () => {
    const agent = await createAccount('孙工', 'agent');
    const { page, shot } = await open();
    await signIn(page, agent.token);
    await page.waitForURL('**/console/tickets');
    await expect(page.getByRole('menuitem').allInnerTexts()).resolves.toEqual(['首页', '工单']);
    await page.goto(`${suite.server().url}/console/accounts`);
    await page.getByRole('heading', { name: '您好，孙工' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/console/');

    expect((await api('POST', `/api/accounts/${agent.id}/disable`, ADMIN)).status).toBe(200);
    await page.reload();
    await page.waitForURL('**/console/login?reason=expired');
    await page.getByText('登录已失效：令牌已更换或账号已停用，请重新输入令牌。').waitFor();
    await expect(page.evaluate('sessionStorage.getItem("chunfeng.token")')).resolves.toBeNull();
    await shot('console-expired');
  });

  it('signs out and forgets the token', async () => {
    const { page } = await open();
    await signIn(page, ADMIN);
    await page.getByRole('heading', { name: '您好，管理员' }).waitFor();
    await expect(page.evaluate('sessionStorage.getItem("chunfeng.token")')).resolves.toBe(ADMIN);
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.waitForURL('**/console/login');
    await expect(page.evaluate('sessionStorage.getItem("chunfeng.token")')).resolves.toBeNull();
    await page.goto(`${suite.server().url}/console/`);
    await page.waitForURL('**/console/login');
  });
});
