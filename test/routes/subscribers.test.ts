import type { FastifyInstance } from 'fastify';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../helpers/build.js';
import { residentId, uscc } from '../helpers/taxpayers.js';

const ADMIN = 'test-admin-token';
let app: FastifyInstance;
let staff: string;
let agent: string;
const logLines: string[] = [];

/** A request with a bearer token, from its own address so the wrong-token throttle stays out of the way. */
function call(method: 'GET' | 'POST', url: string, token: string | null, payload?: unknown, headers: Record<string, string> = {}) {
  return app.inject({ method, url, payload: payload as string, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, remoteAddress: '198.51.100.30' });
}
const csv = (text: string, encoding: 'gbk' | 'utf8' = 'gbk') => (token: string) =>
  call('POST', '/api/subscribers/import', token, encoding === 'gbk' ? iconv.encode(text, 'gbk') : Buffer.from(text, 'utf8'), { 'content-type': 'text/csv' });

beforeAll(async () => {
  app = await build({ log: { write: (line) => void logLines.push(line) } });
  const make = async (name: string, role: string) => (await call('POST', '/api/accounts', ADMIN, { name, role })).json().token as string;
  staff = await make('张科长', 'staff');
  agent = await make('李工', 'agent');
});
afterAll(() => app.close());

const HEADER = '纳税人识别号,纳税人名称,纳税人类型,所属行业,纳税信用等级,主管分局,所属区域,标签,联系电话';

