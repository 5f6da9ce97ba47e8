import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { openIndex } from '../../src/knowledge/open.js';
import { openStore } from '../../src/store/index.js';
import { FakeTelegramApi } from '../fakes/telegram-api.js';
import { killAll, startGateway, type GatewayProcess } from '../process/gateway.js';
import { KNOWLEDGE_DIR, UpdateBuilder, describeEachDatabase, removeTempDirs, tempDir, type TestDatabase, type TextUpdate } from './helpers.js';

/**
 * Nothing a taxpayer asks is lost, even when the gateway is killed mid-burst: the real server runs
 * in a child process (test/process/server.ts) against the fake Bot API, a driver posts updates as
 * Telegram does (every update not answered 2xx is sent again, also to the restarted process), and
 * the process is killed with SIGKILL while replies are going out.
 */

const SECRET = 'crash-test-secret';
const QUESTIONS = 60;
/** Short claims and polls, so the rows a dead process held are sent again within a second or two. */
const DISPATCH = { pollMs: 100, leaseMs: 1_000, sendTimeoutMs: 2_000, retryFirstMs: 100, retryMaxMs: 400 };

let dataDir: string;

beforeAll(() => {
  // The saved index, so each start loads it instead of building it.
  dataDir = tempDir('chunfeng-crash-data-');
  openIndex({ knowledgeDir: KNOWLEDGE_DIR, policyDirs: [], cacheDir: join(dataDir, 'cache') });
});
afterAll(() => removeTempDirs());

/** Posts updates as Telegram does: each until it is answered 2xx. */
class TelegramDriver {
  readonly pending = new Map<number, TextUpdate>();

  constructor(updates: readonly TextUpdate[]) {
    for (const u of updates) this.pending.set(u.update_id, u);
  }

  /** Sends every update not yet acknowledged, at once; those answered 2xx are done. */
  async deliver(base: string): Promise<void> {
    await Promise.all([...this.pending.values()].map(async (update) => {
      try {
        const res = await fetch(`${base}/telegram/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
          body: JSON.stringify(update),
          signal: AbortSignal.timeout(3_000),
        });
        await res.arrayBuffer();
        if (res.status >= 200 && res.status < 300) this.pending.delete(update.update_id);
      } catch {
        // No answer (the process died): Telegram sends it again later.
      }
    }));
  }
}

describeEachDatabase('kill -9 mid-burst', (db) => {
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

  const launch = (): Promise<GatewayProcess> => startGateway({
    DATABASE_URL: database.url, DATA_DIR: dataDir, KNOWLEDGE_DIR, LOG_LEVEL: 'warn', ADMIN_TOKEN: 'crash-test-admin-token',
    TELEGRAM_BOT_TOKEN: api.token, TELEGRAM_API_ROOT: api.apiRoot,
    CHUNFENG_TEST_DISPATCH: JSON.stringify(DISPATCH),
    // What a crash sends twice is what is under way at that moment: about the send rate times
    // the time from a send to its record. 20 a second with 50 ms sends keeps that near two even
    // when the machine is busy with the rest of the test suite (30 a second came to four).
    TELEGRAM_BOT_LIMIT: '20',
  }, SECRET, children);

  it(`answers every one of ${QUESTIONS} questions after a SIGKILL mid-burst, sending at most 3 twice, only those under way`, async () => {
    // Slow sends: at 20 a second, replies go out for three seconds.
    api.delay('sendMessage', 50);
    const u = new UpdateBuilder(api.bot);
    const askers = Array.from({ length: QUESTIONS }, (_, i) => ({ id: 50_000 + i, is_bot: false as const, first_name: `纳税人${i}` }));
    const driver = new TelegramDriver(askers.map((from) => u.privateText('个体户注销要办什么手续', from)));
    const answered = (): Map<number, number> => {
      const count = new Map<number, number>();
      for (const m of api.delivered) count.set(m.chat.id, (count.get(m.chat.id) ?? 0) + 1);
      return count;
    };

    const first = await launch();
    const burst = driver.deliver(first.base);
    // Killed once the first reply is out, not after a fixed delay: a busy machine may take longer to start sending.
    const firstReplyBy = Date.now() + 20_000;
    while (api.delivered.length === 0 && Date.now() < firstReplyBy) await new Promise((r) => setTimeout(r, 10));
    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');
    await burst;
    const beforeKill = answered().size;
    // Killed mid-burst: some replies were out, not all.
    expect(beforeKill).toBeGreaterThan(0);
    expect(beforeKill).toBeLessThan(QUESTIONS);

    const second = await launch();
    const until = Date.now() + 15_000;
    while (driver.pending.size > 0 && Date.now() < until) {
      await driver.deliver(second.base);
      if (driver.pending.size > 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(driver.pending.size).toBe(0);
    await api.waitUntil(() => answered().size === QUESTIONS, 15_000, 'a reply to every question');
    // Rows the dead process held are sent again once their claim lapses: wait that out before counting.
    await new Promise((r) => setTimeout(r, DISPATCH.leaseMs + 4 * DISPATCH.pollMs));
    const counts = [...answered().values()];
    const duplicates = counts.reduce((sum, n) => sum + n - 1, 0);
    expect(counts).toHaveLength(QUESTIONS);
    expect(duplicates, `${duplicates} replies sent twice (sends under way at the kill)`).toBeLessThanOrEqual(3);
    // Each reply sent twice was first sent just before the kill (its answer not yet recorded), never earlier.
    const twice = [...answered().entries()].filter(([, n]) => n > 1).map(([chat]) => chat);
    for (const chat of twice) {
      const earliest = api.callsOf('sendMessage').find((c) => Number(c.params.chat_id) === chat && c.result)!;
      expect(killedAt - earliest.at, `chat ${chat}: first sent ${Math.round(killedAt - earliest.at)} ms before the kill`).toBeLessThan(300);
    }

    second.child.kill('SIGTERM');
    await once(second.child, 'exit');
    const store = await openStore(database.url);
    try {
      expect(await store.outbox.depth()).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);
});
