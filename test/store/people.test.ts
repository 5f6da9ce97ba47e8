import { describe, expect } from 'vitest';
import { checkProfileJson } from '../../src/core/notices/profile.js';
import { planRecipients } from '../../src/core/notices/recipients.js';
import { OUTBOX_PRIORITY } from '../../src/store/index.js';
import { subjectHash } from '../../src/store/people.js';
import { BOTH_DATABASES } from '../helpers/databases.js';
import { uscc } from '../helpers/taxpayers.js';
import { eachTestStore, insertTicket, insertTicketEvent } from '../helpers/store.js';
import { REDACTED } from '../../src/store/migrations.js';

const T0 = new Date('2026-11-23T01:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const WANG = { channel: 'telegram', userId: '523456789' };

describe.each(BOTH_DATABASES)("a person's data on request ($label)", ({ pg: onPg }) => {
  const db = eachTestStore(onPg);
  const test = db.test;

  /**
   * 王先生 (523456789) asks in a group and in private, is linked to a profile, turned a topic off and got
   * a notice; 李女士 (623456789) asks in the same group.
   */
  async function seed(): Promise<{ groupId: string; noticeId: string }> {
    const groupId = await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '-100', kind: 'group', title: '纳税人之家' });
    const privateId = await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '523456789', kind: 'private' });
    const wang = await db.store.identities.upsertUser({ channel: 'telegram', channelUserId: '523456789', displayName: '王先生' });
    const li = await db.store.identities.upsertUser({ channel: 'telegram', channelUserId: '623456789', displayName: '李女士' });
    const decision = { answered: true, entryId: 'vat-rate', score: 9, reason: 'answered' };
    const reply = (chatId: string, channelChatId: string, text: string, replyTo: string, minute: number) => ({
      channel: 'telegram', chatId, channelChatId, kind: 'reply', priority: OUTBOX_PRIORITY.reply, text, replyTo, at: at(minute),
    });
    await db.store.intake.commit({
      inbound: { channel: 'telegram', chatId: groupId, userId: wang, direction: 'in', channelMessageId: 'g1', text: '@春风 增值税税率是多少', at: at(0), decision },
      outbound: [reply(groupId, '-100', '@王先生 【增值税税率】13%……', 'g1', 0)],
    });
    await db.store.intake.commit({
      inbound: { channel: 'telegram', chatId: groupId, userId: li, direction: 'in', channelMessageId: 'g2', text: '@春风 个税怎么申报', at: at(1), decision },
      outbound: [reply(groupId, '-100', '@李女士 【个税申报】……', 'g2', 1)],
    });
    await db.store.intake.commit({
      inbound: { channel: 'telegram', chatId: privateId, userId: wang, direction: 'in', channelMessageId: 'p1', text: '我的手机 13812345678 怎么绑定', at: at(2), decision },
      outbound: [reply(privateId, '523456789', '请发送 绑定 + 分局给您的绑定码', 'p1', 2)],
    });
    await db.store.suggestions.put({ channel: 'telegram', chatId: privateId, userId: wang }, ['vat-rate'], 600_000, at(2));
    const checked = checkProfileJson({ taxpayerId: uscc(1), name: '济南甲公司', taxpayerType: '一般纳税人', office: '第一分局', chats: [{ channel: 'telegram', chatId: '523456789' }] });
    if (!checked.ok) throw new Error('profile');
    await db.store.subscribers.upsert([checked.value], at(3));
    await db.store.subscribers.setTopic({ channel: 'telegram', chatId: '523456789' }, '出口退税', false, at(4));
    const notice = await db.store.notices.create({ title: '申报提醒', text: '请按期申报', audience: {}, topics: [], items: [], reminders: [] }, 1, null, at(5));
    await db.store.notices.addRecipients(notice.id, planRecipients(await db.store.subscribers.candidates({}, []), { audience: {}, topics: [], items: [] }).recipients, at(6));
    await db.raw.updateTable('notice_recipients').set({ read_at: at(7).toISOString() }).execute();
    return { groupId, noticeId: notice.id };
  }

  test('the export holds their messages, the replies to them, their private chat, links, choices and deliveries; it is logged', async () => {
    await seed();
    const data = await db.store.people.export(WANG, { actor: 'account:a1', note: '申请 2026-001', now: at(10) });
    expect(data?.person).toEqual({ channel: 'telegram', userId: '523456789', displayName: '王先生', firstSeenAt: expect.any(String) });
    expect(data?.messages.map((m) => [m.chatId, m.direction, m.text])).toEqual([
      ['-100', 'in', '@春风 增值税税率是多少'],
      ['-100', 'out', '@王先生 【增值税税率】13%……'],
      // Numbers are masked at rest (issue 12's insight): the export holds what is stored.
      ['523456789', 'in', '我的手机 [手机号] 怎么绑定'],
      ['523456789', 'out', '请发送 绑定 + 分局给您的绑定码'],
    ]);
    expect(data?.chats.map((c) => c.chatId).sort()).toEqual(['-100', '523456789']);
    expect(data?.bindings).toEqual([{ chatId: '523456789', taxpayerId: uscc(1), name: '济南甲公司', office: '第一分局', via: 'staff', linkedAt: at(3).toISOString() }]);
    expect(data?.topics).toEqual([{ chatId: '523456789', topic: '出口退税', subscribed: false, updatedAt: at(4).toISOString() }]);
    expect(data?.deliveries).toEqual([expect.objectContaining({ title: '申报提醒', chatId: '523456789', readAt: at(7).toISOString() })]);
    expect(await db.store.people.requests(10)).toEqual([{
      id: expect.any(String), kind: 'export', channel: 'telegram', subjectHint: '52*****89', actor: 'account:a1', note: '申请 2026-001',
      counts: { messages: 4, chats: 2, bindings: 1, topics: 1, codes: 0, deliveries: 1, tickets: 0 }, at: at(10),
    }]);
    expect(await db.store.people.export({ channel: 'wechat', userId: '523456789' }, { actor: 'cli:root' })).toBeNull();
    expect(await db.store.people.requests(10)).toHaveLength(1);
  });

  test('deletion removes them and what names them, keeps others and the read figures, and is logged without their id', async () => {
    const { groupId, noticeId } = await seed();
    const counts = await db.store.people.delete(WANG, { actor: 'cli:clerk', note: '本人来电要求删除', now: at(20) });
    expect(counts).toEqual({ outbox: 2, messages: 4, suggestions: 1, bindings: 1, topics: 1, codes: 0, deliveries: 1, chats: 1, person: 1 });
    expect(await db.store.people.export(WANG, { actor: 'cli:clerk' })).toBeNull();
    // 李女士's question and its reply are untouched.
    expect((await db.store.messages.recent(groupId, 10)).map((m) => m.text)).toEqual(['@春风 个税怎么申报', '@李女士 【个税申报】……']);
    // The delivery row stays, read, under a chat id that names nobody; the office's profile stays.
    const rows = await db.store.notices.recipients(noticeId);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.chatId.startsWith('已删除:')).toBe(true);
    expect(rows[0]?.readAt).toEqual(at(7));
    expect((await db.store.subscribers.get(uscc(1)))?.chats).toEqual([]);
    const [log] = await db.store.people.requests(10);
    expect(log).toMatchObject({ kind: 'delete', subjectHint: '52*****89', actor: 'cli:clerk', note: '本人来电要求删除', counts });
    const stored = await db.raw.selectFrom('data_requests').selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain('523456789');
    expect(stored[0]?.subject_hash).toBe(subjectHash(WANG));
    // Deleting again finds nobody.
    expect(await db.store.people.delete(WANG, { actor: 'cli:clerk' })).toBeNull();
  });

  test('their ticket stays, with its audit rows, but names a stand-in and keeps none of their words', async () => {
    await seed();
    const wang = await db.store.identities.upsertUser({ channel: 'telegram', channelUserId: '523456789' });
    const privateId = await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '523456789', kind: 'private' });
    const [asked] = (await db.store.messages.recent(privateId, 10)).filter((m) => m.direction === 'in');
    await insertTicket(db.raw, {
      id: 't1', number: 'CF-20261123-0001', chatId: privateId, userId: wang, channelChatId: '523456789', channelUserId: '523456789', createdAt: at(8),
      state: 'followed_up', rating: 3, ratingComment: '我的电话 13812345678 没人回',
    });
    const said = (id: string, sender: 'user' | 'agent', text: string, messageId: string | null, transcript: number) => db.raw.insertInto('ticket_messages')
      .values({ id, ticket_id: 't1', sender, account_id: null, message_id: messageId, transcript, text, at: at(9).toISOString() }).execute();
    await said('tm1', 'user', asked?.text ?? '', asked?.id ?? null, 1);
    await said('tm2', 'agent', '您好，已为您核实', null, 0);
    await insertTicketEvent(db.raw, 't1', 'rated', 'user', at(10), { rating: 3, comment: '我的电话 13812345678 没人回' });
    await insertTicketEvent(db.raw, 't1', 'claimed', 'acc-1', at(9), { account: 'acc-1' });

    expect((await db.store.people.export(WANG, { actor: 'cli:clerk' }))?.tickets).toEqual([expect.objectContaining({
      number: 'CF-20261123-0001', ratingComment: '我的电话 13812345678 没人回', messages: [{ from: 'user', text: '我的手机 [手机号] 怎么绑定', at: at(9).toISOString() }, { from: 'agent', text: '您好，已为您核实', at: at(9).toISOString() }],
    })]);
    const counts = await db.store.people.delete(WANG, { actor: 'cli:clerk', note: '申请', now: at(20) });
    expect(counts).toMatchObject({ tickets: 1, redacted: 1, messages: 4, person: 1 });
    const ticket = await db.raw.selectFrom('tickets').selectAll().where('id', '=', 't1').executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ number: 'CF-20261123-0001', rating: 3, rating_comment: null, user_name: null });
    expect(ticket.channel_user_id.startsWith('已删除:')).toBe(true);
    expect(ticket.channel_chat_id).toBe(ticket.channel_user_id);
    const messages = await db.raw.selectFrom('ticket_messages').select(['id', 'text', 'message_id']).orderBy('id').execute();
    expect(messages).toEqual([{ id: 'tm1', text: REDACTED, message_id: null }, { id: 'tm2', text: '您好，已为您核实', message_id: null }]);
    const events = await db.raw.selectFrom('ticket_events').select(['type', 'actor', 'data']).orderBy('at').execute();
    expect(events).toEqual([{ type: 'claimed', actor: 'acc-1', data: '{"account":"acc-1"}' }, { type: 'rated', actor: 'user', data: '{"rating":3}' }]);
    expect(JSON.stringify({ ticket, messages, events })).not.toMatch(/523456789|13812345678/);
    // The audit trail is still append-only for everything else.
    await expect(db.raw.updateTable('ticket_messages').set({ text: '改过' }).where('id', '=', 'tm2').execute()).rejects.toThrow(/只能追加/);
    await expect(db.raw.updateTable('ticket_events').set({ data: '{}' }).where('type', '=', 'claimed').execute()).rejects.toThrow(/只能追加/);
    await expect(db.raw.deleteFrom('ticket_messages').where('id', '=', 'tm1').execute()).rejects.toThrow(/只能追加/);
  });

  test('finds people by part of their name or their exact id', async () => {
    await seed();
    expect((await db.store.people.search('王', 10)).map((p) => p.userId)).toEqual(['523456789']);
    expect((await db.store.people.search('623456789', 10)).map((p) => p.displayName)).toEqual(['李女士']);
    expect(await db.store.people.search('23456', 10)).toEqual([]);
    expect(await db.store.people.search('%', 10)).toEqual([]);
  });
});
