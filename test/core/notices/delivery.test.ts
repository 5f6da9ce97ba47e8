import { describe, expect, it } from 'vitest';
import {
  chatKindOf, decideAck, deliveryFigures, noticeMessage, readAck, readButtonNotice, nextOfficeHour, nextReminderAt, nextRound, readOfficeHours, reminderDue, withinOfficeHours, type DeliveryRow,
} from '../../../src/core/notices/delivery.js';
import { excelCsv } from '../../../src/core/notices/report-csv.js';
import { WEEKDAYS_ONLY, type WorkCalendar } from '../../../src/core/tickets/workdays.js';

const ITEM = (entryId: string, body: string) => ({ entryId, title: `条目${entryId}`, category: '留抵退税', body, sources: ['财政部 税务总局公告2022年第14号'], audience: {} });

describe('notice messages', () => {
  const notice = { number: 7, title: '留抵退税提醒', text: '请及时办理。', items: [ITEM('a', '甲'.repeat(3000)), ITEM('b', '乙'.repeat(3000))] };

  it('carries only the recipient\'s items, each with its basis, and how to confirm', () => {
    const text = noticeMessage(notice, ['b'], 4096, true);
    expect(text.startsWith('【通知 7】留抵退税提醒\n\n请及时办理。\n\n1. 条目b\n乙')).toBe(true);
    expect(text).not.toContain('条目a');
    expect(text).toContain('依据：财政部 税务总局公告2022年第14号');
    expect(text.endsWith('看完请点“已读”，或回复“已读 7”。')).toBe(true);
    expect(noticeMessage(notice, [], 1500, false).endsWith('看完请回复“已读”确认（同时有几条通知时回复“已读 7”）。')).toBe(true);
  });

  it('fits the channel by shortening the items\' bodies, never the title or the confirm line', () => {
    const text = noticeMessage(notice, ['a', 'b'], 1500, false);
    expect(text.length).toBeLessThanOrEqual(1500);
    expect(text).toContain('1. 条目a');
    expect(text).toContain('2. 条目b');
    expect(text).toContain('篇幅所限');
    expect(text.endsWith('回复“已读 7”）。')).toBe(true);
  });
});

describe('read receipts', () => {
  it('reads 已读 with or without a number, and nothing else', () => {
    expect(readAck('已读')).toEqual({ number: null });
    expect(readAck(' 已读 12 ')).toEqual({ number: 12 });
    expect(readAck('已阅。')).toEqual({ number: null });
    expect(readAck('已读第3号')).toEqual({ number: 3 });
    expect(readAck('已读不回')).toBeNull();
    expect(readAck('我已读过了吗')).toBeNull();
  });

  it('confirms the only open notice, the one named, or lists them', () => {
    const open = [{ id: 'x', number: 3, title: '甲' }, { id: 'y', number: 5, title: '乙' }];
    expect(decideAck({ number: null }, open.slice(0, 1))).toEqual({ confirm: open[0] });
    expect(decideAck({ number: 5 }, open)).toEqual({ confirm: open[1] });
    expect(decideAck({ number: null }, open)).toEqual({ reply: '您有 2 条通知待确认。通知 3：甲\n通知 5：乙\n请回复“已读”加通知编号，例如“已读 3”。' });
    expect(decideAck({ number: 4 }, [])).toEqual({ reply: '没有待确认的通知 4，您收到的通知都已确认。' });
    expect(decideAck({ number: null }, [])).toEqual({ reply: '您目前没有待确认的通知。' });
  });

  it('takes a group\'s unaddressed 已读 while a notice is open there, and leaves it alone otherwise', () => {
    const open = [{ id: 'x', number: 3, title: '甲' }, { id: 'y', number: 5, title: '乙' }];
    expect(decideAck({ number: null }, open.slice(0, 1), false)).toEqual({ confirm: open[0] });
    expect(decideAck({ number: 5 }, open, false)).toEqual({ confirm: open[1] });
    expect(decideAck({ number: null }, open, false)).toMatchObject({ reply: expect.stringMatching(/^您有 2 条通知待确认。/) });
    expect(decideAck({ number: null }, [], false)).toEqual({ silent: true });
    expect(decideAck({ number: 4 }, [], false)).toEqual({ silent: true });
  });

  it('takes only its own button data', () => {
    expect(readButtonNotice('read:01a226d8-7532-7045-86a8-a3084b574d31')).toBe('01a226d8-7532-7045-86a8-a3084b574d31');
    expect(readButtonNotice('read:../../etc')).toBeNull();
  });
});

