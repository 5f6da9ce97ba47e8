import { describe, expect, it } from 'vitest';
import { busiestHours, median, questionFigures, questionHours, readRates, repeatWindow, ticketFigures, type TicketFact } from '../../../src/core/report/figures.js';
import { parseWeek, type Period } from '../../../src/core/report/period.js';
import { reportCsv, reportTables, tableCsv, type ServiceReport } from '../../../src/core/report/tables.js';
import { DEFAULT_TICKET_RULES } from '../../../src/core/tickets/rules.js';
import { WEEKDAYS_ONLY, type WorkCalendar } from '../../../src/core/tickets/workdays.js';

const week = (text: string): Period => {
  const parsed = parseWeek(text);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.value;
};
/** 2026-W48: Monday 23 November to Sunday 29 November, Beijing time. */
const W48 = week('2026-W48');
/** Beijing time, for readable fixtures. */
const bj = (text: string): Date => new Date(`${text}+08:00`);

const ticket = (over: Partial<TicketFact> & Pick<TicketFact, 'number' | 'createdAt'>): TicketFact => ({
  category: '政策咨询类', channel: 'telegram', userId: 'u1', userName: '王先生', assignee: 'a1', firstResponseAt: null, resolvedAt: null,
  rating: null, ratedAt: null, followUpAt: null, followUpBy: null, ...over,
});

describe('question figures', () => {
  it('deflection counts answers, referrals and picked offers whose asker did not then ask for a person', () => {
    const f = questionFigures([
      { hour: 9, reason: 'answered', picked: false, escalated: false, count: 50 },
      { hour: 9, reason: 'answered', picked: false, escalated: true, count: 5 },
      { hour: 9, reason: 'referred', picked: false, escalated: false, count: 5 },
      { hour: 9, reason: 'uncertain', picked: true, escalated: false, count: 12 },
      { hour: 9, reason: 'uncertain', picked: false, escalated: false, count: 8 },
      { hour: 9, reason: 'no_match', picked: false, escalated: true, count: 20 },
      // Not questions: greetings never count.
      { hour: 9, reason: 'small_talk', picked: false, escalated: false, count: 30 },
    ]);
    expect(f).toEqual({
      total: 100, answered: 55, referred: 5, offered: 20, accepted: 12, declined: 20,
      deflection: { count: 67, of: 100, rate: 0.67 },
      acceptance: { count: 12, of: 20, rate: 0.6 },
    });
  });

  it('a period without questions has no rates rather than 0%', () => {
    expect(questionFigures([]).deflection).toEqual({ count: 0, of: 0, rate: null });
  });
});

