import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TicketConflict, type Actor } from '../../src/core/tickets/lifecycle.js';
import { DEFAULT_TICKET_RULES } from '../../src/core/tickets/rules.js';
import { OUTBOX_PRIORITY, isOpenConflict, openStore, type NewTicket, type Store } from '../../src/store/index.js';
import { connect } from '../../src/store/connect.js';
import { runTicketJobs } from '../../src/jobs/tickets.js';
import { storeTargets, type StoreTarget } from '../helpers/databases.js';

type Target = StoreTarget;

const TARGETS = storeTargets('chunfeng_tickets');

/** 2026-11-29 10:00 in Beijing. */
const T0 = new Date('2026-11-29T02:00:00.000Z');
const RULES = DEFAULT_TICKET_RULES;

describe.each(TARGETS)('tickets on $label', ({ label, make }) => {
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

  const requester = async (user: string, chat = `chat-${user}`, s: Store = store): Promise<NewTicket> => {
    const chatRef = await s.identities.upsertChat({ channel: 'telegram', channelChatId: chat, kind: 'private' });
    const userRef = await s.identities.upsertUser({ channel: 'telegram', channelUserId: user, displayName: `用户${user}` });
    return {
      channel: 'telegram', chatRef, userRef, chatId: chat, userId: user, chatKind: 'private', userName: `用户${user}`, source: 'human',
      category: '政策咨询类', priority: 'normal', dueAt: new Date(T0.getTime() + 86_400_000), firstResponseDueAt: new Date(T0.getTime() + 3600_000), actor: 'user', at: T0,
    };
  };
  const agent = async (name: string): Promise<Actor> => ({ kind: 'account', id: (await store.accounts.create(name, 'agent')).account.id, admin: false });

  it('numbers tickets per China day without gaps, also when two instances open them at the same moment', async () => {
    const other = await open();
    const news = await Promise.all(Array.from({ length: 12 }, (_, i) => requester(`u${i}`)));
    const results = await Promise.all(news.map((n, i) => (i % 2 ? store : other).tickets.open(n)));
    expect(results.every((r) => r.created)).toBe(true);
    const numbers = results.map((r) => r.ticket.number).sort();
    expect(numbers).toEqual(Array.from({ length: 12 }, (_, i) => `CF-20261129-${String(i + 1).padStart(4, '0')}`));
    // The next China day starts again at 1 (16:00 UTC is midnight in Beijing).
    const tomorrow = await store.tickets.open({ ...(await requester('late')), at: new Date('2026-11-29T16:00:00.000Z') });
    expect(tomorrow.ticket.number).toBe('CF-20261130-0001');
  });

  it('keeps one open ticket per user and chat: opening again returns it, and a failed unit gives its number back', async () => {
    const n = await requester('a');
    const first = await store.tickets.open(n);
    const again = await store.tickets.open({ ...n, at: new Date(T0.getTime() + 1000) });
    expect(again).toMatchObject({ created: false, ticket: { id: first.ticket.id, number: 'CF-20261129-0001' } });
    // The refused unit bumped the counter inside itself and was undone: the next number is 2.
    const b = await store.tickets.open(await requester('b'));
    expect(b.ticket.number).toBe('CF-20261129-0002');
    // The same user in another chat may have a ticket there too.
    const elsewhere = await store.tickets.open(await requester('a', 'group-1'));
    expect(elsewhere.created).toBe(true);
    // Two instances opening for the same user at the same moment: one ticket.
    const other = await open();
    const c = await requester('c');
    const both = await Promise.all([store.tickets.open(c), other.tickets.open(c)]);
    expect(both.filter((r) => r.created)).toHaveLength(1);
    expect(both[0].ticket.id).toBe(both[1].ticket.id);
  });

  it('lets exactly one of two agents claim a ticket at the same moment, across two instances', async () => {
    const other = await open();
    const [li, wang] = [await agent('李工'), await agent('王工')];
    for (let round = 0; round < 5; round++) {
      const { ticket } = await store.tickets.open(await requester(`r${round}`));
      const outcomes = await Promise.allSettled([
        store.tickets.apply(ticket.id, { type: 'claim' }, li, T0, RULES),
        other.tickets.apply(ticket.id, { type: 'claim' }, wang, T0, RULES),
      ]);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(TicketConflict);
      expect((lost[0]?.reason as Error).message).toBe('工单已被其他工作人员认领');
      const detail = await store.tickets.get(ticket.id);
      expect(detail?.events.filter((e) => e.type === 'claimed')).toHaveLength(1);
      expect(detail?.state).toBe('assigned');
    }
  });

  it('sends an agent reply through the outbox with the ticket message, and refuses what the state does not allow', async () => {
    const li = await agent('李工');
    const n = await requester('a');
    const { ticket } = await store.tickets.open(n);
    await expect(store.tickets.apply(ticket.id, { type: 'reply' }, li, T0, RULES)).rejects.toThrow('请先认领工单再回复');
    await store.tickets.apply(ticket.id, { type: 'claim' }, li, T0, RULES);
    const applied = await store.tickets.apply(ticket.id, { type: 'reply' }, li, T0, RULES, (t) => [{
      from: 'agent', text: '您好，已收到', outbound: { channel: t.channel, chatId: t.chatRef, channelChatId: t.chatId, kind: 'agent', priority: OUTBOX_PRIORITY.reply, text: '【李工】您好，已收到', at: T0 },
    }]);
    expect(applied?.ticket).toMatchObject({ state: 'in_progress', firstResponseAt: T0 });
    const row = await store.outbox.get(applied!.outboxIds[0]!);
    expect(row).toMatchObject({ state: 'pending', text: '【李工】您好，已收到', kind: 'agent' });
    const detail = await store.tickets.get(ticket.number);
    expect(detail?.messages.at(-1)).toMatchObject({ from: 'agent', text: '您好，已收到', accountId: li.kind === 'account' ? li.id : null, delivery: { state: 'pending', attempts: 0 } });
    expect(await store.tickets.apply('no-such', { type: 'claim' }, li, T0, RULES)).toBeNull();
  });

  it('copies the requester\'s last messages as the transcript', async () => {
    const n = await requester('a');
    for (let i = 0; i < 12; i++) {
      await store.messages.record({ channel: 'telegram', chatId: n.chatRef, userId: n.userRef, direction: 'in', channelMessageId: `m${i}`, text: `问题${i}`, at: new Date(T0.getTime() - (20 - i) * 1000) });
    }
    const { ticket } = await store.tickets.open(n);
    const detail = await store.tickets.get(ticket.id);
    expect(detail?.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `问题${i + 2}`));
    expect(detail?.messages.every((m) => m.transcript && m.from === 'user')).toBe(true);
  });

  it('refuses to change or delete audit rows and ticket messages, in the database itself', async () => {
    const li = await agent('李工');
    const { ticket } = await store.tickets.open(await requester('a'));
    await store.tickets.apply(ticket.id, { type: 'claim' }, li, T0, RULES);
    const { db } = await connect(target.url);
    try {
      await db.insertInto('ticket_messages').values({ id: 'm1', ticket_id: ticket.id, sender: 'user', account_id: null, message_id: null, transcript: 0, text: '原话', at: T0.toISOString() }).execute();
      await expect(sql`update ticket_events set actor = 'someone' where ticket_id = ${ticket.id}`.execute(db)).rejects.toThrow(/只能追加/);
      await expect(sql`delete from ticket_events where ticket_id = ${ticket.id}`.execute(db)).rejects.toThrow(/只能追加/);
      await expect(sql`update ticket_messages set text = '改过' where id = 'm1'`.execute(db)).rejects.toThrow(/只能追加/);
      await expect(sql`delete from ticket_messages where id = 'm1'`.execute(db)).rejects.toThrow(/只能追加/);
    } finally {
      await db.destroy();
    }
    const detail = await store.tickets.get(ticket.id);
    expect(detail?.events.map((e) => [e.type, e.actor])).toEqual([['registered', 'user'], ['claimed', li.kind === 'account' ? li.id : '']]);
    expect(detail?.messages.map((m) => m.text)).toEqual(['原话']);
  });

  it('tells watchers of changes made by any instance', async () => {
    const other = await open();
    const heard: string[] = [];
    const stop = store.tickets.watch((id) => heard.push(id));
    await store.listening();
    const { ticket } = await other.tickets.open(await requester('a'));
    const li = await agent('李工');
    await other.tickets.apply(ticket.id, { type: 'claim' }, li, T0, RULES);
    if (store.kind === 'sqlite') {
      // One process per SQLite file: the instance that wrote tells its own watchers.
      expect(heard).toEqual([]);
      const own = await store.tickets.open(await requester('b'));
      expect(heard).toEqual([own.ticket.id]);
    } else {
      await expect.poll(() => heard.length).toBeGreaterThanOrEqual(2);
      expect(new Set(heard)).toEqual(new Set([ticket.id]));
    }
    stop();
  });

  it('counts open and overdue tickets and finds what the schedule must do', async () => {
    const li = await agent('李工');
    const a = await store.tickets.open(await requester('a'));
    await store.tickets.open(await requester('b'));
    const later = new Date(T0.getTime() + 2 * 3600_000);
    expect(await store.tickets.counts(T0)).toEqual({ open: 2, overdue: 0 });
    expect(await store.tickets.counts(later)).toEqual({ open: 2, overdue: 2 });
    const due = await store.tickets.due(later, T0, T0);
    expect(due.overdue).toHaveLength(2);
    expect(await store.tickets.flagOverdue(a.ticket.id, later)).toBe(true);
    expect(await store.tickets.flagOverdue(a.ticket.id, later)).toBe(false);
    expect((await store.tickets.due(later, T0, T0)).overdue).toHaveLength(1);
    await store.tickets.apply(a.ticket.id, { type: 'claim' }, li, T0, RULES);
    await store.tickets.apply(a.ticket.id, { type: 'resolve', resolution: '已答复' }, li, T0, RULES);
    expect((await store.tickets.due(later, later, T0)).followUp.map((t) => t.id)).toEqual([a.ticket.id]);
    expect(isOpenConflict(new Error('x'))).toBe(false);
  });
});