describe('office hours', () => {
  const hours = readOfficeHours('9:00-17:00')!;
  it('are working days within the hours, Beijing time', () => {
    expect(withinOfficeHours(new Date('2026-11-30T01:00:00Z'), hours, WEEKDAYS_ONLY)).toBe(true); // Mon 09:00
    expect(withinOfficeHours(new Date('2026-11-30T09:00:00Z'), hours, WEEKDAYS_ONLY)).toBe(false); // Mon 17:00
    expect(withinOfficeHours(new Date('2026-11-29T02:00:00Z'), hours, WEEKDAYS_ONLY)).toBe(false); // Sun 10:00
  });
  // The autumn of knowledge/calendar/2026.yaml: 中秋 9-25..27, 国庆 10-01..07, Sunday 9-20 and Saturday 10-10 worked.
  const autumn: WorkCalendar = {
    years: new Set([2026]),
    holidays: new Set(['2026-09-25', '2026-09-26', '2026-09-27', ...[1, 2, 3, 4, 5, 6, 7].map((d) => `2026-10-0${d}`)]),
    workdays: new Set(['2026-09-20', '2026-10-10']),
  };
  const bj = (local: string): Date => new Date(`${local}+08:00`);

  it('follow the holiday calendar: no office hours on a weekday holiday, office hours on a 调休 weekend day', () => {
    expect(withinOfficeHours(bj('2026-10-01T10:00:00'), hours, autumn)).toBe(false); // 国庆, a Thursday
    expect(withinOfficeHours(bj('2026-10-01T10:00:00'), hours, WEEKDAYS_ONLY)).toBe(true);
    expect(withinOfficeHours(bj('2026-10-10T10:00:00'), hours, autumn)).toBe(true); // Saturday worked
    expect(withinOfficeHours(bj('2026-09-20T16:59:00'), hours, autumn)).toBe(true); // Sunday worked
    expect(withinOfficeHours(bj('2026-10-11T10:00:00'), hours, autumn)).toBe(false); // an ordinary Sunday
  });

  it('hold a reminder due on a holiday until the next working day\'s office hours', () => {
    // Sent Wednesday 9-30 at 10:00; a round 24 hours later falls on 国庆.
    const sent = bj('2026-09-30T10:00:00');
    const due = (local: string, afterHours = 24) => reminderDue(sent, afterHours, bj(local), { hours, calendar: autumn });
    expect(due('2026-09-30T16:00:00')).toBe(false); // not yet 24 hours
    expect(due('2026-10-01T10:00:00')).toBe(false);
    expect(due('2026-10-07T10:00:00')).toBe(false); // the last day of the holiday
    expect(due('2026-10-08T08:59:00')).toBe(false); // the first working day, before office hours
    expect(due('2026-10-08T09:00:00')).toBe(true);
    // A round due on Friday evening goes on the 调休 Saturday, not on the Sunday after it.
    const fridayEvening = 9 * 24 + 8; // 10-09 18:00
    expect(due('2026-10-09T18:00:00', fridayEvening)).toBe(false);
    expect(due('2026-10-10T09:00:00', fridayEvening)).toBe(true);
    expect(reminderDue(bj('2026-10-16T10:00:00'), 24, bj('2026-10-18T10:00:00'), { hours, calendar: autumn })).toBe(false); // a round due Saturday 10-17 waits past Sunday
    expect(reminderDue(bj('2026-10-16T10:00:00'), 24, bj('2026-10-19T09:00:00'), { hours, calendar: autumn })).toBe(true);
  });

  it('tell when a round will go: at once in office hours, else at 9:00 of the next working day', () => {
    const schedule = { hours, calendar: autumn };
    const at = (local: string): string => nextOfficeHour(bj(local), schedule).toISOString();
    expect(at('2026-09-30T10:15:00')).toBe(bj('2026-09-30T10:15:00').toISOString());
    expect(at('2026-09-30T07:00:00')).toBe(bj('2026-09-30T09:00:00').toISOString());
    expect(at('2026-09-30T17:00:00')).toBe(bj('2026-10-08T09:00:00').toISOString()); // 国庆 in between
    expect(at('2026-09-24T18:00:00')).toBe(bj('2026-09-28T09:00:00').toISOString()); // 中秋 Friday, then the weekend
    expect(at('2026-10-09T20:00:00')).toBe(bj('2026-10-10T09:00:00').toISOString()); // the 调休 Saturday
    // Planned at 9-30 10:00 + 24 h; seen on 9-30 it is 10-08 9:00, and a round overdue goes at the next office hour.
    expect(nextReminderAt(bj('2026-09-30T10:00:00'), 24, bj('2026-09-30T11:00:00'), schedule).toISOString()).toBe(bj('2026-10-08T09:00:00').toISOString());
    expect(nextReminderAt(bj('2026-09-30T10:00:00'), 24, bj('2026-10-08T16:30:00'), schedule).toISOString()).toBe(bj('2026-10-08T16:30:00').toISOString());
    expect(nextReminderAt(bj('2026-09-30T10:00:00'), 24, bj('2026-10-08T17:30:00'), schedule).toISOString()).toBe(bj('2026-10-09T09:00:00').toISOString());
  });

  it('take the rounds in their planned order, the next after those finished', () => {
    const plan = [{ afterHours: 24 }, { afterHours: 72 }];
    expect(nextRound(plan, 0)).toEqual({ round: 1, reminder: plan[0] });
    expect(nextRound(plan, 1)).toEqual({ round: 2, reminder: plan[1] });
    expect(nextRound(plan, 2)).toBeNull();
  });

  it('refuse what is not a range within a day', () => {
    expect(readOfficeHours('17:00-9:00')).toBeNull();
    expect(readOfficeHours('9点到5点')).toBeNull();
  });
});