describe('subscribers over HTTP', () => {
  it('imports a GBK CSV from staff: good rows upserted, the bad row reported by row, column and message, unknown columns named', async () => {
    const file = [
      HEADER,
      `${uscc(1)},济南甲制造有限公司,一般纳税人,C 制造业,A,第一分局,历下区,出口企业、重点户,0531-1`,
      `${uscc(2)},济南乙商贸有限公司,小规模,批发零售业,B级,第二分局,市中区,,`,
      `${uscc(3)},济南丙建筑有限公司,一般纳税人,建筑业,E,第一分局,,,`,
      `${residentId(4)},张三,自然人,,,第一分局,,,`,
    ].join('\r\n');
    const res = await csv(file)(staff);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      encoding: 'GBK', rows: 4, upserted: 3, created: 3, updated: 0,
      errors: [{ row: 4, field: 'credit', column: '纳税信用等级', message: '应为 A、B、M、C、D 之一（可以不填），现为“E”' }],
      unknownColumns: ['联系电话'],
    });
    // Importing again updates instead of duplicating.
    expect((await csv(file)(staff)).json()).toMatchObject({ upserted: 3, created: 0, updated: 3 });
    // No taxpayer id in the log lines.
    expect(logLines.join('\n')).toContain('已导入纳税人档案（CSV）');
    expect(logLines.join('\n')).not.toContain(uscc(1));
  });

  it('refuses a file that cannot be imported with a Chinese message, and a body that is not CSV', async () => {
    const res = await csv('名称,类型\n甲,一般纳税人', 'utf8')(staff);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toEqual({ code: 'CHUNFENG_BAD_REQUEST', message: '缺少必需的列：纳税人识别号。第一行应为列名，现为：名称、类型' });
    expect((await call('POST', '/api/subscribers/import', staff, { a: 1 })).statusCode).toBe(400);
    expect((await call('POST', '/api/subscribers/import', staff, '', { 'content-type': 'text/csv' })).json().error.message).toBe('文件是空的');
  });

  it('upserts contract Profiles from JSON, answering {upserted, errors: [{index, message}]}', async () => {
    const res = await call('POST', '/api/subscribers', staff, [
      { taxpayerId: uscc(10), name: '济南丁科技有限公司', taxpayerType: '一般纳税人', industry: 'I', credit: 'A', office: '第二分局', region: '高新区', tags: ['高新技术企业'], chats: [{ channel: 'telegram', chatId: '-100501' }] },
      { taxpayerId: uscc(11), name: '坏', taxpayerType: '一般纳税人', credit: 'X' },
      { taxpayerId: uscc(12), name: '抢聊天', taxpayerType: '一般纳税人', chats: [{ channel: 'telegram', chatId: '-100501' }] },
    ]);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({
      upserted: 1, created: 1, updated: 0,
      errors: [
        { index: 1, field: 'credit', message: '信用等级：应为 A、B、M、C、D 之一（可以不填），现为“X”' },
        { index: 2, field: 'chats', message: '聊天：telegram:-100501 已绑定纳税人“济南丁科技有限公司”，一个聊天只能绑定一个纳税人' },
      ],
    });
    expect((await call('POST', '/api/subscribers', staff, { taxpayerId: uscc(10) })).statusCode).toBe(400);
  });

  it('lists profiles with filters and pages, industry by letter or name', async () => {
    const list = await call('GET', '/api/subscribers?office=%E7%AC%AC%E4%B8%80%E5%88%86%E5%B1%80&pageSize=1', staff);
    expect(list.statusCode).toBe(200);
    const body = list.json();
    expect(body).toMatchObject({ total: 2, page: 1, pageSize: 1 });
    expect(body.subscribers).toHaveLength(1);
    const byName = await call('GET', `/api/subscribers?industry=${encodeURIComponent('制造业')}`, staff);
    expect(byName.json().subscribers).toEqual([expect.objectContaining({ taxpayerId: uscc(1), name: '济南甲制造有限公司', industry: 'C', industryName: 'C 制造业', credit: 'A', tags: ['出口企业', '重点户'], chats: [] })]);
    const linked = await call('GET', '/api/subscribers?linked=true', staff);
    expect(linked.json().subscribers.map((s: { chats: unknown[] }) => s.chats)).toEqual([[{ channel: 'telegram', chatId: '-100501', via: 'staff', linkedAt: expect.any(String) }]]);
    expect((await call('GET', '/api/subscribers?industry=%E4%BA%92%E8%81%94%E7%BD%91', staff)).statusCode).toBe(400);
  });

  it('offers the choices for filters and audiences, and the CSV template', async () => {
    const options = (await call('GET', '/api/subscribers/options', staff)).json();
    expect(options.taxpayerTypes).toEqual(['一般纳税人', '小规模纳税人', '个体工商户', '自然人']);
    expect(options.industries[2]).toEqual({ code: 'C', name: '制造业', label: 'C 制造业' });
    expect(options.offices).toEqual([{ value: '第一分局', count: 2 }, { value: '第二分局', count: 2 }]);
    expect(options.tags).toContainEqual({ value: '重点户', count: 1 });
    expect(options.topics).toContain('留抵退税');
    expect(options.columns[0]).toEqual({ field: 'taxpayerId', label: '纳税人识别号', required: true, synonyms: expect.arrayContaining(['统一社会信用代码', '税号']) });

    const template = await call('GET', '/api/subscribers/template.csv', staff);
    expect(template.statusCode).toBe(200);
    expect(template.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(template.headers['content-disposition']).toContain("filename*=UTF-8''%E7%BA%B3%E7%A8%8E%E4%BA%BA");
    expect(template.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(template.body).toBe('\uFEFF纳税人识别号,名称,纳税人类型,行业,信用等级,主管分局,地区,标签\r\n');
  });

  it('issues a 6-digit binding code that the store redeems once', async () => {
    const res = await call('POST', `/api/subscribers/${uscc(1).toLowerCase()}/binding-code`, staff);
    expect(res.statusCode, res.body).toBe(201);
    const issued = res.json();
    expect(issued).toEqual({ taxpayerId: uscc(1), name: '济南甲制造有限公司', code: expect.stringMatching(/^\d{6}$/), expiresAt: expect.any(String) });
    const days = (Date.parse(issued.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);
    expect(logLines.join('\n')).not.toContain(issued.code);
    expect(await app.store.bindings.redeem(issued.code, { channel: 'wechat', chatId: 'wxid_zhang' })).toMatchObject({ ok: true, taxpayerId: uscc(1) });
    expect((await call('POST', `/api/subscribers/${uscc(99)}/binding-code`, staff)).json().error).toEqual({ code: 'CHUNFENG_NOT_FOUND', message: '没有这个纳税人的档案，请先导入' });
  });

  it('keeps agents and strangers out of every subscriber route', async () => {
    const routes: [('GET' | 'POST'), string, unknown?][] = [
      ['GET', '/api/subscribers'], ['POST', '/api/subscribers', []], ['GET', '/api/subscribers/options'], ['GET', '/api/subscribers/template.csv'],
      ['POST', `/api/subscribers/${uscc(1)}/binding-code`],
    ];
    for (const [method, url, body] of routes) {
      expect((await call(method, url, agent, body)).statusCode, `${method} ${url}`).toBe(403);
      expect((await call(method, url, null, body)).statusCode, `${method} ${url}`).toBe(401);
    }
    expect((await csv(HEADER)(agent)).statusCode).toBe(403);
  });
});
