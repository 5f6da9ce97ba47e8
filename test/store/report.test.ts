import { describe, expect } from 'vitest';
import { checkProfileJson } from '../../src/core/notices/profile.js';
import { planRecipients } from '../../src/core/notices/recipients.js';
import { PICKED, busiestHours, repeatWindow, ticketFigures, type TicketFact } from '../../src/core/report/figures.js';
import { parseWeek, startOfChinaDay } from '../../src/core/report/period.js';
import type { TicketCategory } from '../../src/core/tickets/intent.js';
import type { Rating } from '../../src/core/tickets/lifecycle.js';
import { DEFAULT_TICKET_RULES } from '../../src/core/tickets/rules.js';
import { WEEKDAYS_ONLY, chinaDate, type WorkCalendar } from '../../src/core/tickets/workdays.js';
import { keepFinalDays, serviceReport } from '../../src/report/service.js';
import { BOTH_DATABASES } from '../helpers/databases.js';
import { eachTestStore, insertTicket, insertTicketEvent } from '../helpers/store.js';
import { uscc } from '../helpers/taxpayers.js';

const week = parseWeek('2026-W48');
if (!week.ok) throw new Error(week.message);
const W48 = week.value;
/** Beijing time, for readable fixtures. */
const bj = (text: string): Date => new Date(`${text}+08:00`);

