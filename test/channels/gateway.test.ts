import type { FastifyBaseLogger } from 'fastify';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FLOOD_RULE, Gateway } from '../../src/channels/gateway.js';
import type { InboundHandler, SendBudget } from '../../src/channels/channel.js';
import { FLOOD_WARNING } from '../../src/core/conversation/format.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  FakeAdapter, buildApp, describeEachDatabase, knowledgeIndex, metricValue, metricsText, removeTempDirs, storeChatId,
  type TestApp, type TestDatabase,
} from './helpers.js';

/** Answered by the real knowledge; a vague one it answers with suggestions. */
const QUESTION = '个体户注销要办什么手续';
const OTHER_QUESTION = '发票丢了怎么办';
const VAGUE_Q = '留抵退税';

/** The start of a minute and a bit: fixed windows (flood, budgets) are aligned to the minute. */
const T0 = new Date('2026-11-23T08:00:05.000Z');

afterAll(() => removeTempDirs());

describe('the questions these tests rely on', () => {
  it('are answered or narrowed down by the real knowledge', () => {
    expect(knowledgeIndex().ask(QUESTION).answered).toBe(true);
    expect(knowledgeIndex().ask(OTHER_QUESTION).answered).toBe(true);
    const vague = knowledgeIndex().ask(VAGUE_Q);
    expect(vague.reason).toBe('uncertain');
    expect(vague.suggestions.length).toBeGreaterThanOrEqual(2);
  });
  it('the default flood rule is six questions a minute', () => {
    expect(DEFAULT_FLOOD_RULE).toEqual({ limit: 6, windowMs: 60_000 });
  });
});

const title = (id: string): string => `【${knowledgeIndex().entry(id)!.title}】`;

