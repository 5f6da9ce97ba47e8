import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_QUESTION_LENGTH } from '../../src/routes/ask.js';
import { build } from '../helpers/build.js';
import { join } from 'node:path';
import { realKnowledgeIndex, removeDir, tempDir } from '../helpers/knowledge.js';
import { BOTH_DATABASES, TEST_PG_URL, freshPostgresSchema } from '../helpers/databases.js';

/** The keys of one `chunfeng ask --json` line (docs/contracts.md). */
const CONTRACT_KEYS = ['q', 'answered', 'id', 'title', 'score', 'answer', 'suggestions'];

let app: FastifyInstance;
beforeAll(async () => {
  app = await build();
});
afterAll(() => app.close());

function ask(payload: unknown, headers: Record<string, string> = {}, remoteAddress = '10.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/ask', payload: payload as string, headers, remoteAddress });
}

describe('POST /api/ask', () => {
  it('answers with the contract object, the same as the index gives', async () => {
    const q = '发票弄丢了怎么处理';
    const res = await ask({ q });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json() as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(expect.arrayContaining(CONTRACT_KEYS));
    expect(body).toMatchObject({ q, answered: true, id: 'invoice-lost', suggestions: [] });
    expect(typeof body.title).toBe('string');
    expect(typeof body.answer).toBe('string');
    expect(typeof body.score).toBe('number');
    expect(body).toEqual(JSON.parse(JSON.stringify(realKnowledgeIndex().ask(q))));
  });

  it('says answered false with null id for small talk and out-of-scope questions', async () => {
    for (const q of ['你好', '今天天气怎么样']) {
      const body = (await ask({ q })).json() as Record<string, unknown>;
      expect(body, q).toMatchObject({ q, answered: false, id: null, title: null, answer: null });
    }
  });

  it('lists suggestions with id, title and score for a vague question', async () => {
    const body = (await ask({ q: '留抵退税' })).json() as { answered: boolean; suggestions: unknown[] };
    expect(body.answered).toBe(false);
    expect(body.suggestions.length).toBeGreaterThan(0);
    expect(body.suggestions.length).toBeLessThanOrEqual(3);
    for (const s of body.suggestions) expect(s).toEqual({ id: expect.any(String), title: expect.any(String), score: expect.any(Number) });
  });

  it('stores each question with its decision and the reply as read, in the website\'s chat', async () => {
    const fresh = await build();
    try {
      const q = '个人怎么去税务局代开发票';
      const body = (await fresh.inject({ method: 'POST', url: '/api/ask', payload: { q }, remoteAddress: '198.51.100.7' })).json() as { id: string; title: string };
      await fresh.inject({ method: 'POST', url: '/api/ask', payload: { q: '今天天气怎么样' } });
      const chatId = await fresh.store.identities.upsertChat({ channel: 'web', channelChatId: 'widget', kind: 'private' });
      const stored = await fresh.store.messages.recent(chatId, 10);
      expect(stored.map((m) => [m.channel, m.direction])).toEqual([['web', 'in'], ['web', 'out'], ['web', 'in'], ['web', 'out']]);
      expect(stored[0]).toMatchObject({ text: q, userId: null, decision: { answered: true, entryId: body.id, reason: 'answered' } });
      expect(stored[1]!.text).toContain(`【${body.title}】`);
      expect(stored[2]!.decision).toMatchObject({ answered: false, entryId: null, reason: 'no_match' });
      expect(stored[3]!.text).toContain('12366');
      // The asker's address is kept nowhere in the conversation.
      expect(JSON.stringify(stored)).not.toContain('198.51.100.7');
    } finally {
      await fresh.close();
    }
  });

  it('answers a picked suggestion with its entry, and falls back to the question when the entry is gone', async () => {
    const vague = (await ask({ q: '留抵退税' })).json() as { answered: boolean; suggestions: { id: string; title: string }[] };
    expect(vague.answered).toBe(false);
    const [first] = vague.suggestions;
    const picked = (await ask({ q: first!.title, entry: first!.id })).json();
    expect(picked).toMatchObject({ q: first!.title, answered: true, id: first!.id, title: first!.title });
    // The entry decides, not the words: the vague question with an entry picked is that entry's answer.
    expect((await ask({ q: '留抵退税', entry: first!.id })).json()).toMatchObject({ answered: true, id: first!.id });
    expect((await ask({ q: '发票弄丢了怎么处理', entry: 'no-such-entry' })).json()).toMatchObject({ answered: true, id: 'invoice-lost' });
  });

  it('answers 转人工 and complaints with where a person is reached (the page cannot hand over), and questions about complaining as usual', async () => {
    for (const q of ['转人工', '我要投诉', '找工作人员']) {
      const body = (await ask({ q })).json() as { id: string; answer: string };
      expect(body.id, q).toBe('complaint-channels');
      expect(body.answer).toContain('网页试用页不能转接');
      expect(body.answer).toContain('12366');
    }
    expect((await ask({ q: '发票丢了怎么办' })).json()).toMatchObject({ id: 'invoice-lost' });
  });

  it(`accepts a question of exactly ${MAX_QUESTION_LENGTH} characters`, async () => {
    expect((await ask({ q: '发'.repeat(MAX_QUESTION_LENGTH) })).statusCode).toBe(200);
  });
});

