import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FLOOD_RULE } from '../../src/channels/gateway.js';
import type { InboundHandler } from '../../src/channels/channel.js';
import { FLOOD_WARNING } from '../../src/core/conversation/format.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  FakeAdapter, buildApp, describeEachDatabase, knowledgeIndex, metricValue, metricsText, removeTempDirs, storeChatId,
  type TestApp, type TestAppOptions, type TestDatabase,
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

  async function start(adapter: FakeAdapter, env: Record<string, string> = {}, more: Partial<TestAppOptions> = {}): Promise<TestApp> {
    const t = await buildApp({ databaseUrl: database.url, adapters: [adapter], env, ...more });
    apps.push(t);
    await adapter.started;
    return t;
  }

  /** Freezes Date (timers stay real) so that a fixed one-minute window cannot roll over mid-test. */
  function freezeClock(at = T0): void {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
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

      const asked: string[] = [];
      for (let i = 0; i < 10; i++) {
        const msg = adapter.message(i % 2 ? QUESTION : OTHER_QUESTION, zhang);
        asked.push(msg.messageId);
        await adapter.deliver(msg);
        // More chatter in between, from the same user.
        await adapter.deliver(adapter.message('收到', { ...zhang, mentionsBot: false }));
      }
      await adapter.waitForSends(7);
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
      await adapter.waitForSends(8);
      expect(adapter.sends[7]!.out).toMatchObject({ replyToMessageId: fromLi.messageId });
      expect(adapter.sends[7]!.out.text).toContain(title(knowledgeIndex().ask(QUESTION).id!));

      const m = await metricsText(t.app);
      expect(metricValue(m, 'chunfeng_messages_dropped_total', { channel: 'telegram', reason: 'flood' })).toBe(4);
      expect(metricValue(m, 'chunfeng_messages_out_total', { channel: 'telegram' })).toBe(8);

      // The next minute the user is heard again.
      vi.setSystemTime(new Date(T0.getTime() + 60_000));
      const later = adapter.message(QUESTION, zhang);
      await adapter.deliver(later);
      await adapter.waitForSends(9);
      expect(adapter.sends.at(-1)!.out.replyToMessageId).toBe(later.messageId);
      // The silenced questions queued nothing: nothing is left to send.
      expect(await t.store.outbox.depth()).toEqual([]);
    });

    it('counts per chat: the same user is still answered in a private chat', async () => {
      freezeClock();
      const adapter = new FakeAdapter('telegram');
      await start(adapter);
      for (let i = 0; i < 8; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'g-1', userId: 'u-zhang' }));
      await adapter.waitForSends(7);
      await adapter.deliver(adapter.message(QUESTION, { chatKind: 'private', userId: 'u-zhang' }));
      await adapter.waitForSends(8);
      expect(adapter.sends[7]!.out.chatId).toBe('u-zhang');
    });
  });

  describe('send limits', () => {
    it('delays replies past the per-room limit (WECHAT_ROOM_LIMIT) to the next minute instead of dropping them', async () => {
      freezeClock();
      const adapter = new FakeAdapter('wechat', ['春风税务助手']);
      // The account's budget is wide here: it spaces WeChat's sends evenly over its minute (see the dispatcher's tests).
      const t = await start(adapter, { WECHAT_ROOM_LIMIT: '3', WECHAT_ACCOUNT_LIMIT: '10000' }, { limits: null });
      // Five users, one question each: no flood, only the room's budget.
      for (let i = 0; i < 5; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'room-1', userId: `u-${i}`, userName: `用户${i}` }));
      // Another room has its own budget.
      for (let i = 0; i < 2; i++) await adapter.deliver(adapter.message(QUESTION, { chatId: 'room-2', userId: `v-${i}` }));
      await adapter.waitForSends(5);
      await new Promise((r) => setTimeout(r, 200));
      expect(adapter.textsTo('room-1')).toHaveLength(3);
      expect(adapter.textsTo('room-2')).toHaveLength(2);
      // WeChat group replies @mention the asker.
      expect(adapter.sends[0]!.out.mention).toEqual({ userId: 'u-0', name: '用户0' });
      expect(await t.store.outbox.depth()).toEqual([{ channel: 'wechat', depth: 2, oldest: T0 }]);
      const waiting = await metricsText(t.app);
      expect(metricValue(waiting, 'chunfeng_outbox_depth', { channel: 'wechat' })).toBe(2);
      // The clock stands still here: the oldest has waited no time at all.
      expect(metricValue(waiting, 'chunfeng_outbox_oldest_seconds', { channel: 'wechat' })).toBe(0);

      // A minute later the rest go out, in the order asked.
      vi.setSystemTime(new Date(T0.getTime() + 60_000));
      await adapter.waitForSends(7);
      expect(adapter.sends.filter((s) => s.out.chatId === 'room-1').map((s) => s.out.mention?.userId)).toEqual(['u-0', 'u-1', 'u-2', 'u-3', 'u-4']);
      const m = await metricsText(t.app);
      expect(metricValue(m, 'chunfeng_messages_dropped_total', { channel: 'wechat' })).toBe(0);
      expect(metricValue(m, 'chunfeng_messages_out_total', { channel: 'wechat' })).toBe(7);
    });

    it('gives the flood count back when storing the message fails, so the retry is answered', async () => {
      const adapter = new FakeAdapter('telegram');
      const t = await start(adapter, {}, { flood: { limit: 1, windowMs: 60_000 } });
      const commit = vi.spyOn(t.store.intake, 'commit').mockRejectedValueOnce(new Error('磁盘已满'));
      const msg = adapter.message(QUESTION, { chatId: 'g-a', userId: 'u-1' });
      await expect(adapter.deliver(msg)).rejects.toThrow('磁盘已满');
      // The retry of the same update: not a duplicate (nothing was stored), and within the flood rule's one question.
      await adapter.deliver(msg);
      await adapter.waitForSends(1);
      expect(adapter.sends[0]!.out.text).toContain(title('deregister-individual'));
      expect(commit).toHaveBeenCalledTimes(2);
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
      await vi.waitFor(() => expect(a.sends.length + b.sends.length).toBe(1));
      // One after the other, too (a retried update reaching the other instance).
      const next = a.message(OTHER_QUESTION, { chatId: 'g-1', userId: 'u-li' });
      await a.deliver(next);
      await b.deliver(next);
      await vi.waitFor(() => expect(a.sends.length + b.sends.length).toBe(2));
      // Sent once: neither instance sends a row the other claimed.
      await new Promise((r) => setTimeout(r, 200));
      expect(a.sends.length + b.sends.length).toBe(2);
      const dup = async (t: TestApp): Promise<number> => metricValue(await metricsText(t.app), 'chunfeng_messages_dropped_total', { reason: 'duplicate' });
      expect((await dup(ta)) + (await dup(tb))).toBe(2);
      // Stored once.
      const chat = await storeChatId(ta.store, 'telegram', 'g-1', 'group');
      expect((await tb.store.messages.recent(chat, 50)).map((m) => m.direction)).toEqual(['in', 'out', 'in', 'out']);
    });

    it('let a user pick a suggestion offered by the other instance', async () => {
      const [a, b, ta] = await pair();
      const suggestions = knowledgeIndex().ask(VAGUE_Q).suggestions;
      const who = { chatKind: 'private' as const, userId: 'u-wang', userName: '王老板' };
      const sent = (): string[] => [...a.sends, ...b.sends].sort((x, y) => x.startedAt - y.startedAt).map((s) => s.out.text);
      await a.deliver(a.message(VAGUE_Q, who));
      await vi.waitFor(() => expect(sent()).toHaveLength(1));
      expect(sent()[0]).toContain('您是不是想问');

      await b.deliver(b.message('1', who));
      await vi.waitFor(() => expect(sent()).toHaveLength(2));
      expect(sent()[1]).toContain(title(suggestions[0]!.id));
      // The list stays on offer after a pick, on either instance.
      await a.deliver(a.message('2', who));
      await vi.waitFor(() => expect(sent()).toHaveLength(3));
      expect(sent()[2]).toContain(title(suggestions[1]!.id));
      // Stored as an offer and two picks, so the report counts one question whose offer was taken.
      const chat = await storeChatId(ta.store, 'telegram', who.userId, 'private');
      const inbound = (await ta.store.messages.recent(chat, 10)).filter((m) => m.direction === 'in');
      expect(inbound.map((m) => m.decision?.reason)).toEqual(['uncertain', 'picked', 'picked']);
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
      await adapter.waitForSends(1);
    });
  });

  describe('a failure while handling', () => {
    it('lets a retry of the same message be handled when the first attempt failed before storing it', async () => {
      const adapter = new FakeAdapter();
      const t = await start(adapter);
      const msg = adapter.message(QUESTION, { chatKind: 'private', userId: 'u-retry' });
      const commit = vi.spyOn(t.store.intake, 'commit').mockRejectedValueOnce(new Error('database unavailable'));
      await expect(adapter.deliver(msg)).rejects.toThrow('database unavailable');
      await new Promise((r) => setTimeout(r, 100));
      expect(adapter.sends).toHaveLength(0);

      await adapter.deliver(msg);
      await adapter.waitForSends(1);
      expect(adapter.sends[0]!.out.text).toContain(title('deregister-individual'));
      commit.mockRestore();
    });
  });

  describe('graceful shutdown', () => {
    it('app.close() waits for a send under way to finish and be recorded', async () => {
      const adapter = new FakeAdapter('telegram');
      adapter.sendDelayMs = 300;
      const t = await start(adapter);
      const msg = adapter.message(QUESTION, { chatKind: 'private', userId: 'u-slow' });
      await adapter.deliver(msg);
      await adapter.waitForSends(1);
      expect(adapter.sends[0]!.finishedAt).toBeNull();

      await t.app.close();
      apps.splice(apps.indexOf(t), 1);
      const closedAt = performance.now();
      expect(adapter.stopped).toBe(true);
      expect(adapter.sends[0]!.finishedAt).not.toBeNull();
      expect(adapter.sends[0]!.finishedAt!).toBeLessThanOrEqual(closedAt);

      // The reply was recorded as sent before the store closed.
      const store = await openStore(database.url);
      stores.push(store);
      const chat = await storeChatId(store, 'telegram', 'u-slow', 'private');
      const log = await store.messages.recent(chat, 10);
      expect(log.map((m) => m.direction)).toEqual(['in', 'out']);
      expect(log[1]!.text).toBe(adapter.sends[0]!.out.text);
      expect(await store.outbox.depth()).toEqual([]);
    });
  });
});