describe.each(BOTH_DATABASES)('service report figures from the store ($label)', ({ pg: onPg }) => {
  const db = eachTestStore(onPg);
  const test = db.test;

  /** Records an inbound message with a decision whose reason is given (null: chatter, no decision). */
  async function say(chat: { id: string; channel: string }, userId: string, at: string, reason: string | null, n: number): Promise<void> {
    const answered = reason === 'answered' || reason === 'referred' || reason === PICKED;
    await db.store.messages.record({
      channel: chat.channel, chatId: chat.id, userId, direction: 'in', channelMessageId: `m${n}`, text: `问题 ${n}`, at: bj(at),
      decision: reason === null ? null : { answered, entryId: answered ? 'vat-rate' : null, score: answered ? 9 : 1, reason },
    });
  }

  test('questions, deflection, suggestion acceptance and busiest hours of a week with known answers', async () => {
    const group = { channel: 'telegram', id: await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '-100', kind: 'group' }) };
    const privateChat = { channel: 'telegram', id: await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '1', kind: 'private' }) };
    const [u1, u2, u3] = await Promise.all(['1', '2', '3'].map((id) => db.store.identities.upsertUser({ channel: 'telegram', channelUserId: id, displayName: `用户${id}` })));
    let n = 0;
    const s = (chat: typeof group, user: string, at: string, reason: string | null) => say(chat, user as string, at, reason, n++);
    // The week before: not counted.
    await s(privateChat, u1 as string, '2026-11-22T23:59:00', 'answered');
    // u1 in private: an answer, an offer picked from after some chatter, a referral.
    await s(privateChat, u1 as string, '2026-11-23T09:10:00', 'answered');
    await s(privateChat, u1 as string, '2026-11-23T10:00:00', 'uncertain');
    await s(privateChat, u1 as string, '2026-11-23T10:01:00', null);
    await s(privateChat, u1 as string, '2026-11-23T10:02:00', PICKED);
    await s(privateChat, u1 as string, '2026-11-25T09:30:00', 'referred');
    // u2 in the group: an offer not taken (the next question is another one), a greeting.
    await s(group, u2 as string, '2026-11-24T14:00:00', 'uncertain');
    await s(group, u3 as string, '2026-11-24T14:01:00', 'small_talk');
    await s(group, u2 as string, '2026-11-24T14:05:00', 'no_match');
    await s(group, u2 as string, '2026-11-24T14:06:00', 'small_talk');
    // u3: an offer late on Sunday, picked just after midnight: accepted, in this week's figures.
    await s(group, u3 as string, '2026-11-29T23:50:00', 'uncertain');
    await s(group, u3 as string, '2026-11-30T00:05:00', PICKED);
    // The bot's own message is never a question.
    await db.store.messages.record({ channel: 'telegram', chatId: group.id, direction: 'out', text: '您好', at: bj('2026-11-24T14:00:01') });

    const report = await serviceReport(db.store, W48, { calendar: WEEKDAYS_ONLY, rules: DEFAULT_TICKET_RULES }, bj('2026-11-30T09:00:00'));
    expect(report.questions).toEqual({
      total: 6, answered: 1, referred: 1, offered: 3, accepted: 2, declined: 1,
      deflection: { count: 4, of: 6, rate: 0.6667 },
      acceptance: { count: 2, of: 3, rate: 0.6667 },
    });
    expect(busiestHours(report.hours, 4)).toEqual([{ hour: 9, count: 2 }, { hour: 14, count: 2 }, { hour: 10, count: 1 }, { hour: 23, count: 1 }]);
    expect(report.hours.reduce((a, b) => a + b, 0)).toBe(6);

    // Days whose next steps are all known (to the end of the following day) were kept; Sunday was not.
    expect([...(await db.store.report.keptDays('2026-11-16', '2026-11-30'))].sort()).toEqual(['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28']);
    // Kept figures stand when the messages go (retention, a person's deletion): the same report again.
    await db.raw.deleteFrom('messages').where('created_at', '<', bj('2026-11-29T00:00:00').toISOString()).execute();
    const again = await serviceReport(db.store, W48, { calendar: WEEKDAYS_ONLY, rules: DEFAULT_TICKET_RULES }, bj('2026-12-02T09:00:00'));
    expect(again.questions).toEqual(report.questions);
    expect(again.hours).toEqual(report.hours);
    expect((await db.store.report.keptDays('2026-11-29', '2026-11-29')).size).toBe(1);
  });

  test('the hourly maintenance keeps every final day not kept yet', async () => {
    const chat = await db.store.identities.upsertChat({ channel: 'wechat', channelChatId: 'wxid_a', kind: 'private' });
    const user = await db.store.identities.upsertUser({ channel: 'wechat', channelUserId: 'wxid_a' });
    await say({ channel: 'wechat', id: chat }, user, '2026-11-20T10:00:00', 'answered', 1);
    expect(await keepFinalDays(db.store, bj('2026-11-22T12:00:00'), 5)).toBe(4);
    expect([...(await db.store.report.keptDays('2026-11-01', '2026-11-30'))].sort()).toEqual(['2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20']);
    expect(await db.store.report.kept('2026-11-20', '2026-11-20')).toEqual([{ hour: 10, reason: 'answered', picked: false, escalated: false, count: 1 }]);
    expect(await keepFinalDays(db.store, bj('2026-11-22T13:00:00'), 5)).toBe(0);
  });

  test('tickets: escalation from an answer or a picked offer, SLA in working days, medians, CSAT and the 不满意 follow-up', async () => {
    const group = await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '-100', kind: 'group' });
    const chat = { channel: 'telegram', id: group };
    const [u1, u2, u3] = await Promise.all(['1', '2', '3'].map((id) => db.store.identities.upsertUser({ channel: 'telegram', channelUserId: id, displayName: `用户${id}` }))) as [string, string, string];
    const { account } = await db.store.accounts.create('李科长', 'staff');
    // u1: answered, then asks for a person; u2: picks from an offer, then asks for a person; u3: answered, content.
    await say(chat, u1, '2026-11-23T09:00:00', 'answered', 1);
    await say(chat, u2, '2026-11-24T10:00:00', 'uncertain', 2);
    await say(chat, u2, '2026-11-24T10:01:00', PICKED, 3);
    await say(chat, u3, '2026-11-25T09:00:00', 'answered', 4);
    const base = { chatId: group, channelChatId: '-100', chatKind: 'group' as const };
    await insertTicket(db.raw, {
      ...base, id: 't1', number: 'CF-20261123-0001', userId: u1, channelUserId: '1', createdAt: bj('2026-11-23T09:05:00'), state: 'followed_up', assignee: account.id,
      firstResponseAt: bj('2026-11-23T10:00:00'), resolvedAt: bj('2026-11-24T09:00:00'), rating: 3,
    });
    await insertTicketEvent(db.raw, 't1', 'rated', 'user', bj('2026-11-24T10:00:00'), { rating: 3 });
    await insertTicketEvent(db.raw, 't1', 'reopened', account.id, bj('2026-11-25T09:00:00'));
    await insertTicket(db.raw, { ...base, id: 't2', number: 'CF-20261124-0001', userId: u2, channelUserId: '2', createdAt: bj('2026-11-24T10:03:00'), category: '服务态度类' });

    const report = await serviceReport(db.store, W48, { calendar: WEEKDAYS_ONLY, rules: DEFAULT_TICKET_RULES }, bj('2026-12-02T09:00:00'));
    expect(report.questions).toMatchObject({ total: 3, accepted: 1, deflection: { count: 1, of: 3 } });
    const t = report.tickets;
    expect(t.escalation).toEqual({ count: 2, of: 3, rate: 0.6667 });
    expect(t.byCategory).toEqual([{ key: '服务态度类', count: 1 }, { key: '政策咨询类', count: 1 }]);
    expect(t.sla.firstResponse).toEqual({ count: 1, of: 2, rate: 0.5, running: 0 });
    expect(t.sla.resolution).toEqual({ count: 1, of: 1, rate: 1, running: 1 });
    expect([t.medianFirstResponseMinutes, t.medianResolutionMinutes]).toEqual([55, 1435]);
    expect(t.csat.map((c) => c.count)).toEqual([0, 0, 1]);
    expect(await db.store.report.requesters({ from: bj('2026-11-01T00:00:00'), to: W48.to }, 1)).toEqual(expect.arrayContaining([
      { userId: '1', userName: '王先生', channel: 'telegram', tickets: 1 }, { userId: '2', userName: '王先生', channel: 'telegram', tickets: 1 },
    ]));
    expect(await db.store.report.requesters({ from: bj('2026-11-01T00:00:00'), to: W48.to }, 2)).toEqual([]);
    expect(t.dissatisfied).toEqual([{ number: 'CF-20261123-0001', category: '政策咨询类', assignee: '李科长', ratedAt: bj('2026-11-24T10:00:00'), followUpAt: bj('2026-11-25T09:00:00'), followUpBy: '李科长' }]);
  });

  test('the ticket figures the database counts are those of the tickets themselves (300 random tickets, a calendar with 调休)', async () => {
    const chatId = await db.store.identities.upsertChat({ channel: 'telegram', channelChatId: '-100', kind: 'group' });
    const userId = await db.store.identities.upsertUser({ channel: 'telegram', channelUserId: '1' });
    const { account } = await db.store.accounts.create('李科长', 'staff');
    const calendar: WorkCalendar = { years: new Set([2026]), holidays: new Set(['2026-11-25']), workdays: new Set(['2026-11-28']) };
    let seed = 12;
    const rand = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const categories: TicketCategory[] = ['政策咨询类', '服务质效类', '服务态度类', '侵害权益类'];
    /** An instant some hours after `from`; one time in five exactly at a Beijing midnight, where a deadline falls. */
    const later = (from: Date, hours: number): Date => {
      const at = new Date(from.getTime() + rand() * hours * 3_600_000);
      return rand() < 0.2 ? new Date(startOfChinaDay(chinaDate(at)).getTime() + 86_400_000) : at;
    };
    const facts: TicketFact[] = [];
    for (let i = 0; i < 300; i++) {
      const id = `t${i}`;
      const createdAt = rand() < 0.1 ? startOfChinaDay(`2026-11-${20 + Math.floor(rand() * 10)}`) : later(bj('2026-11-18T00:00:00'), 14 * 24);
      const firstResponseAt = rand() < 0.8 ? later(createdAt, 72) : null;
      const resolvedAt = firstResponseAt && rand() < 0.7 ? later(firstResponseAt, 120) : null;
      const rating = resolvedAt && rand() < 0.6 ? ((1 + Math.floor(rand() * 3)) as Rating) : null;
      const category = categories[Math.floor(rand() * categories.length)] as TicketCategory;
      const channel = rand() < 0.7 ? 'telegram' : 'wechat';
      await insertTicket(db.raw, {
        id, number: `CF-20261100-${String(i).padStart(4, '0')}`, chatId, userId, channelChatId: `c${i}`, channelUserId: `u${i % 40}`, channel, category,
        state: resolvedAt ? 'resolved' : 'in_progress', createdAt, firstResponseAt, resolvedAt, rating,
      });
      let ratedAt: Date | null = null;
      let followUpAt: Date | null = null;
      if (rating !== null && resolvedAt) {
        // Some rated twice: the later rating, after the week, is the ticket's; the week counts its last rating in the week.
        ratedAt = later(resolvedAt, 48);
        await insertTicketEvent(db.raw, id, 'rated', 'user', ratedAt, { rating });
        if (rand() < 0.2) await insertTicketEvent(db.raw, id, 'rated', 'user', bj('2026-12-05T09:00:00'), { rating });
        if (rating === 3 && rand() < 0.6) {
          await insertTicketEvent(db.raw, id, 'noted', 'user', new Date(ratedAt.getTime() + 60_000));
          followUpAt = new Date(ratedAt.getTime() + 3_600_000);
          await insertTicketEvent(db.raw, id, 'reopened', account.id, followUpAt);
        }
      }
      const inWeek = ratedAt !== null && ratedAt >= W48.from && ratedAt < W48.to;
      facts.push({
        number: `CF-20261100-${String(i).padStart(4, '0')}`, category, channel, userId: `u${i % 40}`, userName: '王先生', assignee: null, createdAt, firstResponseAt, resolvedAt,
        rating, ratedAt: inWeek ? ratedAt : null, followUpAt, followUpBy: followUpAt ? '李科长' : null,
      });
    }
    const asOf = bj('2026-11-27T12:00:00');
    const report = await serviceReport(db.store, W48, { calendar, rules: DEFAULT_TICKET_RULES }, asOf);
    const repeat = await db.store.report.requesters(repeatWindow(W48, DEFAULT_TICKET_RULES), DEFAULT_TICKET_RULES.repeatRequester.tickets);
    const expected = ticketFigures(facts, repeat, report.questions.total, W48, DEFAULT_TICKET_RULES, calendar, asOf);
    expect(report.tickets).toEqual(expected);
    // Enough of each kind that a wrong count would show.
    expect(expected.total).toBeGreaterThan(100);
    expect(expected.sla.firstResponse.running).toBeGreaterThan(0);
    expect(expected.sla.resolution.count).toBeGreaterThan(10);
    expect(expected.dissatisfied.filter((d) => d.followUpBy).length).toBeGreaterThan(0);
  });

  test('read rates by office count the recipients of notices sent in the period', async () => {
    const profiles = [1, 2, 3, 4].map((i) => {
      const checked = checkProfileJson({ taxpayerId: uscc(i), name: `企业${i}`, taxpayerType: '一般纳税人', office: i <= 2 ? '第一分局' : '第二分局', chats: [{ channel: 'telegram', chatId: String(100 + i) }] });
      if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
      return checked.value;
    });
    await db.store.subscribers.upsert(profiles, bj('2026-11-01T09:00:00'));
    const notice = await db.store.notices.create({ title: '提醒', text: '请按期申报', audience: {}, topics: [], items: [], reminders: [] }, 4, null, bj('2026-11-20T09:00:00'));
    const plan = planRecipients(await db.store.subscribers.candidates({}, []), { audience: {}, topics: [], items: [] });
    await db.store.notices.addRecipients(notice.id, plan.recipients, bj('2026-11-24T10:00:00'));
    const earlier = await db.store.notices.create({ title: '上周', text: '旧通知', audience: {}, topics: [], items: [], reminders: [] }, 4, null, bj('2026-11-16T09:00:00'));
    await db.store.notices.addRecipients(earlier.id, plan.recipients, bj('2026-11-17T10:00:00'));
    // Read: one of the first office, both of the second; of last week's notice, everyone (not counted).
    await db.raw.updateTable('notice_recipients').set({ read_at: bj('2026-11-24T11:00:00').toISOString() })
      .where('notice_id', '=', notice.id).where('channel_chat_id', 'in', ['101', '103', '104']).execute();
    await db.raw.updateTable('notice_recipients').set({ read_at: bj('2026-11-17T11:00:00').toISOString() }).where('notice_id', '=', earlier.id).execute();

    const report = await serviceReport(db.store, W48, { calendar: WEEKDAYS_ONLY, rules: DEFAULT_TICKET_RULES }, bj('2026-11-30T09:00:00'));
    expect(report.reads).toEqual({
      byOffice: [{ office: '第一分局', targeted: 2, read: 1, readRate: 0.5 }, { office: '第二分局', targeted: 2, read: 2, readRate: 1 }],
      total: { count: 3, of: 4, rate: 0.75 },
    });
  });
});
