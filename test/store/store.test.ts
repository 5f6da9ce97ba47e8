import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import { hashToken } from '../../src/store/accounts.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { TEST_PG_URL, freshPostgresSchema, withClient } from '../helpers/databases.js';

/** A fresh, empty database for one test, and how to throw it away. */
interface Target {
  readonly url: string;
  cleanup(): Promise<void>;
}

const PG_URL = TEST_PG_URL;

function sqliteTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'chunfeng-store-'));
  // A folder that does not exist yet: openStore must create it.
  const url = `sqlite:${join(dir, 'nested', 'chunfeng.db')}`;
  return Promise.resolve({ url, cleanup: async () => rmSync(dir, { recursive: true, force: true }) });
}

/** A schema with a random name, so parallel and aborted runs never see each other's tables. */
function postgresTarget(base: string): Promise<Target & { schema: string }> {
  return freshPostgresSchema(base);
}

const T0 = new Date('2026-11-22T08:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const MINUTE = 60_000;
const times = <T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
const trues = (results: boolean[]): number => results.filter(Boolean).length;

/** A plain Kysely connection to a target, beside the store: to set up old schemas and look at raw rows. */
function rawDb(url: string): Kysely<unknown> {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    mkdirSync(dirname(path), { recursive: true });
    return new Kysely({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
  }
  return new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
}

/** The behaviour callers rely on, run against each database. */
function storeSuite(makeTarget: () => Promise<Target>): void {
  let target: Target;
  let store: Store;
  const opened: Store[] = [];
  const targets: Target[] = [];

  const fresh = async (): Promise<Target> => {
    const t = await makeTarget();
    targets.push(t);
    return t;
  };
  const open = async (url = target.url): Promise<Store> => {
    const s = await openStore(url);
    opened.push(s);
    return s;
  };

  beforeEach(async () => {
    target = await fresh();
    store = await open();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await Promise.all(targets.splice(0).map((t) => t.cleanup()));
  });

  async function chatWithUser(s: Store = store): Promise<{ chatId: string; userId: string }> {
    const chatId = await s.identities.upsertChat({ channel: 'telegram', channelChatId: '-100200', kind: 'group', title: '春风办税群' });
    const userId = await s.identities.upsertUser({ channel: 'telegram', channelUserId: '7001', displayName: '张会计' });
    return { chatId, userId };
  }

  describe('identities', () => {
    it('gives the same id to the same user and chat every time', async () => {
      const user = { channel: 'telegram', channelUserId: '7001', displayName: '张会计' };
      const first = await store.identities.upsertUser(user);
      expect(await store.identities.upsertUser(user)).toBe(first);
      expect(await store.identities.upsertUser({ channel: 'wechat', channelUserId: '7001' })).not.toBe(first);

      const chat = { channel: 'wechat', channelChatId: 'room@chatroom', kind: 'group' as const, title: '个税汇算答疑群' };
      const chatId = await store.identities.upsertChat(chat);
      expect(await store.identities.upsertChat(chat)).toBe(chatId);
      expect(await store.identities.upsertChat({ ...chat, channel: 'telegram' })).not.toBe(chatId);
    });

    it('agrees on one id when 20 first sightings race', async () => {
      const ids = await times(20, () => store.identities.upsertUser({ channel: 'telegram', channelUserId: 'race' }));
      expect(new Set(ids).size).toBe(1);
    });

    it('updates names and titles but keeps them when an update carries none', async () => {
      const created = at(0);
      const id = await store.identities.upsertUser({ channel: 'telegram', channelUserId: '7001', displayName: '张会计' }, created);
      await store.identities.upsertUser({ channel: 'telegram', channelUserId: '7001' }, at(MINUTE));
      expect(await store.identities.user(id)).toEqual({ id, channel: 'telegram', channelUserId: '7001', displayName: '张会计', createdAt: created });
      await store.identities.upsertUser({ channel: 'telegram', channelUserId: '7001', displayName: '张三' });
      expect((await store.identities.user(id))?.displayName).toBe('张三');

      const chatId = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '1', kind: 'private', title: '旧名' });
      await store.identities.upsertChat({ channel: 'telegram', channelChatId: '1', kind: 'private', title: null });
      expect(await store.identities.chat(chatId)).toMatchObject({ kind: 'private', title: '旧名' });
      expect(await store.identities.chat('no-such-id')).toBeNull();
      expect(await store.identities.user('no-such-id')).toBeNull();
    });
  });

  describe('messages', () => {
    it('stores the decision with the message and reads it back', async () => {
      const { chatId, userId } = await chatWithUser();
      const decision = { answered: true, entryId: 'vat-refund-apply', score: 12.345678901234, reason: 'confident', questionKey: '申请 留抵退税' };
      const inId = await store.messages.record({ channel: 'telegram', chatId, userId, direction: 'in', channelMessageId: '55', text: '留抵退税怎么申请？', decision, at: at(0) });
      await store.messages.record({ channel: 'telegram', chatId, direction: 'out', text: '【增值税留抵退税申请】……', at: at(1) });
      const declined = { answered: false, entryId: null, score: 1.5, reason: 'uncertain', questionKey: null };
      await store.messages.record({ channel: 'telegram', chatId, userId, direction: 'in', text: '那个怎么弄', decision: declined, at: at(2) });

      const [asked, reply, vague] = await store.messages.recent(chatId, 10);
      expect(asked).toEqual({ id: inId, channel: 'telegram', chatId, userId, direction: 'in', channelMessageId: '55', text: '留抵退税怎么申请？', at: at(0), decision });
      expect(reply).toMatchObject({ direction: 'out', userId: null, channelMessageId: null, decision: null });
      expect(vague?.decision).toEqual(declined);
    });

    it('returns the last messages of one chat, oldest first', async () => {
      const { chatId, userId } = await chatWithUser();
      const other = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '9', kind: 'private' });
      for (let i = 0; i < 5; i++) await store.messages.record({ channel: 'telegram', chatId, userId, direction: 'in', text: `问题${i}`, at: at(i * 1000) });
      await store.messages.record({ channel: 'telegram', chatId: other, direction: 'out', text: '别的聊天', at: at(10_000) });

      expect((await store.messages.recent(chatId, 3)).map((m) => m.text)).toEqual(['问题2', '问题3', '问题4']);
      expect(await store.messages.recent(chatId, 0)).toEqual([]);
      expect(await store.messages.recent('no-such-chat', 5)).toEqual([]);
    });

    it('keeps messages recorded in the same millisecond in order', async () => {
      const { chatId } = await chatWithUser();
      for (let i = 0; i < 6; i++) await store.messages.record({ channel: 'telegram', chatId, direction: 'out', text: `第${i}段`, at: at(0) });
      expect((await store.messages.recent(chatId, 6)).map((m) => m.text)).toEqual(['第0段', '第1段', '第2段', '第3段', '第4段', '第5段']);
    });

    it('refuses a message for a chat or user the store does not know', async () => {
      const { chatId } = await chatWithUser();
      await expect(store.messages.record({ channel: 'telegram', chatId: 'no-such-chat', direction: 'in', text: 'x' })).rejects.toThrow();
      await expect(store.messages.record({ channel: 'telegram', chatId, userId: 'no-such-user', direction: 'in', text: 'x' })).rejects.toThrow();
    });
  });

  describe('accounts', () => {
    it('creates an account whose token is returned once and stored only as its hash', async () => {
      const { account, token } = await store.accounts.create('李工', 'agent', at(0));
      expect(account).toEqual({ id: expect.any(String), name: '李工', role: 'agent', createdAt: at(0), disabledAt: null });
      expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(await store.accounts.byToken(token)).toEqual(account);
      expect(await store.accounts.get(account.id)).toEqual(account);

      const raw = rawDb(target.url);
      try {
        const rows = await sql`select * from accounts`.execute(raw);
        expect(JSON.stringify(rows.rows)).not.toContain(token);
        expect(JSON.stringify(rows.rows)).toContain(hashToken(token));
      } finally {
        await raw.destroy();
      }
    });

    it('gives every account its own id and token, and lists them oldest first', async () => {
      const a = await store.accounts.create('张科长', 'staff', at(1000));
      const b = await store.accounts.create('李工', 'agent', at(0));
      const c = await store.accounts.create('王主任', 'admin', at(2000));
      expect(new Set([a.account.id, b.account.id, c.account.id]).size).toBe(3);
      expect(new Set([a.token, b.token, c.token]).size).toBe(3);
      expect((await store.accounts.list()).map((x) => x.name)).toEqual(['李工', '张科长', '王主任']);
      expect(await store.accounts.byToken('not-a-token')).toBeNull();
      expect(await store.accounts.get('no-such-account')).toBeNull();
    });

    it('refuses a disabled account\'s token, keeps it listed, and takes the token again once enabled', async () => {
      const { account, token } = await store.accounts.create('李工', 'agent', at(0));
      const other = await store.accounts.create('赵工', 'agent', at(0));

      expect(await store.accounts.disable(account.id, at(MINUTE))).toEqual({ ...account, disabledAt: at(MINUTE) });
      expect(await store.accounts.byToken(token)).toBeNull();
      expect(await store.accounts.byToken(other.token)).toEqual(other.account);
      // Disabling again keeps the first time.
      expect((await store.accounts.disable(account.id, at(2 * MINUTE)))?.disabledAt).toEqual(at(MINUTE));
      expect((await store.accounts.list()).map((x) => [x.name, x.disabledAt])).toEqual([['李工', at(MINUTE)], ['赵工', null]]);

      expect(await store.accounts.enable(account.id)).toEqual(account);
      expect(await store.accounts.byToken(token)).toEqual(account);
      expect(await store.accounts.disable('no-such-account')).toBeNull();
      expect(await store.accounts.enable('no-such-account')).toBeNull();
    });

    it('keeps an account disabled when its token is changed', async () => {
      await store.accounts.createOnce('admin', '管理员', 'admin', 'first-admin-token', at(0));
      await store.accounts.disable('admin', at(1));
      await store.accounts.setToken('admin', 'second-admin-token');
      expect(await store.accounts.byToken('second-admin-token')).toBeNull();
      await store.accounts.enable('admin');
      expect(await store.accounts.byToken('second-admin-token')).toMatchObject({ id: 'admin', role: 'admin' });
      expect(await store.accounts.byToken('first-admin-token')).toBeNull();
    });

    it('keeps accounts made before accounts could be disabled in use', async () => {
      const old = await fresh();
      const raw = rawDb(old.url);
      try {
        // The schema as the first two migrations left it, with an account in it.
        for (const name of ['0001-conversations', '0002-accounts']) await MIGRATIONS[name]?.up(raw);
        await sql`create table chunfeng_migrations (name text primary key, applied_at text not null)`.execute(raw);
        await sql`insert into chunfeng_migrations (name, applied_at) values ('0001-conversations', ''), ('0002-accounts', '')`.execute(raw);
        await sql`insert into accounts (id, name, role, token_hash, created_at) values ('old', '王工', 'agent', ${hashToken('old-agent-token')}, ${at(0).toISOString()})`.execute(raw);
      } finally {
        await raw.destroy();
      }
      const upgraded = await open(old.url);
      expect(await upgraded.accounts.byToken('old-agent-token')).toEqual({ id: 'old', name: '王工', role: 'agent', createdAt: at(0), disabledAt: null });
      expect(await upgraded.accounts.disable('old')).toMatchObject({ id: 'old', disabledAt: expect.any(Date) });
    });
  });

  describe('intake', () => {
    /** An inbound message of `chat` with this channel message id, and one reply to it. */
    const intakeOf = (chat: { chatId: string; userId: string }, messageId: string, text = '留抵退税怎么申请？') => ({
      inbound: { channel: 'telegram', chatId: chat.chatId, userId: chat.userId, direction: 'in' as const, channelMessageId: messageId, text, at: at(0) },
      outbound: [{ channel: 'telegram', chatId: chat.chatId, channelChatId: '-100200', kind: 'reply', priority: 0, text: `答：${text}`, replyTo: messageId, at: at(0) }],
    });

    it('stores the message, its reply in the log and the reply in the outbox together', async () => {
      const chat = await chatWithUser();
      const result = await store.intake.commit(intakeOf(chat, '55'));
      if (result.duplicate) throw new Error('not a duplicate');
      expect((await store.messages.recent(chat.chatId, 5)).map((m) => [m.direction, m.text])).toEqual([['in', '留抵退税怎么申请？'], ['out', '答：留抵退税怎么申请？']]);
      const [outboxId] = result.outboxIds;
      expect(await store.outbox.get(outboxId!)).toMatchObject({ state: 'pending', attempts: 0, text: '答：留抵退税怎么申请？', replyTo: '55', kind: 'reply' });
    });

    it('drops a second copy of the same message, whole, and keeps other chats and ids apart', async () => {
      const chat = await chatWithUser();
      expect((await store.intake.commit(intakeOf(chat, '55'))).duplicate).toBe(false);
      expect(await store.intake.commit(intakeOf(chat, '55', '又问一遍'))).toEqual({ duplicate: true });
      expect((await store.intake.commit(intakeOf(chat, '56'))).duplicate).toBe(false);
      const other = await store.identities.upsertChat({ channel: 'telegram', channelChatId: '9', kind: 'private' });
      expect((await store.intake.commit(intakeOf({ ...chat, chatId: other }, '55'))).duplicate).toBe(false);
      // Nothing of the duplicate was stored: two messages in, two replies out, two rows queued.
      const log = await store.messages.recent(chat.chatId, 10);
      expect(log.filter((m) => m.direction === 'in')).toHaveLength(2);
      expect(log.map((m) => m.text)).not.toContain('答：又问一遍');
      expect((await store.outbox.depth()).find((d) => d.channel === 'telegram')?.depth).toBe(3);
    });

    it('stores one of 20 concurrent copies, on this instance and another', async () => {
      const chat = await chatWithUser();
      const other = await open();
      const results = await times(20, (i) => (i % 2 ? store : other).intake.commit(intakeOf(chat, 'retried')));
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
      expect(await store.messages.recent(chat.chatId, 50)).toHaveLength(2);
    });

    it('stores nothing when one part fails, and the retry is then stored', async () => {
      const chat = await chatWithUser();
      const broken = intakeOf(chat, '57');
      // A reply for a chat the store does not know fails its foreign key: the message must not be kept without it.
      await expect(store.intake.commit({ ...broken, outbound: [...broken.outbound, { ...broken.outbound[0]!, chatId: 'no-such-chat' }] })).rejects.toThrow();
      expect(await store.messages.recent(chat.chatId, 5)).toEqual([]);
      expect((await store.intake.commit(broken)).duplicate).toBe(false);
    });

    it('replaces or clears the offer of suggestions in the same unit', async () => {
      const chat = await chatWithUser();
      const key = { channel: 'telegram', chatId: chat.chatId, userId: chat.userId };
      await store.intake.commit({ ...intakeOf(chat, '60'), offer: { key, ids: ['a', 'b'], ttlMs: MINUTE, now: at(0) } });
      expect(await store.suggestions.get(key, at(1))).toEqual(['a', 'b']);
      // A duplicate leaves the offer as it was.
      await store.intake.commit({ ...intakeOf(chat, '60'), offer: { key, ids: null, ttlMs: MINUTE, now: at(0) } });
      expect(await store.suggestions.get(key, at(1))).toEqual(['a', 'b']);
      await store.intake.commit({ ...intakeOf(chat, '61'), offer: { key, ids: null, ttlMs: MINUTE, now: at(0) } });
      expect(await store.suggestions.get(key, at(1))).toBeNull();
    });
  });

  describe('suggestions', () => {
    const key = { channel: 'telegram', chatId: 'chat-1', userId: 'user-1' };

    it('gives back the offer once, in order', async () => {
      await store.suggestions.put(key, ['vat-refund-apply', 'invoice-red', 'iit-annual'], 10 * MINUTE, at(0));
      expect(await store.suggestions.take(key, at(MINUTE))).toEqual(['vat-refund-apply', 'invoice-red', 'iit-annual']);
      expect(await store.suggestions.take(key, at(MINUTE))).toBeNull();
    });

    it('reads an offer without using it up, until it expires', async () => {
      await store.suggestions.put(key, ['a', 'b'], 10 * MINUTE, at(0));
      expect(await store.suggestions.get(key, at(MINUTE))).toEqual(['a', 'b']);
      expect(await store.suggestions.get(key, at(2 * MINUTE))).toEqual(['a', 'b']);
      expect(await store.suggestions.get({ ...key, userId: 'user-2' }, at(MINUTE))).toBeNull();
      expect(await store.suggestions.get(key, at(10 * MINUTE))).toBeNull();
    });

    it('keeps offers per user and replaces an earlier offer', async () => {
      await store.suggestions.put(key, ['a'], 10 * MINUTE, at(0));
      await store.suggestions.put({ ...key, userId: 'user-2' }, ['b'], 10 * MINUTE, at(0));
      await store.suggestions.put(key, ['c', 'd'], 10 * MINUTE, at(MINUTE));
      expect(await store.suggestions.take(key, at(2 * MINUTE))).toEqual(['c', 'd']);
      expect(await store.suggestions.take({ ...key, userId: 'user-2' }, at(2 * MINUTE))).toEqual(['b']);
    });

    it('does not return an expired offer', async () => {
      await store.suggestions.put(key, ['a'], 10 * MINUTE, at(0));
      expect(await store.suggestions.take(key, at(10 * MINUTE))).toBeNull();
      // A later put works normally (the expired row is gone, not in the way).
      await store.suggestions.put(key, ['b'], 10 * MINUTE, at(11 * MINUTE));
      expect(await store.suggestions.take(key, at(12 * MINUTE))).toEqual(['b']);
    });

    it('gives a contested offer to only one of 10 concurrent takers', async () => {
      await store.suggestions.put(key, ['a'], 10 * MINUTE, at(0));
      const taken = await times(10, () => store.suggestions.take(key, at(MINUTE)));
      expect(taken.filter((t) => t !== null)).toEqual([['a']]);
    });

    it('prunes only expired offers', async () => {
      await store.suggestions.put(key, ['a'], MINUTE, at(0));
      await store.suggestions.put({ ...key, userId: 'user-2' }, ['b'], 10 * MINUTE, at(0));
      expect(await store.suggestions.prune(at(2 * MINUTE))).toBe(1);
      expect(await store.suggestions.take({ ...key, userId: 'user-2' }, at(2 * MINUTE))).toEqual(['b']);
    });
  });

  describe('budget', () => {
    it('denies past the limit and starts again in the next window', async () => {
      const results = [];
      for (const ms of [0, 1000, 2000, 59_999]) results.push(await store.budget.tryConsume('room:a', MINUTE, 3, at(ms)));
      expect(results).toEqual([true, true, true, false]);
      expect(await store.budget.tryConsume('room:b', MINUTE, 3, at(0))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 3, at(MINUTE))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 3, at(MINUTE + 1))).toBe(true);
    });

    it('allows exactly the limit to 20 concurrent callers, in each window', async () => {
      expect(trues(await times(20, () => store.budget.tryConsume('room:race', MINUTE, 5, at(0))))).toBe(5);
      expect(trues(await times(20, () => store.budget.tryConsume('room:race', MINUTE, 5, at(MINUTE))))).toBe(5);
    });

    it('does not let a caller whose clock lags reset a newer window', async () => {
      expect(await store.budget.tryConsume('room:a', MINUTE, 2, at(MINUTE))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 2, at(0))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 2, at(0))).toBe(false);
      expect(await store.budget.tryConsume('room:a', MINUTE, 2, at(MINUTE))).toBe(false);
    });

    it('takes back a message given back in the same window, and nothing once the window has moved on', async () => {
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(0))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(1000))).toBe(false);
      await store.budget.release('room:a', MINUTE, at(2000));
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(3000))).toBe(true);
      // Given back twice: the count does not go below zero, so the limit still holds.
      await store.budget.release('room:a', MINUTE, at(4000));
      await store.budget.release('room:a', MINUTE, at(4000));
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(5000))).toBe(true);
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(5000))).toBe(false);
      // A release in a later window leaves the later window's count alone.
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(MINUTE))).toBe(true);
      await store.budget.release('room:a', MINUTE, at(0));
      expect(await store.budget.tryConsume('room:a', MINUTE, 1, at(MINUTE + 1))).toBe(false);
    });

    it('counts requests past any limit, with when the window ends, for rate limits', async () => {
      expect(await store.budget.count('ratelimit:a', MINUTE, at(1000))).toEqual({ count: 1, resetsAt: at(MINUTE) });
      expect(await store.budget.count('ratelimit:a', MINUTE, at(2000))).toEqual({ count: 2, resetsAt: at(MINUTE) });
      expect(await store.budget.count('ratelimit:a', MINUTE, at(MINUTE + 5))).toEqual({ count: 1, resetsAt: at(2 * MINUTE) });
      expect((await times(10, () => store.budget.count('ratelimit:b', MINUTE, at(0)))).map((r) => r.count).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('denies everything with a limit of 0 and rejects a bad window', async () => {
      expect(await store.budget.tryConsume('room:a', MINUTE, 0, at(0))).toBe(false);
      await expect(store.budget.tryConsume('room:a', 0, 5, at(0))).rejects.toThrow(RangeError);
    });

    it('paces send times an interval apart, never before now, and refuses one too far ahead', async () => {
      const t0 = 1_800_000_000_000;
      expect(await store.budget.pace('bot:p', 100, t0, 100)).toBe(t0);
      expect(await store.budget.pace('bot:p', 100, t0 + 10, 100)).toBe(t0 + 100);
      // The next free time is t0 + 200, more than 100 ahead of t0 + 10: ask again later.
      expect(await store.budget.pace('bot:p', 100, t0 + 10, 100)).toBeNull();
      // A longer reach (a reply) gets it meanwhile.
      expect(await store.budget.pace('bot:p', 100, t0 + 10, 800)).toBe(t0 + 200);
      // After a quiet spell the pace starts from now, not from a time in the past.
      expect(await store.budget.pace('bot:p', 100, t0 + 5_000, 100)).toBe(t0 + 5_000);
      expect(await store.budget.pace('bot:q', 100, t0 + 10, 100)).toBe(t0 + 10);
      await expect(store.budget.pace('bot:p', 0, t0, 100)).rejects.toThrow(RangeError);
    });

    it('gives 20 concurrent callers distinct send times an interval apart', async () => {
      const t0 = 1_800_000_000_000;
      const slots = await times(20, () => store.budget.pace('bot:race', 50, t0, 10_000));
      expect([...slots].sort((x, y) => x! - y!)).toEqual(Array.from({ length: 20 }, (_, i) => t0 + i * 50));
    });
  });

  describe('two instances on one database', () => {
    it('share suggestions and the send budget', async () => {
      const other = await open();
      const sent = await times(20, (i) => (i % 2 ? store : other).budget.tryConsume('account:bot', MINUTE, 7, at(0)));
      expect(trues(sent)).toBe(7);
      const t0 = 1_800_000_000_000;
      const slots = await times(10, (i) => (i % 2 ? store : other).budget.pace('account:bot', 40, t0, 1_000));
      expect([...slots].sort((x, y) => x! - y!)).toEqual(Array.from({ length: 10 }, (_, i) => t0 + i * 40));

      const key = { channel: 'wechat', chatId: 'c', userId: 'u' };
      await store.suggestions.put(key, ['x', 'y'], MINUTE, at(0));
      expect(await other.suggestions.take(key, at(1000))).toEqual(['x', 'y']);
    });
  });

  describe('opening and migrations', () => {
    it('opens an already migrated database again without harm and keeps its data', async () => {
      const { chatId, userId } = await chatWithUser();
      await store.messages.record({ channel: 'telegram', chatId, userId, direction: 'in', text: '还在吗' });
      await store.close();

      const again = await open();
      const twice = await open();
      expect(await chatWithUser(again)).toEqual({ chatId, userId });
      expect((await twice.messages.recent(chatId, 5)).map((m) => m.text)).toEqual(['还在吗']);
    });

    it('migrates a new database once when two instances start together', async () => {
      const t = await fresh();
      const [a, b] = await Promise.all([open(t.url), open(t.url)]);
      expect(await a.budget.tryConsume('x', MINUTE, 1, at(0))).toBe(true);
      expect(await b.budget.tryConsume('x', MINUTE, 1, at(0))).toBe(false);
    });

    it('answers ping, and close twice is harmless', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await store.close();
      await store.close();
      await expect(store.ping()).rejects.toThrow();
    });
  });
}