describe.each(TARGETS)('the ticket schedule on $label', ({ label, make }) => {
  if (!make) {
    it.skip(label, () => undefined);
    return;
  }
  let target: Target;
  let store: Store;
  beforeEach(async () => {
    target = await make();
    store = await openStore(target.url);
  });
  afterEach(async () => {
    await store.close();
    await target.cleanup();
  });

  it('flags overdue tickets once, follows up answers not rated in three days, archives a week later, and lets two instances run it together', async () => {
    const other = await openStore(target.url);
    try {
      const chatRef = await store.identities.upsertChat({ channel: 'telegram', channelChatId: 'c', kind: 'private' });
      const opening = async (user: string) => {
        const userRef = await store.identities.upsertUser({ channel: 'telegram', channelUserId: user });
        return (await store.tickets.open({
          channel: 'telegram', chatRef, userRef, chatId: 'c', userId: user, chatKind: 'private', userName: null, source: 'human', category: '政策咨询类', priority: 'normal',
          dueAt: new Date(T0.getTime() + 86_400_000), firstResponseDueAt: new Date(T0.getTime() + 86_400_000), actor: 'user', at: T0,
        })).ticket;
      };
      const late = await opening('a');
      const answered = await opening('b');
      const li = { kind: 'account', id: (await store.accounts.create('李工', 'agent')).account.id, admin: false } as const;
      await store.tickets.apply(answered.id, { type: 'claim' }, li, T0, RULES);
      await store.tickets.apply(answered.id, { type: 'resolve', resolution: '已答复' }, li, T0, RULES);

      const day = (n: number): Date => new Date(T0.getTime() + n * 86_400_000);
      expect(await runTicketJobs(store, RULES, day(0.5))).toEqual({ overdue: 0, followedUp: 0, archived: 0 });
      const both = await Promise.all([runTicketJobs(store, RULES, day(2)), runTicketJobs(other, RULES, day(2))]);
      expect(both.reduce((n, r) => n + r.overdue, 0)).toBe(1);
      const followed = await Promise.all([runTicketJobs(store, RULES, day(3.5)), runTicketJobs(other, RULES, day(3.5))]);
      expect(followed.reduce((n, r) => n + r.followedUp, 0)).toBe(1);
      expect(await runTicketJobs(store, RULES, day(11))).toEqual({ overdue: 0, followedUp: 0, archived: 1 });
      const [lateDetail, answeredDetail] = [await store.tickets.get(late.id), await store.tickets.get(answered.id)];
      expect(lateDetail?.events.map((e) => [e.type, e.actor])).toEqual([['registered', 'user'], ['overdue', 'system']]);
      expect(answeredDetail?.state).toBe('archived');
      expect(answeredDetail?.events.map((e) => e.type)).toEqual(['registered', 'claimed', 'resolved', 'followed_up', 'archived']);
      expect(answeredDetail?.events.find((e) => e.type === 'followed_up')?.data).toEqual({ rated: 0 });
    } finally {
      await other.close();
    }
  });
});
