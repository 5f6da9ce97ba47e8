import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { FakeAdapter, buildApp, describeEachDatabase, metricValue, metricsText, removeTempDirs, type TestApp, type TestDatabase } from '../channels/helpers.js';

afterAll(() => removeTempDirs());

interface TicketJson {
  id: string; number: string; state: string; assignee: string | null; assigneeName: string | null; overdue: boolean; repeatRequester: boolean; recentTickets: number;
  userId: string; source: string; messages: { from: string; text: string }[]; events: { type: string; actor: string; actorName: string | null }[];
}

/** An open server-sent event stream, collecting its events. */
interface Stream {
  readonly events: { event: string; data: Record<string, unknown> }[];
  close(): void;
}

async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

/** Opens GET /api/events on a listening app and resolves once the stream said it is ready. */
function stream(port: number, token: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const events: Stream['events'] = [];
    const req = httpRequest({ host: '127.0.0.1', port, path: `/api/events?token=${encodeURIComponent(token)}` }, (res: IncomingMessage) => {
      if (res.statusCode !== 200) {
        reject(new Error(`status ${res.statusCode}`));
        return;
      }
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
          if (event === 'ready') resolve({ events, close: () => req.destroy() });
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.end();
  });
}

describeEachDatabase('Ticket routes', (db) => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    database = await db.create();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.app.close()));
    await database.cleanup();
  });

  async function start(adapter = new FakeAdapter('telegram')): Promise<{ t: TestApp; adapter: FakeAdapter }> {
    const t = await buildApp({ databaseUrl: database.url, adapters: [adapter] });
    apps.push(t);
    await adapter.started;
    return { t, adapter };
  }
  const account = async (t: TestApp, name: string, role: 'agent' | 'staff' | 'admin' = 'agent') => {
    const { account: a, token } = await t.store.accounts.create(name, role);
    return { id: a.id, token };
  };
  const call = async (t: TestApp, token: string | null, method: 'GET' | 'POST', url: string, payload?: object) => {
    const res = await t.app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(payload ? { payload } : {}) });
    return { status: res.statusCode, body: res.json() as TicketJson & { tickets: TicketJson[]; error: { code: string; message: string } } };
  };

  it('lets only agents and admins at tickets, with Chinese errors', async () => {
    const { t } = await start();
    const staff = await account(t, '王五', 'staff');
    const admin = (await account(t, '主任', 'admin')).token;
    expect((await call(t, null, 'GET', '/api/tickets')).status).toBe(401);
    const forbidden = await call(t, staff.token, 'GET', '/api/tickets');
    expect(forbidden).toMatchObject({ status: 403, body: { error: { code: 'CHUNFENG_FORBIDDEN' } } });
    expect((await call(t, admin, 'GET', '/api/tickets')).body).toEqual({ tickets: [] });
    expect((await call(t, admin, 'GET', '/api/tickets/CF-20261129-0001')).body.error.message).toBe('没有这张工单');
    expect((await call(t, admin, 'GET', '/api/tickets?state=done')).body.error.message).toContain('state 应为 open');
  });

  it('takes over a chat from the console, lists the queue with repeat requesters marked, and transfers', async () => {
    const { t, adapter } = await start();
    const [li, wang, staff] = [await account(t, '李工'), await account(t, '王工'), await account(t, '赵六', 'staff')];
    const takeover = { channel: 'telegram', chatId: 'u-zhang', userId: 'u-zhang' };
    expect((await call(t, li.token, 'POST', '/api/tickets', takeover)).body.error.message).toContain('还没有和机器人说过话');
    await adapter.deliver(adapter.message('发票丢了怎么办', { chatKind: 'private', userId: 'u-zhang' }));
    const taken = await call(t, li.token, 'POST', '/api/tickets', takeover);
    expect(taken.status).toBe(201);
    expect(taken.body).toMatchObject({ state: 'assigned', assignee: li.id, assigneeName: '李工', source: 'agent' });
    expect(taken.body.messages.map((m) => m.text)).toContain('发票丢了怎么办');
    expect(taken.body.events.map((e) => [e.type, e.actorName])).toEqual([['registered', '李工'], ['claimed', '李工']]);
    // Taking it over again finds the same ticket.
    expect(await call(t, wang.token, 'POST', '/api/tickets', takeover)).toMatchObject({ status: 200, body: { id: taken.body.id } });
    // While it is open the bot stays silent to the user.
    await adapter.waitForSends(1);
    await adapter.deliver(adapter.message('你好，在吗', { chatKind: 'private', userId: 'u-zhang' }));
    expect((await call(t, li.token, 'GET', `/api/tickets/${taken.body.id}`)).body.messages.at(-1)).toMatchObject({ from: 'user', text: '你好，在吗' });

    expect((await call(t, wang.token, 'POST', `/api/tickets/${taken.body.id}/transfer`, { to: wang.id })).body.error.message).toBe('只有处理这张工单的工作人员或管理员可以转交');
    expect((await call(t, li.token, 'POST', `/api/tickets/${taken.body.id}/transfer`, { to: staff.id })).body.error.message).toContain('只能转交给在用的坐席或管理员');
    expect((await call(t, li.token, 'POST', `/api/tickets/${taken.body.id}/transfer`, { to: wang.id })).body).toMatchObject({ assignee: wang.id, assigneeName: '王工' });
    expect((await call(t, wang.token, 'GET', '/api/tickets?mine=true')).body.tickets.map((x) => x.id)).toEqual([taken.body.id]);
    expect((await call(t, li.token, 'GET', '/api/tickets?mine=true')).body.tickets).toEqual([]);

    // Two more tickets in 30 days make Zhang a repeat requester, on every one of his tickets.
    for (let i = 0; i < 2; i++) {
      await call(t, wang.token, 'POST', `/api/tickets/${(await call(t, wang.token, 'GET', '/api/tickets?state=open')).body.tickets[0]!.id}/resolve`, { resolution: '已答复' });
      await adapter.deliver(adapter.message('转人工', { chatKind: 'private', userId: 'u-zhang' }));
      if (i === 0) await call(t, wang.token, 'POST', `/api/tickets/${(await call(t, wang.token, 'GET', '/api/tickets?state=registered')).body.tickets[0]!.id}/claim`);
    }
    const history = (await call(t, li.token, 'GET', '/api/tickets?channel=telegram&userId=u-zhang')).body.tickets;
    expect(history).toHaveLength(3);
    expect(history.every((x) => x.repeatRequester && x.recentTickets === 3)).toBe(true);
    expect((await call(t, li.token, 'GET', '/api/tickets?state=resolved,followed_up')).body.tickets).toHaveLength(2);
  });

  it('streams tickets as they open and change, to a token given in the address', async () => {
    const { t, adapter } = await start();
    const li = await account(t, '李工');
    const port = await listen(t.app);
    const s = await stream(port, li.token);
    try {
      await adapter.deliver(adapter.message('转人工', { chatKind: 'private', userId: 'u-1' }));
      await expect.poll(() => s.events.filter((e) => e.event === 'ticket').length).toBeGreaterThan(0);
      const [ticket] = await t.store.tickets.list();
      expect(s.events.find((e) => e.event === 'ticket')?.data).toMatchObject({ id: ticket!.id, number: ticket!.number, state: 'registered' });
      await call(t, li.token, 'POST', `/api/tickets/${ticket!.id}/claim`);
      await expect.poll(() => s.events.some((e) => e.data.state === 'assigned')).toBe(true);
    } finally {
      s.close();
    }
    await expect(stream(port, 'wrong-token')).rejects.toThrow('status 401');
  });

  it('counts open and overdue tickets on /metrics', async () => {
    const { t, adapter } = await start();
    await adapter.deliver(adapter.message('转人工', { chatKind: 'private', userId: 'u-1' }));
    const m = await metricsText(t.app);
    expect(metricValue(m, 'chunfeng_tickets_open')).toBe(1);
    expect(metricValue(m, 'chunfeng_tickets_overdue')).toBe(0);
  });

  if (db.label === 'PostgreSQL') {
    it('with two instances on one database: one of two agents claiming at once wins, the other gets 409, and each instance streams the other\'s tickets', async () => {
      const first = await start();
      const second = await start(new FakeAdapter('telegram'));
      const [li, wang] = [await account(first.t, '李工'), await account(first.t, '王工')];
      const s = await stream(await listen(second.t.app), wang.token);
      try {
        for (let round = 0; round < 4; round++) {
          await first.adapter.deliver(first.adapter.message('转人工', { chatKind: 'private', userId: `u-${round}` }));
          const [ticket] = await first.t.store.tickets.list({ states: ['registered'] });
          const results = await Promise.all([
            call(first.t, li.token, 'POST', `/api/tickets/${ticket!.id}/claim`),
            call(second.t, wang.token, 'POST', `/api/tickets/${ticket!.id}/claim`),
          ]);
          expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
          expect(results.find((r) => r.status === 409)?.body.error).toEqual({ code: 'CHUNFENG_CONFLICT', message: '工单已被其他工作人员认领' });
          await expect.poll(() => s.events.some((e) => e.data.id === ticket!.id && e.data.state === 'assigned')).toBe(true);
        }
      } finally {
        s.close();
      }
    });
  }
});