describeEachDatabase('Gateway', (db) => {
  let database: TestDatabase;
  const apps: TestApp[] = [];
  const stores: Store[] = [];

  beforeEach(async () => {
    database = await db.create();
  });
  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(apps.splice(0).map((t) => t.app.close()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await database.cleanup();
  });

  async function start(adapter: FakeAdapter, env: Record<string, string> = {}): Promise<TestApp> {
    const t = await buildApp({ databaseUrl: database.url, adapters: [adapter], env });
    apps.push(t);
    await adapter.started;
    return t;
  }

  /** Freezes Date (timers stay real) so that a fixed one-minute window cannot roll over mid-test. */
  function freezeClock(at = T0): void {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
  }

  /** A gateway of its own over the test app's store, with its own clock and Telegram budgets; returns its handler. */
  function ownGateway(t: TestApp, adapter: FakeAdapter, now: () => Date, budget: SendBudget, store: Store = t.store): InboundHandler {
    const gateway = new Gateway({
      store, index: () => knowledgeIndex(), office: null, metrics: t.scope.metrics, log: t.scope.log as FastifyBaseLogger, now, budgets: { telegram: budget },
    });
    return gateway.handlerFor(adapter);
  }

  describe('flood rule', () => {
    it('answers six questions a minute, warns once, then stays silent; other users and chatter are unaffected', async () => {
      freezeClock();
      const adapter = new FakeAdapter('telegram');
      const t = await start(adapter);
      const group = 'g-flood';
      const zhang = { chatId: group, userId: 'u-zhang', userName: '张会计' };
      const li = { chatId: group, userId: 'u-li', userName: '李出纳' };
      const repliesTo = (ids: string[]): number => adapter.sends.filter((s) => ids.includes(s.out.replyToMessageId ?? '')).length;

      // Chatter never counts: twenty unaddressed messages first.
      for (let i = 0; i < 20; i++) await adapter.deliver(adapter.message(i % 2 ? '收到' : '好的', { ...zhang, mentionsBot: false }));
      expect(adapter.sends).toHaveLength(0);

      const asked: string[] = [];
      for (let i = 0; i < 10; i++) {
        const msg = adapter.message(i % 2 ? QUESTION : OTHER_QUESTION, zhang);
        asked.push(msg.messageId);
        await adapter.deliver(msg);
        // More chatter in between, from the same user.
        await adapter.deliver(adapter.message('收到', { ...zhang, mentionsBot: false }));
      }
      const toZhang = adapter.sends.map((s) => s.out);
      expect(toZhang).toHaveLength(7);
      // Six answers, each quoting its question...
      expect(toZhang.slice(0, 6).map((o) => o.replyToMessageId)).toEqual(asked.slice(0, 6));
      for (const o of toZhang.slice(0, 6)) expect(o.text).toMatch(/^【/);
      // ...one polite warning for the seventh, and nothing for the eighth to tenth.
      expect(toZhang[6]).toMatchObject({ chatId: group, text: FLOOD_WARNING, replyToMessageId: asked[6] });
      expect(FLOOD_WARNING).toContain('您发送得太快了');
      expect(repliesTo(asked.slice(7))).toBe(0);

      // Another user in the same group is answered.
      const fromLi = adapter.message(QUESTION, li);
      await adapter.deliver(fromLi);
      expect(adapter.sends).toHaveLength(8);
      expect(adapter.sends[7]!.out).toMatchObject({ replyToMessageId: fromLi.messageId });
      expect(adapter.sends[7]!.out.text).toContain(title(knowledgeIndex().ask(QUESTION).id!));

      const m = await metricsText(t.app);
      expect(metricValue(m, 'chunfeng_messages_dropped_total', { channel: 'telegram', reason: 'flood' })).toBe(4);
      expect(metricValue(m, 'chunfeng_messages_out_total', { channel: 'telegram' })).toBe(8);

      // The next minute the user is heard again.
      vi.setSystemTime(new Date(T0.getTime() + 60_000));
      const later = adapter.message(QUESTION, zhang);
      await adapter.deliver(later);
      expect(adapter.sends.at(-1)!.out.replyToMessageId).toBe(later.messageId);
    });

    it('counts per chat: the same user is still answered in a private chat', async () => {
      freezeClock();
      const adapter = new FakeAdapter('telegram');
      await start(adapter);
      for (let i = 0; i < 8; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'g-1', userId: 'u-zhang' }));
      expect(adapter.sends).toHaveLength(7);
      await adapter.deliver(adapter.message(QUESTION, { chatKind: 'private', userId: 'u-zhang' }));
      expect(adapter.sends).toHaveLength(8);
      expect(adapter.sends[7]!.out.chatId).toBe('u-zhang');
    });
  });

  describe('send budget', () => {
    it('stops replies past the per-room limit from the configuration (WECHAT_ROOM_LIMIT) and counts them dropped', async () => {
      freezeClock();
      const adapter = new FakeAdapter('wechat', ['春风税务助手']);
      const t = await start(adapter, { WECHAT_ROOM_LIMIT: '3', WECHAT_ACCOUNT_LIMIT: '5' });
      // Five users, one question each: no flood, only the room's budget.
      for (let i = 0; i < 5; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'room-1', userId: `u-${i}`, userName: `用户${i}` }));
      expect(adapter.textsTo('room-1')).toHaveLength(3);
      // WeChat group replies @mention the asker.
      expect(adapter.sends[0]!.out.mention).toEqual({ userId: 'u-0', name: '用户0' });

      // Another room has its own budget, within the account's (5 a minute: 3 + 2).
      for (let i = 0; i < 3; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'room-2', userId: `v-${i}` }));
      expect(adapter.textsTo('room-2')).toHaveLength(2);

      const m = await metricsText(t.app);
      expect(metricValue(m, 'chunfeng_messages_dropped_total', { channel: 'wechat', reason: 'budget' })).toBe(3);
      expect(metricValue(m, 'chunfeng_messages_out_total', { channel: 'wechat' })).toBe(5);
      // What was not sent is not stored as sent.
      const room1 = await storeChatId(t.store, 'wechat', 'room-1', 'group');
      expect((await t.store.messages.recent(room1, 50)).filter((s) => s.direction === 'out')).toHaveLength(3);
    });

    it('applies budgets given through AppOptions', async () => {
      freezeClock();
      const adapter = new FakeAdapter('telegram');
      const t = await buildApp({
        databaseUrl: database.url, adapters: [adapter],
        budgets: { telegram: { perChat: { limit: 2, windowMs: 60_000 }, perAccount: { limit: 100, windowMs: 1_000 } } },
      });
      apps.push(t);
      await adapter.started;
      for (let i = 0; i < 4; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'g-small', userId: `u-${i}` }));
      expect(adapter.textsTo('g-small')).toHaveLength(2);
      expect(metricValue(await metricsText(t.app), 'chunfeng_messages_dropped_total', { channel: 'telegram', reason: 'budget' })).toBe(2);
    });

    it('applies the budgets given in Gateway options, per chat and per account', async () => {
      const adapter = new FakeAdapter('telegram');
      const t = await start(adapter);
      let now = T0.getTime();
      const handle = ownGateway(t, adapter, () => new Date(now), { perChat: { limit: 2, windowMs: 60_000 }, perAccount: { limit: 3, windowMs: 1_000 } });
      const ask = (chatId: string, userId: string): Promise<void> => handle(adapter.message(QUESTION, { chatId, userId }));

      await ask('g-a', 'u-1');
      await ask('g-a', 'u-2');
      await ask('g-a', 'u-3'); // the chat's third in a minute: dropped
      expect(adapter.textsTo('g-a')).toHaveLength(2);
      await ask('g-b', 'u-4'); // the account's third in a second
      await ask('g-c', 'u-5'); // the account's fourth in a second: dropped
      expect(adapter.textsTo('g-b')).toHaveLength(1);
      expect(adapter.textsTo('g-c')).toHaveLength(0);
      now += 1_000; // a new second for the account, the same minute for the chats
      await ask('g-c', 'u-6');
      await ask('g-a', 'u-7'); // still the chat's third in this minute: dropped
      expect(adapter.textsTo('g-c')).toHaveLength(1);
      expect(adapter.textsTo('g-a')).toHaveLength(2);
      expect(metricValue(await metricsText(t.app), 'chunfeng_messages_dropped_total', { channel: 'telegram', reason: 'budget' })).toBe(3);
    });

    it('gives the budgets back when storing the message fails, so the retry is answered', async () => {
      const adapter = new FakeAdapter('telegram');
      const t = await start(adapter);
      let failures = 1;
      const flaky: Store = {
        ...t.store,
        messages: {
          ...t.store.messages,
          record: (m) => (failures-- > 0 ? Promise.reject(new Error('磁盘已满')) : t.store.messages.record(m)),
        },
      };
      const handle = ownGateway(t, adapter, () => T0, { perChat: { limit: 1, windowMs: 60_000 }, perAccount: { limit: 1, windowMs: 60_000 } }, flaky);
      const msg = adapter.message(QUESTION, { chatId: 'g-a', userId: 'u-1' });
      await expect(handle(msg)).rejects.toThrow('磁盘已满');
      expect(adapter.textsTo('g-a')).toHaveLength(0);
      // The retry of the same update: not a duplicate (it was never stored), and the chat's one reply is still there.
      await handle(msg);
      expect(adapter.textsTo('g-a')).toHaveLength(1);
    });

    it('counts nothing against the budgets for questions the flood rule drops', async () => {
      const adapter = new FakeAdapter('telegram');
      const t = await start(adapter);
      const handle = ownGateway(t, adapter, () => T0, { perChat: { limit: 8, windowMs: 60_000 }, perAccount: { limit: 100, windowMs: 60_000 } });
      for (let i = 0; i < 10; i++) await handle(adapter.message(QUESTION, { chatId: 'g-a', userId: 'u-1' }));
      // Six answers and the warning; the three dropped questions used none of the chat's eight.
      expect(adapter.textsTo('g-a')).toHaveLength(7);
      await handle(adapter.message(QUESTION, { chatId: 'g-a', userId: 'u-2' }));
      expect(adapter.textsTo('g-a')).toHaveLength(8);
      await handle(adapter.message(QUESTION, { chatId: 'g-a', userId: 'u-3' }));
      expect(adapter.textsTo('g-a')).toHaveLength(8);
    });
  });

  describe('two instances on one database', () => {
    async function pair(): Promise<[FakeAdapter, FakeAdapter, TestApp, TestApp]> {
      const a = new FakeAdapter('telegram');
      const b = new FakeAdapter('telegram');
      const ta = await start(a);
      const tb = await start(b);
      // Each opened its own connection: what they share is the database.
      expect(ta.store).not.toBe(tb.store);
      return [a, b, ta, tb];
    }

    it('handle a message delivered to both once', async () => {
      const [a, b, ta, tb] = await pair();
      const msg = a.message(QUESTION, { chatId: 'g-1', userId: 'u-zhang' });
      await Promise.all([a.deliver(msg), b.deliver(msg)]);
      expect(a.sends.length + b.sends.length).toBe(1);
      // One after the other, too (a retried update reaching the other instance).
      const next = a.message(OTHER_QUESTION, { chatId: 'g-1', userId: 'u-li' });
      await a.deliver(next);
      await b.deliver(next);
      expect(a.sends.length + b.sends.length).toBe(2);
      const dup = async (t: TestApp): Promise<number> => metricValue(await metricsText(t.app), 'chunfeng_messages_dropped_total', { reason: 'duplicate' });
      expect((await dup(ta)) + (await dup(tb))).toBe(2);
      // Stored once.
      const chat = await storeChatId(ta.store, 'telegram', 'g-1', 'group');
      expect((await tb.store.messages.recent(chat, 50)).filter((m) => m.direction === 'in')).toHaveLength(2);
    });

    it('let a user pick a suggestion offered by the other instance', async () => {
      const [a, b] = await pair();
      const suggestions = knowledgeIndex().ask(VAGUE_Q).suggestions;
      const who = { chatKind: 'private' as const, userId: 'u-wang', userName: '王老板' };
      await a.deliver(a.message(VAGUE_Q, who));
      expect(a.sends).toHaveLength(1);
      expect(a.sends[0]!.out.text).toContain('您是不是想问');

      await b.deliver(b.message('1', who));
      expect(b.sends).toHaveLength(1);
      expect(b.sends[0]!.out.text).toContain(title(suggestions[0]!.id));
      // The list stays on offer after a pick, on either instance.
      await a.deliver(a.message('2', who));
      expect(a.sends).toHaveLength(2);
      expect(a.sends[1]!.out.text).toContain(title(suggestions[1]!.id));
    });
  });

  describe('start-up', () => {
    it('starts a channel again after it failed to start, and it then answers; /metrics says whether it runs', async () => {
      class FailsUntilFixed extends FakeAdapter {
        unreachable = true;
        override async start(handler: InboundHandler): Promise<void> {
          if (this.unreachable) throw new Error('getMe: network unreachable');
          return super.start(handler);
        }
      }
      const adapter = new FailsUntilFixed();
      const t = await buildApp({ databaseUrl: database.url, adapters: [adapter], startRetry: { firstMs: 20, maxMs: 40 } });
      apps.push(t);
      const up = async (): Promise<number | undefined> => metricValue(await metricsText(t.app), 'chunfeng_channel_up', { channel: 'telegram' });
      await vi.waitFor(() => expect(t.errors().map((l) => l.msg)).toContain('渠道启动失败，稍后重试'));
      expect(await up()).toBe(0);
      adapter.unreachable = false;
      await adapter.started;
      await vi.waitFor(async () => expect(await up()).toBe(1));
      await adapter.deliver(adapter.message(QUESTION, { chatKind: 'private' }));
      expect(adapter.sends).toHaveLength(1);
    });
  });

  describe('a failure while handling', () => {
    it('lets a retry of the same message be handled when the first attempt failed before storing it', async () => {
      const adapter = new FakeAdapter();
      const t = await start(adapter);
      const msg = adapter.message(QUESTION, { chatKind: 'private', userId: 'u-retry' });
      const record = vi.spyOn(t.store.messages, 'record').mockRejectedValueOnce(new Error('database unavailable'));
      await expect(adapter.deliver(msg)).rejects.toThrow('database unavailable');
      expect(adapter.sends).toHaveLength(0);

      await adapter.deliver(msg);
      expect(adapter.sends).toHaveLength(1);
      expect(adapter.sends[0]!.out.text).toContain(title('deregister-individual'));
      record.mockRestore();
    });
  });

  describe('graceful shutdown', () => {
    it('app.close() waits for a message being handled to finish sending and be stored', async () => {
      const adapter = new FakeAdapter('telegram');
      adapter.sendDelayMs = 300;
      const t = await start(adapter);
      const msg = adapter.message(QUESTION, { chatKind: 'private', userId: 'u-slow' });
      const handled = adapter.deliver(msg);
      await vi.waitFor(() => expect(adapter.sends).toHaveLength(1), { timeout: 5_000, interval: 5 });
      expect(adapter.sends[0]!.finishedAt).toBeNull();

      await t.app.close();
      apps.splice(apps.indexOf(t), 1);
      const closedAt = performance.now();
      expect(adapter.stopped).toBe(true);
      expect(adapter.sends[0]!.finishedAt).not.toBeNull();
      expect(adapter.sends[0]!.finishedAt!).toBeLessThanOrEqual(closedAt);
      await handled;

      // The reply was recorded before the store closed.
      const store = await openStore(database.url);
      stores.push(store);
      const chat = await storeChatId(store, 'telegram', 'u-slow', 'private');
      const log = await store.messages.recent(chat, 10);
      expect(log.map((m) => m.direction)).toEqual(['in', 'out']);
      expect(log[1]!.text).toBe(adapter.sends[0]!.out.text);
    });
  });
});
