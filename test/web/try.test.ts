import { describe, expect, it } from 'vitest';
import { HANDOFF_ENTRY, MAX_QUESTION_LENGTH } from '../../src/routes/ask.js';
import { realKnowledgeIndex } from '../helpers/knowledge.js';
import { CHROMIUM_NOTE, HAS_CHROMIUM, browserSuite, startApp, type WatchedPage } from './browser.js';

const XSS = '<img src=x onerror=alert(1)>';

describe.skipIf(!HAS_CHROMIUM)(`the try-the-bot page in chromium${CHROMIUM_NOTE}`, () => {
  const suite = browserSuite({ ASK_RATE_LIMIT: '1000' });
  const open = (): Promise<WatchedPage> => suite.open('/');

  it('answers a typed question like the chat does: title, answer and 依据', async () => {
    const { page, shot } = await open();
    await expect(page.title()).resolves.toBe('春风税务助手 · 在线试用');
    await page.getByText('工作人员登录控制台').waitFor();

    const q = '发票弄丢了怎么处理';
    const expected = realKnowledgeIndex().ask(q);
    await page.getByLabel('您的问题').fill(q);
    await page.getByLabel('您的问题').press('Enter');
    const answer = page.locator('[data-kind="answer"]').last();
    await answer.getByText(`【${expected.title}】`).waitFor();
    await expect(answer.innerText()).resolves.toContain(expected.answer?.slice(0, 20));
    await expect(answer.innerText()).resolves.toContain(`依据：${expected.sources[0]}`);
    // The question is shown as asked, and the box is empty for the next one.
    await expect(page.locator('[data-kind="question"] .bubble').last().innerText()).resolves.toBe(q);
    await expect(page.getByLabel('您的问题').inputValue()).resolves.toBe('');
    await shot('try-answer');
  });

  it('answers 转人工 by saying where a person is reached, since the page cannot hand over', async () => {
    const { page, shot } = await open();
    const handoff = realKnowledgeIndex().answerFor(HANDOFF_ENTRY, '转人工');
    // The entry says the page cannot hand over; that sentence must reach the visitor.
    const cannot = /[^。]*网页[^。]*。/.exec(handoff?.answer ?? '')?.[0];
    expect(cannot).toBeTruthy();
    for (const [i, q] of ['转人工', '我要投诉，窗口态度太差'].entries()) {
      await page.getByLabel('您的问题').fill(q);
      await page.getByLabel('您的问题').press('Enter');
      const answer = page.locator('[data-kind="answer"]').nth(i);
      await answer.getByText(`【${handoff?.title}】`).waitFor();
      await expect(answer.innerText()).resolves.toContain(cannot);
    }
    await shot('try-handoff');
  });

  it('offers suggestions for a vague question; clicking one asks that entry', async () => {
    const { page, shot } = await open();
    const vague = realKnowledgeIndex().ask('留抵退税');
    expect(vague.suggestions.length).toBeGreaterThan(0);

    await page.getByRole('button', { name: '留抵退税', exact: true }).click();
    const offer = page.locator('[data-kind="answer"]').last();
    await offer.getByText('您是不是想问：').waitFor();
    const items = offer.locator('ol li button');
    await expect(items.allInnerTexts()).resolves.toEqual(vague.suggestions.map((s) => s.title));
    await shot('try-suggestions');

    const picked = vague.suggestions[0]!;
    await items.first().click();
    await page.locator('[data-kind="answer"]').nth(1).getByText(`【${picked.title}】`).waitFor();
    await expect(page.locator('[data-kind="question"] .bubble').last().innerText()).resolves.toBe(picked.title);
  });

  it('shows markup in a question as the characters typed, and runs nothing', async () => {
    const { page, shot } = await open();
    await page.getByLabel('您的问题').fill(XSS);
    await page.getByRole('button', { name: '发送' }).click();
    await page.locator('[data-kind="answer"]').last().waitFor();
    await expect(page.locator('[data-kind="question"] .bubble').last().innerText()).resolves.toBe(XSS);
    await expect(page.locator('main img').count()).resolves.toBe(0);
    await shot('try-markup-as-text');
  });

  it(`limits a question to the API's ${MAX_QUESTION_LENGTH} characters`, async () => {
    const { page } = await open();
    await expect(page.getByLabel('您的问题').getAttribute('maxlength')).resolves.toBe(String(MAX_QUESTION_LENGTH));
    await page.getByLabel('您的问题').fill('发'.repeat(MAX_QUESTION_LENGTH + 20));
    await expect(page.getByLabel('您的问题').inputValue()).resolves.toHaveLength(MAX_QUESTION_LENGTH);
    await page.getByText(`${MAX_QUESTION_LENGTH} / ${MAX_QUESTION_LENGTH}`).waitFor();
  });

  it('says so in Chinese when the network is down, and asks again on 重试', async () => {
    const { page, context, shot } = await open();
    await context.route('**/api/ask', (route) => route.abort('internetdisconnected'));
    await page.getByLabel('您的问题').fill('发票丢了怎么办');
    await page.getByLabel('您的问题').press('Enter');
    const failure = page.getByRole('alert');
    await failure.getByText('无法连接服务器，请检查网络后重试').waitFor();
    await shot('try-network-down');

    await context.unroute('**/api/ask');
    await failure.getByRole('button', { name: '重试' }).click();
    await page.locator('[data-kind="answer"]').getByText('【').waitFor();
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    // Asked once from the user's side: one question on screen.
    await expect(page.locator('[data-kind="question"]').count()).resolves.toBe(1);
  });

  it('says when too many questions were asked (429), with the wait the server gives', async () => {
    const limited = await startApp({ ASK_RATE_LIMIT: '1' });
    try {
      const w = await suite.open('/', limited);
      await w.page.getByLabel('您的问题').fill('发票丢了怎么办');
      await w.page.getByLabel('您的问题').press('Enter');
      await w.page.locator('[data-kind="answer"]').waitFor();
      await w.page.getByLabel('您的问题').fill('个体户怎么注销');
      await w.page.getByLabel('您的问题').press('Enter');
      await w.page.getByRole('alert').getByText(/^您提问太频繁了，请 \d+ 秒后再试。$/).waitFor();
      // Asking again at once would be refused the same way: no 重试 button.
      await expect(w.page.getByRole('alert').getByRole('button').count()).resolves.toBe(0);
      await w.shot('try-rate-limited');
    } finally {
      await limited.close();
    }
  });

  it('keeps one random session id per browser and sends it with every question', async () => {
    const { page } = await open();
    const sent: unknown[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/ask')) sent.push(request.postDataJSON());
    });
    for (const q of ['发票丢了怎么办', '个体户怎么注销']) {
      await page.getByLabel('您的问题').fill(q);
      await page.getByLabel('您的问题').press('Enter');
      await page.locator('[data-kind="answer"]').nth(sent.length - 1).waitFor();
    }
    const sessions = sent.map((body) => (body as { session: string }).session);
    expect(sessions[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(sessions[1]).toBe(sessions[0]);
    await page.reload();
    await expect(page.evaluate('localStorage.getItem("chunfeng.session")')).resolves.toBe(sessions[0]);
  });
});