describe('ticket figures', () => {
  const rules = DEFAULT_TICKET_RULES;
  it('the median is the middle value, or the mean of the two middle ones', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([40, 10, 20, 30])).toBe(25);
  });

  it('SLA compliance is counted in working days: a Friday ticket answered on Monday is within one working day', () => {
    const tickets = [
      // Friday 16:00: first reply due at the end of Monday 30 Nov (next working day).
      ticket({ number: 'CF-1', createdAt: bj('2026-11-27T16:00:00'), firstResponseAt: bj('2026-11-28T10:00:00'), resolvedAt: bj('2026-11-28T11:00:00') }),
      // Monday: first reply Wednesday, late; 政策咨询类 resolution due within 3 working days: Thursday 26th, met.
      ticket({ number: 'CF-2', createdAt: bj('2026-11-23T09:00:00'), firstResponseAt: bj('2026-11-25T09:00:00'), resolvedAt: bj('2026-11-26T18:00:00'), userId: 'u2' }),
      // Open, registered Sunday: its first reply is due Monday 30th, after the week: still running.
      ticket({ number: 'CF-3', createdAt: bj('2026-11-29T12:00:00'), userId: 'u3' }),
      // Open since Tuesday with no reply by the end of the week: the first reply (due Wednesday) is missed.
      ticket({ number: 'CF-4', createdAt: bj('2026-11-24T12:00:00'), category: '服务态度类', userId: 'u4' }),
      // Registered the week before: not counted in this week's totals or SLA.
      ticket({ number: 'CF-0', createdAt: bj('2026-11-20T12:00:00'), firstResponseAt: bj('2026-11-23T10:00:00'), resolvedAt: bj('2026-11-24T10:00:00'), userId: 'u5' }),
    ];
    const f = ticketFigures(tickets, [], 40, W48, rules, WEEKDAYS_ONLY, bj('2026-12-01T09:00:00'));
    expect(f.total).toBe(4);
    expect(f.escalation).toEqual({ count: 4, of: 40, rate: 0.1 });
    expect(f.byCategory).toEqual([{ key: '政策咨询类', count: 3 }, { key: '服务态度类', count: 1 }]);
    expect(f.byChannel).toEqual([{ key: 'telegram', count: 4 }]);
    expect(f.sla.firstResponse).toEqual({ count: 1, of: 3, rate: 0.3333, running: 1 });
    // CF-4 is 服务态度类: 10 working days, still running at the end of the week.
    expect(f.sla.resolution).toEqual({ count: 2, of: 2, rate: 1, running: 2 });
    // First replies given in the week: CF-1 18 h, CF-2 48 h, CF-0 (registered before) 70 h: the middle one is 48 h.
    expect(f.medianFirstResponseMinutes).toBe(48 * 60);
    // Resolved in the week: CF-1 19 h, CF-2 81 h, CF-0 94 h.
    expect(f.medianResolutionMinutes).toBe(81 * 60);
  });

  it('a calendar with 调休 moves deadlines: a worked Saturday counts, a holiday does not', () => {
    const calendar: WorkCalendar = { years: new Set([2026]), holidays: new Set(['2026-11-30']), workdays: new Set(['2026-11-28']) };
    const tickets = [ticket({ number: 'CF-1', createdAt: bj('2026-11-27T16:00:00'), firstResponseAt: bj('2026-11-30T10:00:00') })];
    // Due at the end of Saturday the 28th (a working day): the reply on the holiday Monday is late.
    expect(ticketFigures(tickets, [], 1, W48, rules, calendar, bj('2026-12-01T00:00:00')).sla.firstResponse).toMatchObject({ count: 0, of: 1 });
    expect(ticketFigures(tickets, [], 1, W48, rules, WEEKDAYS_ONLY, bj('2026-12-01T00:00:00')).sla.firstResponse).toMatchObject({ count: 1, of: 1 });
  });

  it('CSAT counts the ratings given in the period, and lists every 不满意 with its follow-up', () => {
    const tickets = [
      ticket({ number: 'CF-1', createdAt: bj('2026-11-16T09:00:00'), rating: 1, ratedAt: bj('2026-11-23T09:00:00') }),
      ticket({ number: 'CF-2', createdAt: bj('2026-11-23T09:00:00'), rating: 1, ratedAt: bj('2026-11-24T09:00:00') }),
      ticket({ number: 'CF-3', createdAt: bj('2026-11-23T09:00:00'), rating: 2, ratedAt: bj('2026-11-24T10:00:00') }),
      ticket({ number: 'CF-4', createdAt: bj('2026-11-23T09:00:00'), rating: 3, ratedAt: bj('2026-11-25T09:00:00'), followUpAt: bj('2026-11-26T09:00:00'), followUpBy: '李科长' }),
      ticket({ number: 'CF-5', createdAt: bj('2026-11-23T09:00:00'), rating: 3, ratedAt: bj('2026-11-24T08:00:00') }),
      // Rated after the period: next week's figure.
      ticket({ number: 'CF-6', createdAt: bj('2026-11-23T09:00:00'), rating: 3, ratedAt: bj('2026-11-30T09:00:00') }),
    ];
    const f = ticketFigures(tickets, [], 10, W48, rules, WEEKDAYS_ONLY, bj('2026-12-01T00:00:00'));
    expect(f.csat).toEqual([
      { rating: 1, label: '非常满意', count: 2, rate: 0.4 },
      { rating: 2, label: '满意', count: 1, rate: 0.2 },
      { rating: 3, label: '不满意', count: 2, rate: 0.4 },
    ]);
    expect(f.dissatisfied.map((d) => [d.number, d.followUpBy])).toEqual([['CF-5', null], ['CF-4', '李科长']]);
  });

  it('a repeat requester has three tickets in the 30 days before the period ends', () => {
    expect(repeatWindow(W48, rules)).toEqual({ from: new Date('2026-10-30T16:00:00.000Z'), to: W48.to });
    const repeat = [
      { userId: 'u2', userName: null, channel: 'wechat', tickets: 2 },
      { userId: 'u1', userName: '王先生', channel: 'telegram', tickets: 3 },
      { userId: 'u3', userName: '李女士', channel: 'telegram', tickets: 5 },
    ];
    const f = ticketFigures([], repeat, 10, W48, rules, WEEKDAYS_ONLY, bj('2026-12-01T00:00:00'));
    expect(f.repeatRequesters.map((r) => [r.userId, r.tickets])).toEqual([['u3', 5], ['u1', 3]]);
  });
});