describe('store on SQLite (temporary file)', () => {
  storeSuite(sqliteTarget);

  describe('SQLite specifics', () => {
    const cleanups: Target[] = [];
    afterEach(async () => {
      await Promise.all(cleanups.splice(0).map((t) => t.cleanup()));
    });

    it('creates the folder, uses WAL, and keeps data after a reopen', async () => {
      const t = await sqliteTarget();
      cleanups.push(t);
      const path = t.url.slice('sqlite:'.length);
      expect(existsSync(dirname(path))).toBe(false);

      const first = await openStore(t.url);
      const id = await first.identities.upsertUser({ channel: 'wechat', channelUserId: 'wxid_1', displayName: '李出纳' });
      await first.close();

      const raw = new Sqlite(path, { readonly: true });
      try {
        expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        raw.close();
      }

      const second = await openStore(t.url);
      try {
        expect(await second.identities.user(id)).toMatchObject({ displayName: '李出纳' });
        expect(await second.identities.upsertUser({ channel: 'wechat', channelUserId: 'wxid_1' })).toBe(id);
      } finally {
        await second.close();
      }
    });

    it('opens a throwaway in-memory database', async () => {
      const s = await openStore('sqlite::memory:');
      try {
        expect(await s.budget.tryConsume('x', MINUTE, 1, at(0))).toBe(true);
        expect(s.kind).toBe('sqlite');
      } finally {
        await s.close();
      }
    });

    it('rejects an address it does not understand', async () => {
      await expect(openStore('mysql://localhost/test')).rejects.toThrow(/sqlite:|postgres:/);
    });
  });
});