describe('POST /api/ask: bad requests get 400 CHUNFENG_BAD_REQUEST', () => {
  it.each([
    ['an empty q', { q: '' }, {}],
    ['a missing q', { question: '发票丢了' }, {}],
    ['no body at all', undefined, { 'content-type': 'application/json' }],
    ['a body that is not JSON', '{"q": 发票丢了', { 'content-type': 'application/json' }],
    ['a JSON array', '["发票丢了"]', { 'content-type': 'application/json' }],
    ['a plain-text body', '发票丢了', { 'content-type': 'text/plain' }],
    [`a q over ${MAX_QUESTION_LENGTH} characters`, { q: '发'.repeat(MAX_QUESTION_LENGTH + 1) }, {}],
    ['a session too short to be random', { q: '发票丢了', session: 'abc' }, {}],
    ['a session with other characters', { q: '发票丢了', session: '0123456789abcdef/../x' }, {}],
    ['an empty entry', { q: '发票丢了', entry: '' }, {}],
  ])('%s', async (_what, payload, headers) => {
    const res = await ask(payload, headers);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'CHUNFENG_BAD_REQUEST', message: expect.any(String) } });
  });

  it('says in Chinese what is wrong', async () => {
    const message = async (payload: unknown, headers: Record<string, string> = {}): Promise<string> => (await ask(payload, headers)).json().error.message;
    expect(await message({ q: '' })).toBe('请求格式不正确：q 不能为空');
    expect(await message({ question: '发票丢了' })).toContain('缺少字段 q');
    expect(await message({ q: '发'.repeat(MAX_QUESTION_LENGTH + 1) })).toBe(`请求格式不正确：q 太长，最多 ${MAX_QUESTION_LENGTH} 个字`);
    expect(await message('{"q": 发票丢了', { 'content-type': 'application/json' })).toContain('请求体应为 JSON');
    expect(await message({ q: '发票丢了', session: 'abc' })).toBe('请求格式不正确：session 格式不正确');
  });

  it('a body over the size limit gets 413 CHUNFENG_TOO_LARGE', async () => {
    const res = await ask({ q: '发'.repeat(300_000) });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({ error: { code: 'CHUNFENG_TOO_LARGE', message: expect.any(String) } });
  });
});