describe('read rates and hours', () => {
  it('read rates by office, the lowest first, with the total', () => {
    const r = readRates([{ office: '第一分局', targeted: 10, read: 8 }, { office: null, targeted: 4, read: 1 }, { office: '第二分局', targeted: 6, read: 3 }]);
    expect(r.byOffice).toEqual([
      { office: '（未填分局）', targeted: 4, read: 1, readRate: 0.25 },
      { office: '第二分局', targeted: 6, read: 3, readRate: 0.5 },
      { office: '第一分局', targeted: 10, read: 8, readRate: 0.8 },
    ]);
    expect(r.total).toEqual({ count: 12, of: 20, rate: 0.6 });
  });

  it('hours count the questions asked in each hour; the busiest come first', () => {
    const hours = questionHours([
      { hour: 9, reason: 'answered', picked: false, escalated: false, count: 7 },
      { hour: 14, reason: 'no_match', picked: false, escalated: false, count: 5 },
      { hour: 14, reason: 'uncertain', picked: true, escalated: false, count: 4 },
      { hour: 4, reason: 'referred', picked: false, escalated: false, count: 2 },
      // Greetings are not questions.
      { hour: 4, reason: 'small_talk', picked: false, escalated: false, count: 20 },
    ]);
    expect(hours).toHaveLength(24);
    expect([hours[9], hours[14], hours[4]]).toEqual([7, 9, 2]);
    expect(busiestHours(hours)).toEqual([{ hour: 14, count: 9 }, { hour: 9, count: 7 }, { hour: 4, count: 2 }]);
  });
});

describe('report tables and CSV', () => {
  const report: ServiceReport = {
    period: W48,
    generatedAt: bj('2026-11-30T09:00:00'),
    questions: questionFigures([{ hour: 9, reason: 'answered', picked: false, escalated: false, count: 3 }, { hour: 9, reason: 'no_match', picked: false, escalated: false, count: 1 }]),
    tickets: ticketFigures([ticket({ number: 'CF-20261123-0001', createdAt: bj('2026-11-23T09:00:00'), rating: 3, ratedAt: bj('2026-11-24T09:00:00'), assignee: '李工, "二组"' })], [], 4, W48, DEFAULT_TICKET_RULES, WEEKDAYS_ONLY, bj('2026-11-30T09:00:00')),
    reads: readRates([{ office: '第一分局', targeted: 2, read: 1 }]),
    hours: Array.from({ length: 24 }, (_, h) => (h === 9 ? 4 : 0)),
  };

  it('every table has its headings and rows as staff read them', () => {
    const tables = reportTables(report);
    expect(tables.map((t) => t.name)).toEqual(['summary', 'categories', 'channels', 'csat', 'dissatisfied', 'repeat', 'reads', 'hours']);
    const summary = tables[0];
    expect(summary?.rows.find((r) => r[0] === '机器人解答率（无需人工）')?.slice(1, 3)).toEqual(['75.0%', '3 / 4']);
    expect(summary?.rows.find((r) => r[0] === '咨询最多的时段')?.[1]).toBe('09时（4）');
    expect(tables.find((t) => t.name === 'dissatisfied')?.rows).toEqual([['CF-20261123-0001', '政策咨询类', '李工, "二组"', '2026-11-24 09:00', '未回访', null]]);
  });

  it('CSV starts with a BOM, ends lines with CRLF and quotes what needs quoting', () => {
    const dissatisfied = reportTables(report).find((t) => t.name === 'dissatisfied');
    if (!dissatisfied) throw new Error('no table');
    expect(tableCsv(dissatisfied)).toBe('\uFEFF工单号,类别,处理人,评价时间,回访时间,回访人\r\nCF-20261123-0001,政策咨询类,"李工, ""二组""",2026-11-24 09:00,未回访,\r\n');
    const all = reportCsv(report);
    expect(all.startsWith('\uFEFF总体指标（2026-W48）\r\n指标,数值,计数,口径\r\n')).toBe(true);
    expect(all.match(/\uFEFF/g)).toHaveLength(1);
  });
});