describe.skipIf(PG_URL === null)(
  PG_URL === null ? 'store on PostgreSQL: SKIPPED, set TEST_DATABASE_URL=postgres://... to run' : 'store on PostgreSQL (TEST_DATABASE_URL, a fresh schema per test)',
  () => {
    const base = PG_URL ?? '';
    storeSuite(() => postgresTarget(base));

    describe('PostgreSQL specifics', () => {
      it('migrates while other schemas of the same database are created and dropped at the same time', async () => {
        // Parallel test files and other applications do this; a migrator that lists every schema's
        // tables trips over one that disappears under it ("schema ... does not exist").
        let churning = true;
        const churn = async (): Promise<void> => {
          while (churning) {
            const other = await postgresTarget(base);
            await withClient(base, async (c) => {
              for (let i = 0; i < 5; i++) await c.query(`create table ${other.schema}.t${i} (id serial primary key, v text)`);
            });
            await other.cleanup();
          }
        };
        const churners = Array.from({ length: 4 }, churn);
        try {
          for (let round = 0; round < 5; round++) {
            await Promise.all(Array.from({ length: 6 }, async () => {
              const t = await postgresTarget(base);
              try {
                await (await openStore(t.url)).close();
              } finally {
                await t.cleanup();
              }
            }));
          }
        } finally {
          churning = false;
          await Promise.all(churners);
        }
      });

      it('creates its tables and migration bookkeeping in the search_path schema only', async () => {
        // Another schema already migrated in the same database must not confuse the migrator.
        const neighbour = await postgresTarget(base);
        const t = await postgresTarget(base);
        const stores: Store[] = [];
        try {
          stores.push(await openStore(neighbour.url));
          stores.push(await openStore(t.url));
          expect(stores[1]?.kind).toBe('postgres');
          const tables = await withClient(base, (c) =>
            c.query<{ table_name: string }>('select table_name from information_schema.tables where table_schema = $1 order by table_name', [t.schema]),
          );
          expect(tables.rows.map((r) => r.table_name)).toEqual([
            'accounts', 'binding_codes', 'channel_pauses', 'chat_topics', 'chats', 'chunfeng_migrations', 'data_requests', 'inbox_decisions',
            'inbox_keys', 'knowledge_revisions', 'messages', 'notice_items', 'notice_recipients', 'notice_rounds', 'notices', 'outbox',
            'pending_suggestions', 'question_days', 'report_days', 'report_kept_days', 'rolled_days', 'send_budget', 'send_pace', 'subscriber_chats',
            'subscribers', 'ticket_counters', 'ticket_events', 'ticket_messages', 'tickets', 'users',
          ]);
        } finally {
          await Promise.all(stores.map((s) => s.close()));
          await neighbour.cleanup();
          await t.cleanup();
        }
      });
    });
  },
);