describe('POST /api/ask: rate limit per client', () => {
  let limited: FastifyInstance;
  beforeAll(async () => {
    limited = await build({ env: { ASK_RATE_LIMIT: '3' } });
  });
  afterAll(() => limited.close());

  const from = (remoteAddress: string) => limited.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了' }, remoteAddress });

  it('answers 429 CHUNFENG_RATE_LIMITED after ASK_RATE_LIMIT questions, to that client only', async () => {
    for (let i = 0; i < 3; i++) expect((await from('192.0.2.1')).statusCode).toBe(200);
    const refused = await from('192.0.2.1');
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toEqual({ error: { code: 'CHUNFENG_RATE_LIMITED', message: expect.any(String) } });
    expect(refused.headers['retry-after']).toBeDefined();

    expect((await from('192.0.2.2')).statusCode).toBe(200);
  });

  it('counts a client\'s questions together on every instance that shares the database', async () => {
    const dir = tempDir('chunfeng-shared-');
    const env = { ASK_RATE_LIMIT: '3', DATABASE_URL: `sqlite:${join(dir, 'shared.db')}` };
    const [a, b] = [await build({ env }), await build({ env })];
    try {
      const fromBoth = (app: FastifyInstance) => app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了' }, remoteAddress: '192.0.2.9' });
      expect((await fromBoth(a)).statusCode).toBe(200);
      expect((await fromBoth(b)).statusCode).toBe(200);
      expect((await fromBoth(a)).statusCode).toBe(200);
      const refused = await fromBoth(b);
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(60);
    } finally {
      await Promise.all([a.close(), b.close()]);
      removeDir(dir);
    }
  });

  it('does not count health checks', async () => {
    for (let i = 0; i < 5; i++) expect((await limited.inject({ method: 'GET', url: '/healthz', remoteAddress: '192.0.2.3' })).statusCode).toBe(200);
    expect((await from('192.0.2.3')).statusCode).toBe(200);
  });
});

describe('other routes', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/api/ask'],
    ['POST', '/api/nope'],
  ] as const)('%s %s: 404 CHUNFENG_NOT_FOUND', async (method, url) => {
    const res = await app.inject({ method, url });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'CHUNFENG_NOT_FOUND', message: expect.any(String) } });
  });

  it('/docs serves the API documentation, and /docs/json is OpenAPI with POST /api/ask', async () => {
    const page = await app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBeLessThan(400);
    const res = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const spec = res.json() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(spec.openapi).toMatch(/^3\./);
    expect(spec.paths['/api/ask']?.post).toBeDefined();
    expect(JSON.stringify(spec.paths['/api/ask']?.post?.requestBody)).toContain('"q"');
    expect(spec.paths['/healthz']?.get).toBeDefined();
    expect(spec.paths['/readyz']?.get).toBeDefined();
    // The agents' routes, with the Ticket shape.
    for (const path of ['/api/tickets/{id}/claim', '/api/tickets/{id}/reply', '/api/tickets/{id}/transfer', '/api/tickets/{id}/resolve', '/api/tickets/{id}/reopen']) {
      expect(spec.paths[path]?.post, path).toBeDefined();
    }
    expect(spec.paths['/api/tickets']?.get).toBeDefined();
    expect(spec.paths['/api/tickets']?.post).toBeDefined();
    expect(spec.paths['/api/tickets/{id}']?.get).toBeDefined();
    expect(spec.paths['/api/events']?.get).toBeDefined();
    expect(JSON.stringify(spec)).toContain('CF-20261129-0007');
  });
});

