import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openIndex } from '../../src/knowledge/open.js';
import { importJson } from '../../src/notices/import.js';
import { openStore } from '../../src/store/index.js';
import { KNOWLEDGE_DIR, describeEachDatabase, postgresDatabase, removeTempDirs, tempDir, type TestDatabase } from '../channels/helpers.js';
import { TEST_PG_URL } from '../helpers/databases.js';
import { uscc } from '../helpers/taxpayers.js';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { killAll, startGateway, type GatewayProcess } from '../process/gateway.js';

/**
 * Each recipient gets a notice exactly once even when the gateway is killed with SIGKILL in the
 * middle of the broadcast and started again, and when two gateways share one PostgreSQL database:
 * the real server in child processes against the fake Bot API. What a kill can send twice is only
 * what was under way at that moment (sent, not yet recorded); the test allows those and checks
 * they were sent just before the kill.
 */

const SECRET = 'notice-crash-secret';
const ADMIN = 'notice-crash-admin-token';
const RECIPIENTS = 120;
/** Short claims and polls, so what a dead process held is sent again within a second or two. */
const DISPATCH = { pollMs: 100, leaseMs: 1_000, sendTimeoutMs: 2_000, retryFirstMs: 100, retryMaxMs: 400 };

let dataDir: string;
beforeAll(() => {
  dataDir = tempDir('chunfeng-notice-crash-');
  openIndex({ knowledgeDir: KNOWLEDGE_DIR, policyDirs: [], cacheDir: join(dataDir, 'cache') });
});
afterAll(() => removeTempDirs());

/** The database with RECIPIENTS linked Telegram chats and a draft to all of them; returns the draft's id. */
async function seed(url: string): Promise<string> {
  const store = await openStore(url);
  try {
    const imported = await importJson(store.subscribers, Array.from({ length: RECIPIENTS }, (_, i) => ({
      taxpayerId: uscc(1_000 + i), name: `企业${i}`, taxpayerType: '一般纳税人', office: i % 2 ? '第一分局' : '第二分局',
      chats: [{ channel: 'telegram', chatId: String(800_000 + i) }],
    })));
    expect(imported.errors).toEqual([]);
    const notice = await store.notices.create({ title: '留抵退税申请提醒', text: '请符合条件的企业及时申请。', audience: {}, topics: [], reminders: [], items: [] }, RECIPIENTS, null);
    return notice.id;
  } finally {
    await store.close();
  }
}

function counts(api: FakeTelegramApi): Map<number, number> {
  const count = new Map<number, number>();
  for (const m of api.delivered) count.set(m.chat.id, (count.get(m.chat.id) ?? 0) + 1);
  return count;
}

async function send(gateway: GatewayProcess, id: string): Promise<void> {
  const res = await fetch(`${gateway.base}/api/notices/${id}/send`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
  expect(res.status).toBe(202);
}

async function report(url: string, id: string): Promise<{ sent: number; pending: number }> {
  const store = await openStore(url);
  try {
    const records = await store.delivery.records(id);
    return { sent: records.filter((r) => r.state === 'sent').length, pending: records.filter((r) => r.state === 'queued' || r.state === 'waiting').length };
  } finally {
    await store.close();
  }
}

function gatewayEnv(api: FakeTelegramApi, url: string, botLimit: number, dispatch: typeof DISPATCH = DISPATCH): Record<string, string> {
  return {
    DATABASE_URL: url, DATA_DIR: dataDir, KNOWLEDGE_DIR, LOG_LEVEL: 'warn', ADMIN_TOKEN: ADMIN,
    TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.apiRoot, TELEGRAM_BOT_LIMIT: String(botLimit),
    CHUNFENG_TEST_DISPATCH: JSON.stringify(dispatch), CHUNFENG_TEST_NOTICE_JOB: JSON.stringify({ everyMs: 200 }),
  };
}

describeEachDatabase('a notice broadcast killed with SIGKILL', (db) => {
  let api: FakeTelegramApi;
  let database: TestDatabase;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    api = await FakeTelegramApi.start();
    database = await db.create();
  });
  afterEach(async () => {
    killAll(children);
    await api.close();
    await database.cleanup();
  });

  it(`reaches each of ${RECIPIENTS} recipients after a restart, sending twice only what was under way at the kill`, async () => {
    const id = await seed(database.url);
    // 40 a second with 20 ms sends: the broadcast takes three seconds.
    api.delay('sendMessage', 20);
    const first = await startGateway(gatewayEnv(api, database.url, 40), SECRET, children);
    await send(first, id);
    await api.waitUntil(() => api.delivered.length >= 30, 15_000, '30 notices out');
    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    const beforeKill = counts(api).size;
    expect(beforeKill).toBeLessThan(RECIPIENTS);

    await startGateway(gatewayEnv(api, database.url, 40), SECRET, children);
    await api.waitUntil(() => counts(api).size === RECIPIENTS, 20_000, 'a notice to every recipient');
    // Rows the dead process held are sent again once their claim lapses: wait that out before counting.
    await new Promise((r) => setTimeout(r, DISPATCH.leaseMs + 5 * DISPATCH.pollMs));
    const twice = [...counts(api).entries()].filter(([, n]) => n > 1).map(([chat]) => chat);
    // At most what 40 a second puts under way in the 300 ms before the kill.
    expect(twice.length, `${twice.length} sent twice`).toBeLessThanOrEqual(12);
    for (const chat of twice) {
      const earliest = api.callsOf('sendMessage').find((c) => Number(c.params.chat_id) === chat && c.result)!;
      expect(killedAt - earliest.at, `chat ${chat}: first sent ${Math.round(killedAt - earliest.at)} ms before the kill`).toBeLessThan(300);
    }
    expect(await report(database.url, id)).toEqual({ sent: RECIPIENTS, pending: 0 });
  }, 150_000);
});

describe.skipIf(!TEST_PG_URL)('two gateways on one PostgreSQL database', () => {
  const children: ChildProcess[] = [];
  afterEach(() => killAll(children));

  it(`share one broadcast of ${RECIPIENTS}: each recipient once, within the one bot limit`, async () => {
    const api = await FakeTelegramApi.start();
    const database = await postgresDatabase();
    try {
      const id = await seed(database.url);
      api.delay('sendMessage', 10);
      // Claims held for the default 15 s: with the short ones of the kill test, a process stalled for
      // a second on a busy machine would see its rows taken over (and sent again) by the other.
      const env = gatewayEnv(api, database.url, 60, { ...DISPATCH, pollMs: 1_000, leaseMs: 15_000 });
      const [a, b] = await Promise.all([startGateway(env, SECRET, children), startGateway(env, SECRET, children)]);
      await Promise.all([send(a!, id), send(b!, id)]);
      await api.waitUntil(() => counts(api).size === RECIPIENTS, 20_000, 'a notice to every recipient');
      await new Promise((r) => setTimeout(r, 500));
      expect([...counts(api).entries()].filter(([, n]) => n > 1)).toEqual([]);
      expect(await report(database.url, id)).toEqual({ sent: RECIPIENTS, pending: 0 });
      // The bot limit is global: no second saw much more than 60 sends from the two together (a send
      // counted at the end of one second may arrive at the start of the next).
      const perSecond = new Map<number, number>();
      for (const c of api.callsOf('sendMessage')) {
        const second = Math.floor((performance.timeOrigin + c.at) / 1000);
        perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      }
      expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(65);
    } finally {
      killAll(children);
      await api.close();
      await database.cleanup();
    }
  }, 150_000);
});
