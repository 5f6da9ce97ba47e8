import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { ChannelError, channelLimits, type ChannelLimits } from '../../src/channels/channel.js';
import { OUTBOX_PRIORITY, openStore } from '../../src/store/index.js';
import {
  FakeAdapter, buildApp, describeEachDatabase, metricValue, metricsText, removeTempDirs, storeChatId, type FakeSend, type TestApp, type TestDatabase,
} from './helpers.js';

/** Answered by the real knowledge. */
const QUESTION = '个体户注销要办什么手续';

afterAll(() => removeTempDirs());

/** The configuration's defaults: Telegram's published limits. */
const TELEGRAM = channelLimits({ telegram: { perBot: 30, perChat: 1, perGroup: 20 }, wechat: { perRoom: 10, perAccount: 60, perDay: 200 } }).telegram!;

/** The most sends that fell into one window of `windowMs` aligned to the epoch, as the store's budgets count them. */
function busiestWindow(sends: readonly FakeSend[], windowMs: number): number {
  const counts = new Map<number, number>();
  for (const s of sends) counts.set(Math.floor(s.epochMs / windowMs), (counts.get(Math.floor(s.epochMs / windowMs)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

/** Telegram's limits with the bot's own budget set to `perSecond`. */
function telegramAt(perSecond: number): ChannelLimits {
  return { ...TELEGRAM, account: [{ limit: perSecond, windowMs: 1_000 }] };
}

describeEachDatabase('Dispatcher', (db) => {
  let database: TestDatabase;
  const apps: TestApp[] = [];

  beforeEach(async () => {
    database = await db.create();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((t) => t.app.close()));
    await database.cleanup();
  });

  async function start(adapter: FakeAdapter, limits: ChannelLimits, env: Record<string, string> = {}): Promise<TestApp> {
    const t = await buildApp({ databaseUrl: database.url, adapters: [adapter], limits: { [adapter.channel]: limits }, env });
    apps.push(t);
    await adapter.started;
    return t;
  }

  it('answers 80 private chats asking at once, within 30 a second for the bot, dropping none', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter, TELEGRAM);
    const asked = Array.from({ length: 80 }, (_, i) => adapter.message(QUESTION, { chatKind: 'private', userId: `u-${i}` }));
    await Promise.all(asked.map((m) => adapter.deliver(m)));
    await adapter.waitForSends(80, 10_000);
    expect(new Set(adapter.sends.map((s) => s.out.chatId)).size).toBe(80);
    // One more at most: a timer that fires a moment late carries a window's last send into the next.
    expect(busiestWindow(adapter.sends, 1_000)).toBeLessThanOrEqual(31);
    // Spread over the second rather than sent at once: consecutive sends are about 33 ms apart.
    const starts = adapter.sends.map((s) => s.startedAt);
    const gaps = starts.slice(1).map((at, i) => at - starts[i]!);
    expect(gaps.filter((g) => g < 20).length).toBeLessThan(8);
    const m = await metricsText(t.app);
    expect(metricValue(m, 'chunfeng_messages_dropped_total')).toBe(0);
    expect(metricValue(m, 'chunfeng_outbox_sent_total', { channel: 'telegram' })).toBe(80);
  });

  it('answers a question asked in the middle of a broadcast before the rest of the broadcast', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter, telegramAt(10));
    const chats = await Promise.all(Array.from({ length: 30 }, (_, i) => storeChatId(t.store, 'telegram', `n-${i}`, 'private')));
    await t.store.outbox.enqueue(chats.map((chatId, i) => ({
      channel: 'telegram', chatId, channelChatId: `n-${i}`, kind: 'notice', priority: OUTBOX_PRIORITY.broadcast, text: `通知 ${i}`, dedupeKey: `notice:1:${i}`,
    })));
    t.scope.dispatcher.wake('telegram');
    await adapter.waitForSends(5);
    const question = adapter.message(QUESTION, { chatKind: 'private', userId: 'u-asker' });
    await adapter.deliver(question);
    await vi.waitFor(() => expect(adapter.textsTo('u-asker')).toHaveLength(1), { timeout: 5_000 });
    const at = adapter.sends.findIndex((s) => s.out.chatId === 'u-asker');
    // Within the next second's sends, while most of the broadcast still waits.
    expect(at).toBeLessThan(5 + 12);
    expect(adapter.sends.length).toBeLessThan(25);
  });

  it('shares one bot budget and one outbox between two instances, each row sent once', async () => {
    const a = new FakeAdapter('telegram');
    const b = new FakeAdapter('telegram');
    const ta = await start(a, telegramAt(10));
    await start(b, telegramAt(10));
    const asked = Array.from({ length: 24 }, (_, i) => (i % 2 ? a : b).message(QUESTION, { chatKind: 'private', userId: `u-${i}` }));
    await Promise.all(asked.map((m, i) => (i % 2 ? a : b).deliver(m)));
    await vi.waitFor(() => expect(a.sends.length + b.sends.length).toBe(24), { timeout: 10_000 });
    await new Promise((r) => setTimeout(r, 300));
    const all = [...a.sends, ...b.sends];
    expect(all).toHaveLength(24);
    expect(new Set(all.map((s) => s.out.chatId)).size).toBe(24);
    // The store counts each send in the window of its slot; a timer that fires a moment late can
    // carry the last send of a window into the next one, hence one more at most.
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(11);
    expect(await ta.store.outbox.depth()).toEqual([]);
  });

  it('paces a broadcast shared by two instances: sends spread evenly, never bunched at a window\'s start', async () => {
    const a = new FakeAdapter('telegram');
    const b = new FakeAdapter('telegram');
    const ta = await start(a, telegramAt(20));
    const tb = await start(b, telegramAt(20));
    const chats = await Promise.all(Array.from({ length: 40 }, (_, i) => storeChatId(ta.store, 'telegram', `p-${i}`, 'private')));
    await ta.store.outbox.enqueue(chats.map((chatId, i) => ({
      channel: 'telegram', chatId, channelChatId: `p-${i}`, kind: 'notice', priority: OUTBOX_PRIORITY.broadcast, text: `通知 ${i}`, dedupeKey: `notice:2:${i}`,
    })));
    ta.scope.dispatcher.wake('telegram');
    tb.scope.dispatcher.wake('telegram');
    await vi.waitFor(() => expect(a.sends.length + b.sends.length).toBe(40), { timeout: 15_000 });
    const at = [...a.sends, ...b.sends].map((s) => s.epochMs).sort((x, y) => x - y);
    // Both instances sent, and the two together kept 20 in any second, not just in the store's windows.
    expect(Math.min(a.sends.length, b.sends.length)).toBeGreaterThan(0);
    expect(Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 1_000).length))).toBeLessThanOrEqual(21);
    // Evenly: with fixed windows both instances sent at once at each window's start.
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    expect(gaps.filter((g) => g < 25).length).toBeLessThanOrEqual(3);
    // At close to the limit: 40 sends 50 ms apart take about two seconds.
    expect(at.at(-1)! - at[0]!).toBeLessThan(4_000);
  });

  it('expires a reply that could only be sent past OUTBOX_MAX_AGE, and counts it', async () => {
    const adapter = new FakeAdapter('telegram');
    const t = await start(adapter, TELEGRAM, { OUTBOX_MAX_AGE: '10' });
    adapter.failures.push(new ChannelError('telegram', 'rate_limited', 'Too Many Requests: retry after 60', 60_000));
    await adapter.deliver(adapter.message(QUESTION, { chatKind: 'private', userId: 'u-late' }));
    await vi.waitFor(async () => expect(metricValue(await metricsText(t.app), 'chunfeng_outbox_expired_total', { channel: 'telegram' })).toBe(1));
    expect(adapter.refused).toHaveLength(1);
    expect(adapter.sends).toHaveLength(0);
    const chat = await storeChatId(t.store, 'telegram', 'u-late', 'private');
    const reply = (await t.store.messages.recent(chat, 5)).find((m) => m.direction === 'out');
    expect(await t.store.outbox.get(reply!.id)).toMatchObject({ state: 'expired', lastError: expect.stringContaining('retry after 60') });
  });

  it('on close, finishes the send under way and puts back, unsent, the rows still waiting for their slot', async () => {
    const adapter = new FakeAdapter('telegram');
    adapter.sendDelayMs = 200;
    // Two a second: the second and third rows wait half a second and a second for their slots.
    const t = await start(adapter, telegramAt(2));
    const chats = await Promise.all(['x', 'y', 'z'].map((c) => storeChatId(t.store, 'telegram', c, 'private')));
    const queued = await t.store.outbox.enqueue(chats.map((chatId, i) => ({ channel: 'telegram', chatId, channelChatId: ['x', 'y', 'z'][i]!, kind: 'reply', priority: OUTBOX_PRIORITY.reply, text: `第${i}条` })));
    t.scope.dispatcher.wake('telegram');
    await adapter.waitForSends(1);
    await t.app.close();
    apps.splice(apps.indexOf(t), 1);
    expect(adapter.sends).toHaveLength(1);
    expect(adapter.sends[0]!.finishedAt).not.toBeNull();
    const store = await openStore(database.url);
    try {
      const rows = await Promise.all(queued.map((q) => store.outbox.get(q!)));
      expect(rows.map((r) => r?.state)).toEqual(['sent', 'pending', 'pending']);
      expect(rows.map((r) => r?.attempts)).toEqual([1, 0, 0]);
    } finally {
      await store.close();
    }
  });

  it('sends a chat\'s messages in order, one at a time, a second apart in a private chat', async () => {
    const adapter = new FakeAdapter('telegram');
    adapter.sendDelayMs = 50;
    const t = await start(adapter, TELEGRAM);
    const chatId = await storeChatId(t.store, 'telegram', 'u-order', 'private');
    await t.store.outbox.enqueue(['一', '二', '三'].map((text) => ({ channel: 'telegram', chatId, channelChatId: 'u-order', kind: 'reply', priority: OUTBOX_PRIORITY.reply, text })));
    t.scope.dispatcher.wake('telegram');
    await adapter.waitForSends(3, 5_000);
    expect(adapter.sends.map((s) => s.out.text)).toEqual(['一', '二', '三']);
    for (let i = 1; i < 3; i++) expect(adapter.sends[i]!.startedAt - adapter.sends[i - 1]!.finishedAt!).toBeGreaterThanOrEqual(900);
  });
});