describe('POST /api/ask behind a proxy (TRUST_PROXY)', () => {
  const PROXY = '10.0.0.5';
  const CLIENT = '203.0.113.9';
  /** A request through a proxy that appends the address it saw to whatever X-Forwarded-For the client sent. */
  const viaProxy = (app: FastifyInstance, spoofed: string) =>
    app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了' }, remoteAddress: PROXY, headers: { 'x-forwarded-for': `${spoofed}, ${CLIENT}` } });

  it.each([
    ['a hop count', '1'],
    ['true (one hop)', 'true'],
    ["the proxy's address", PROXY],
    ["the proxy's network", '10.0.0.0/8'],
  ])('with %s, a client cannot choose its own rate-limit key', async (_what, trust) => {
    const app = await build({ env: { ASK_RATE_LIMIT: '2', TRUST_PROXY: trust } });
    try {
      expect((await viaProxy(app, '198.51.100.1')).statusCode).toBe(200);
      expect((await viaProxy(app, '198.51.100.2')).statusCode).toBe(200);
      expect((await viaProxy(app, '198.51.100.3')).statusCode).toBe(429);
      // Another client behind the same proxy is counted apart.
      const other = await app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了' }, remoteAddress: PROXY, headers: { 'x-forwarded-for': '203.0.113.10' } });
      expect(other.statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('without TRUST_PROXY, X-Forwarded-For is ignored: the proxy is the client', async () => {
    const app = await build({ env: { ASK_RATE_LIMIT: '2' } });
    try {
      const from = (xff: string) => app.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票丢了' }, remoteAddress: '198.51.100.50', headers: { 'x-forwarded-for': xff } });
      expect((await from('1.1.1.1')).statusCode).toBe(200);
      expect((await from('2.2.2.2')).statusCode).toBe(200);
      expect((await from('3.3.3.3')).statusCode).toBe(429);
    } finally {
      await app.close();
    }
  });
});

describe.each(BOTH_DATABASES)('POST /api/ask with a session on $label', ({ pg }) => {
  it.skipIf(pg && !TEST_PG_URL)('stores each browser\'s questions in a chat of its own, with the browser as the asker', async () => {
    const schema = pg && TEST_PG_URL ? await freshPostgresSchema(TEST_PG_URL) : null;
    const fresh = await build(schema ? { env: { DATABASE_URL: schema.url } } : {});
    try {
      const [one, two] = ['a1B2c3D4e5F6g7H8i9J0k1L2', 'Zz_-0000111122223333'];
      const post = (payload: object) => fresh.inject({ method: 'POST', url: '/api/ask', payload });
      expect((await post({ q: '发票丢了怎么办', session: one })).statusCode).toBe(200);
      expect((await post({ q: '公积金怎么提取', session: two })).statusCode).toBe(200);
      expect((await post({ q: '个体户怎么注销', session: one })).statusCode).toBe(200);
      expect((await post({ q: '你好' })).statusCode).toBe(200);

      const conversation = async (session: string) => {
        const chatId = await fresh.store.identities.upsertChat({ channel: 'web', channelChatId: session, kind: 'private' });
        const userId = await fresh.store.identities.upsertUser({ channel: 'web', channelUserId: session });
        return { userId, messages: await fresh.store.messages.recent(chatId, 10) };
      };
      const first = await conversation(one);
      expect(first.messages.map((m) => [m.direction, m.direction === 'in' ? m.text : '']))
        .toEqual([['in', '发票丢了怎么办'], ['out', ''], ['in', '个体户怎么注销'], ['out', '']]);
      expect(first.messages.filter((m) => m.direction === 'in').every((m) => m.userId === first.userId)).toBe(true);
      expect((await conversation(two)).messages.map((m) => m.text)).toContain('公积金怎么提取');
      // Without a session, the shared chat as before.
      const shared = await fresh.store.identities.upsertChat({ channel: 'web', channelChatId: 'widget', kind: 'private' });
      expect((await fresh.store.messages.recent(shared, 10)).map((m) => [m.text, m.userId])[0]).toEqual(['你好', null]);
    } finally {
      await fresh.close();
      await schema?.cleanup();
    }
  });
});

describe.each(BOTH_DATABASES)('POST /api/ask with U+0000 in the question on $label', ({ pg }) => {
  it.skipIf(pg && !TEST_PG_URL)('answers the question without it and stores it without it', async () => {
    const schema = pg && TEST_PG_URL ? await freshPostgresSchema(TEST_PG_URL) : null;
    const fresh = await build(schema ? { env: { DATABASE_URL: schema.url } } : {});
    try {
      const res = await fresh.inject({ method: 'POST', url: '/api/ask', payload: { q: '发票\u0000丢了怎么办' } });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ q: '发票丢了怎么办', answered: true });
      const chatId = await fresh.store.identities.upsertChat({ channel: 'web', channelChatId: 'widget', kind: 'private' });
      const stored = await fresh.store.messages.recent(chatId, 10);
      expect(stored.find((m) => m.direction === 'in')?.text).toBe('发票丢了怎么办');
    } finally {
      await fresh.close();
      await schema?.cleanup();
    }
  });
});