describe('report figures', () => {
  const row = (office: string | null, state: DeliveryRow['state'], read = false, notBefore: Date | null = null): DeliveryRow =>
    ({ office, state, acknowledged: state === 'sent', readAt: read ? new Date() : null, items: ['a'], notBefore });

  it('count in total and by office, read rate over targeted, and what waits for another day', () => {
    const now = new Date('2026-11-29T10:00:00Z');
    const figures = deliveryFigures([
      row('第二分局', 'sent', true), row('第一分局', 'sent', true), row('第一分局', 'sent'), row('第一分局', 'unreachable'), row(null, 'failed'),
      row('第二分局', 'waiting', false, new Date('2026-11-29T17:00:00Z')), row('第二分局', 'queued'),
    ], ['a', 'b'], now);
    expect(figures).toMatchObject({ targeted: 7, sent: 3, delivered: 3, failed: 1, unreachable: 1, read: 2, readRate: 0.2857, pending: 2, deferred: { count: 1, until: '2026-11-30' } });
    expect(figures.byOffice.map((o) => [o.office, o.targeted, o.read, o.readRate])).toEqual([['第一分局', 3, 1, 0.3333], ['第二分局', 3, 1, 0.3333], [null, 1, 0, 0]]);
    expect(figures.items).toEqual([{ entryId: 'a', recipients: 7 }, { entryId: 'b', recipients: 0 }]);
  });
});

it('tells groups from private chats by their ids', () => {
  expect(chatKindOf({ channel: 'telegram', chatId: '-100123' })).toBe('group');
  expect(chatKindOf({ channel: 'telegram', chatId: '123' })).toBe('private');
  expect(chatKindOf({ channel: 'wechat', chatId: '123@chatroom' })).toBe('group');
  // wechat4u: rooms start with @@, contacts with one @ (a private chat, paced as one).
  expect(chatKindOf({ channel: 'wechat', chatId: '@@4f1c0b2a' })).toBe('group');
  expect(chatKindOf({ channel: 'wechat', chatId: '@9a1e77d0' })).toBe('private');
  expect(chatKindOf({ channel: 'wechat', chatId: 'wxid_zhang' })).toBe('private');
});

it('writes CSV that Excel opens with Chinese intact and runs no formula', () => {
  expect(excelCsv([['名称', '说明'], ['甲,乙', '=1+1'], [null, 3]])).toBe('\uFEFF名称,说明\r\n"甲,乙",\'=1+1\r\n,3\r\n');
});
