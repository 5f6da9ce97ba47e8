import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OUTBOX_PRIORITY, openStore, type ClaimedItem, type NewOutboxItem, type Store } from '../../src/store/index.js';
import { storeTargets, type StoreTarget } from '../helpers/databases.js';

const T0 = new Date('2026-11-22T08:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const SECOND = 1_000;
/** Telegram's pace: one a second per chat, and 20 a minute in a group. */
const PACE = { private: [{ limit: 1, windowMs: SECOND }], group: [{ limit: 1, windowMs: SECOND }, { limit: 20, windowMs: 60 * SECOND }] };
const LEASE = 10 * SECOND;

type Target = StoreTarget;

const TARGETS = storeTargets('chunfeng_outbox');

describe.each(TARGETS)('outbox on $label', ({ label, make }) => {
  if (!make) {
    it.skip(label, () => undefined);
    return;
  }
  let target: Target;
  let store: Store;
  const opened: Store[] = [];

  const open = async (): Promise<Store> => {
    const s = await openStore(target.url);
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    target = await make();
    store = await open();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await target.cleanup();
  });

  const chat = (id: string, kind: 'private' | 'group' = 'private'): Promise<string> => store.identities.upsertChat({ channel: 'telegram', channelChatId: id, kind });
  const item = (chatId: string, text: string, extra: Partial<NewOutboxItem> = {}): NewOutboxItem => ({
    channel: 'telegram', chatId, channelChatId: `tg-${chatId}`, kind: 'reply', priority: OUTBOX_PRIORITY.reply, text, at: at(0), ...extra,
  });
  const queue = async (...items: NewOutboxItem[]): Promise<string[]> => (await store.outbox.enqueue(items)).map((q) => q!);
  const claim = (owner: string, now: Date, limit = 50, s: Store = store): Promise<ClaimedItem[]> => s.outbox.claim('telegram', { owner, limit, leaseMs: LEASE, pace: PACE, now });
  const send = (row: ClaimedItem, owner: string, when: Date): Promise<boolean> => store.outbox.settle(row, owner, { state: 'sent', at: when, channelMessageId: `m-${row.text}` });

  it('queues each message in the conversation log too, under the same id, and reads back its state', async () => {
    const a = await chat('1');
    const [queued] = await store.outbox.enqueue([item(a, '您好', { payload: { buttons: [[{ text: '已读', data: 'ack:1' }]] }, source: 'notice:1' })]);
    const row = await store.outbox.get(queued!);
    expect(row).toMatchObject({ id: queued, state: 'pending', attempts: 0, text: '您好', source: 'notice:1', payload: { buttons: [[{ text: '已读', data: 'ack:1' }]] } });
    expect((await store.messages.recent(a, 5)).map((m) => [m.id, m.direction, m.text])).toEqual([[queued, 'out', '您好']]);
    expect(await store.outbox.get('no-such-row')).toBeNull();
  });

  it('queues a dedupe key once, also when two instances queue it at the same moment', async () => {
    const a = await chat('1');
    const other = await open();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? store : other).outbox.enqueue([item(a, '通知', { dedupeKey: 'notice:7:1', priority: OUTBOX_PRIORITY.broadcast })])));
    expect(results.flat().filter((r) => r !== null)).toHaveLength(1);
    expect(await store.outbox.enqueue([item(a, '通知', { dedupeKey: 'notice:7:1' }), item(a, '另一条', { dedupeKey: 'notice:8:1' })])).toEqual([null, expect.any(String)]);
    // The refused copy left nothing in the log either.
    expect((await store.messages.recent(a, 10)).map((m) => m.text)).toEqual(['通知', '另一条']);
  });

  it('claims one row per chat, in order, replies before broadcasts, and the next only once the first is sent and the pace allows', async () => {
    const [a, b] = [await chat('1'), await chat('2')];
    await queue(item(a, '广播', { priority: OUTBOX_PRIORITY.broadcast }), item(a, 'A1'), item(a, 'A2'), item(b, 'B1'));
    const first = await claim('x', at(0));
    expect(first.map((r) => r.text)).toEqual(['A1', 'B1']);
    expect(first[0]).toMatchObject({ state: 'sending', attempts: 1, chatUnreachable: false });
    // Nothing more while A1 and B1 are being sent.
    expect(await claim('x', at(0))).toEqual([]);
    await send(first[0]!, 'x', at(100));
    // A2 waits a second after A1 (one message a second per chat).
    expect(await claim('x', at(500))).toEqual([]);
    expect((await claim('x', at(1_200))).map((r) => r.text)).toEqual(['A2']);
  });

  it('claims given rows by id, and only those of them that are claimable', async () => {
    const [a, b, c] = [await chat('1'), await chat('2'), await chat('3')];
    const [a1, a2, b1] = await queue(item(a, 'A1'), item(a, 'A2'), item(b, 'B1'));
    await queue(item(c, 'C1'));
    const claimed = await store.outbox.claim('telegram', { owner: 'x', limit: 3, leaseMs: LEASE, pace: PACE, ids: [a1!, a2!, b1!], now: at(0) });
    // A2 waits behind A1; C1 was not asked for.
    expect(claimed.map((r) => r.text)).toEqual(['A1', 'B1']);
    expect(await store.outbox.claim('telegram', { owner: 'x', limit: 1, leaseMs: LEASE, pace: PACE, ids: [], now: at(0) })).toEqual([]);
    expect((await claim('x', at(0))).map((r) => r.text)).toEqual(['C1']);
  });

  it('keeps a group within 20 messages a minute', async () => {
    const g = await chat('-5', 'group');
    await queue(...Array.from({ length: 22 }, (_, i) => item(g, `G${String(i).padStart(2, '0')}`)));
    let sent = 0;
    for (let t = 0; t < 60_000; t += 1_100) {
      for (const row of await claim('x', at(t))) {
        await send(row, 'x', at(t));
        sent++;
      }
    }
    expect(sent).toBe(20);
    expect((await claim('x', at(61_000))).map((r) => r.text)).toEqual(['G20']);
  });

  it('never gives one row to two claimers, on one instance or two', async () => {
    const chats = await Promise.all(Array.from({ length: 40 }, (_, i) => chat(String(100 + i))));
    await queue(...chats.map((c, i) => item(c, `Q${i}`)));
    const other = await open();
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claim(`owner-${i}`, at(0), 10, i % 2 ? store : other)));
    const ids = claims.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(40);
  });

  it('lets only the owner settle a claim, and gives a lapsed claim to the next claimer', async () => {
    const a = await chat('1');
    await queue(item(a, 'A1'));
    const [row] = await claim('dead', at(0));
    expect(await send(row!, 'someone-else', at(1))).toBe(false);
    // The owner renews while it sends; a dead owner does not, and its claim lapses.
    expect(await store.outbox.renew('dead', at(LEASE + 5_000))).toBe(1);
    expect(await store.outbox.recover(at(LEASE + 1))).toEqual([]);
    expect(await store.outbox.recover(at(LEASE + 5_001))).toEqual(['telegram']);
    const [again] = await claim('alive', at(LEASE + 5_001));
    expect(again).toMatchObject({ id: row!.id, attempts: 2 });
    expect(await send(row!, 'dead', at(LEASE + 5_002))).toBe(false);
    expect(await send(again!, 'alive', at(LEASE + 5_002))).toBe(true);
    expect(await store.outbox.get(row!.id)).toMatchObject({ state: 'sent', channelMessageId: 'm-A1' });
  });

  it('waits again after a failure until not_before, giving the attempt back when it was not one', async () => {
    const a = await chat('1');
    await queue(item(a, 'A1'));
    const [row] = await claim('x', at(0));
    await store.outbox.settle(row!, 'x', { state: 'pending', notBefore: at(5_000), error: '502', countsAsAttempt: true });
    expect(await claim('x', at(4_999))).toEqual([]);
    const [retry] = await claim('x', at(5_000));
    expect(retry).toMatchObject({ attempts: 2, lastError: '502' });
    await store.outbox.settle(retry!, 'x', { state: 'pending', notBefore: at(6_000), error: null, countsAsAttempt: false });
    expect((await claim('x', at(6_000)))[0]).toMatchObject({ attempts: 2 });
  });

  it('holds every instance on a paused channel, keeping the later of two pauses', async () => {
    const a = await chat('1');
    await queue(item(a, 'A1'));
    const other = await open();
    await other.outbox.pause('telegram', at(3_000), '429');
    await store.outbox.pause('telegram', at(2_000), '429');
    expect(await claim('x', at(2_500))).toEqual([]);
    expect(await claim('x', at(3_000))).toHaveLength(1);
  });

  it('expires waiting rows past their expiry, and marks a chat unreachable with its waiting broadcasts', async () => {
    const [a, b] = [await chat('1'), await chat('2')];
    const [late] = await queue(item(a, '过期', { expiresAt: at(600_000) }));
    await queue(item(b, 'B1'), item(b, '广播1', { priority: OUTBOX_PRIORITY.broadcast }), item(b, '广播2', { priority: OUTBOX_PRIORITY.broadcast }));
    expect(await store.outbox.expire(at(599_999))).toEqual([]);
    expect(await store.outbox.expire(at(600_000))).toEqual(['telegram']);
    expect(await store.outbox.get(late!)).toMatchObject({ state: 'expired' });

    const [b1] = await claim('x', at(0));
    await store.outbox.settle(b1!, 'x', { state: 'unreachable', error: 'Forbidden: bot was blocked by the user', at: at(1) });
    expect((await store.identities.chat(b))?.unreachableAt).toEqual(at(1));
    expect(await store.outbox.depth()).toEqual([]);
    // A later reply to that chat is still claimed (the user wrote again), with the mark, and clears it once sent.
    await queue(item(b, 'B2'));
    const [b2] = await claim('x', at(2_000));
    expect(b2).toMatchObject({ text: 'B2', chatUnreachable: true });
    await store.outbox.settle(b2!, 'x', { state: 'sent', at: at(2_001), channelMessageId: '9', reachableAgain: true });
    expect((await store.identities.chat(b))?.unreachableAt).toBeNull();
  });

  it('reports the depth and the oldest waiting row per channel, and prunes only finished rows without a dedupe key', async () => {
    const a = await chat('1');
    await queue(item(a, 'A1', { at: at(0) }), item(a, 'A2', { at: at(5_000) }), item(a, '通知', { at: at(0), dedupeKey: 'n:1' }));
    expect(await store.outbox.depth()).toEqual([{ channel: 'telegram', depth: 3, oldest: at(0) }]);
    for (let t = 0; t < 5; t++) for (const row of await claim('x', at(t * 2_000))) await send(row, 'x', at(t * 2_000));
    expect(await store.outbox.depth()).toEqual([]);
    expect(await store.outbox.prune(at(1))).toBe(1);
    expect(await store.outbox.prune(at(10_000))).toBe(1);
    expect((await store.messages.recent(a, 5)).map((m) => m.text)).toEqual(['A1', '通知', 'A2']);
  });
});
