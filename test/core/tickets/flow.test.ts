import { describe, expect, it } from 'vitest';
import { dayOf, deadlines, formatOpened, formatStatus, ticketStep, type TicketView } from '../../../src/core/tickets/flow.js';
import { DEFAULT_TICKET_RULES } from '../../../src/core/tickets/rules.js';
import { WEEKDAYS_ONLY } from '../../../src/core/tickets/workdays.js';

/** Sunday 2026-11-29, 10:00 in Beijing. */
const NOW = new Date('2026-11-29T02:00:00.000Z');
const DAY = 86_400_000;
const RULES = DEFAULT_TICKET_RULES;
const ticket = (over: Partial<TicketView> = {}): TicketView => ({
  number: 'CF-20261129-0001', state: 'registered', category: '政策咨询类', dueAt: new Date(NOW.getTime() + 3 * DAY), resolvedAt: null, rating: null, ...over,
});
const none = { latest: null, declines: 0 };

describe('ticketStep', () => {
  it('opens a ticket for a person or a complaint, and leaves questions to the FAQ', () => {
    expect(ticketStep('转人工', none, NOW, RULES)).toEqual({ kind: 'open', source: 'human', category: '政策咨询类', priority: 'normal' });
    expect(ticketStep('税务所的人向我索要好处，我要举报', none, NOW, RULES)).toEqual({ kind: 'open', source: 'complaint', category: '侵害权益类', priority: 'urgent' });
    expect(ticketStep('窗口的人态度太差了', none, NOW, RULES)).toMatchObject({ source: 'complaint', category: '服务态度类', priority: 'high' });
    expect(ticketStep('投诉渠道有哪些', none, NOW, RULES)).toBeNull();
    expect(ticketStep('发票丢了怎么办', none, NOW, RULES)).toBeNull();
  });

  it('opens on 是 only after the bot offered a person (two unanswered questions in a row)', () => {
    expect(ticketStep('是', { latest: null, declines: 1 }, NOW, RULES)).toBeNull();
    expect(ticketStep('是', { latest: null, declines: 2 }, NOW, RULES)).toMatchObject({ kind: 'open', source: 'offer' });
    expect(ticketStep('好的', { latest: null, declines: 2 }, NOW, RULES)).toMatchObject({ kind: 'open', source: 'offer' });
  });

  it('relays everything to an open ticket, answers 转人工 with the same ticket, and 查询工单 with the state', () => {
    const open = { latest: ticket({ state: 'in_progress' }), declines: 0 };
    expect(ticketStep('发票丢了怎么办', open, NOW, RULES)).toEqual({ kind: 'relay' });
    expect(ticketStep('1', open, NOW, RULES)).toEqual({ kind: 'relay' });
    expect(ticketStep('转人工', open, NOW, RULES)).toEqual({ kind: 'same' });
    expect(ticketStep('我要投诉', open, NOW, RULES)).toEqual({ kind: 'same' });
    expect(ticketStep('查询工单', open, NOW, RULES)).toEqual({ kind: 'status' });
  });

  it('takes a rating (with a comment) after the answer, then answers questions again', () => {
    const resolved = { latest: ticket({ state: 'resolved', resolvedAt: NOW }), declines: 0 };
    expect(ticketStep('1', resolved, NOW, RULES)).toEqual({ kind: 'rate', rating: 1, comment: null });
    expect(ticketStep('3 等待太久了', resolved, NOW, RULES)).toEqual({ kind: 'rate', rating: 3, comment: '等待太久了' });
    expect(ticketStep('不满意', resolved, NOW, RULES)).toEqual({ kind: 'rate', rating: 3, comment: null });
    expect(ticketStep('发票丢了怎么办', resolved, NOW, RULES)).toBeNull();
    const rated = { latest: ticket({ state: 'followed_up', resolvedAt: NOW, rating: 2 }), declines: 0 };
    expect(ticketStep('1', rated, NOW, RULES)).toBeNull();
  });

  it('reopens within seven days of the answer on the user\'s word, and says why not after', () => {
    const answered = { latest: ticket({ state: 'followed_up', resolvedAt: new Date(NOW.getTime() - 6 * DAY), rating: 3 }), declines: 0 };
    expect(ticketStep('还没解决', answered, NOW, RULES)).toEqual({ kind: 'reopen', refusal: null });
    expect(ticketStep('重新打开', answered, NOW, RULES)).toEqual({ kind: 'reopen', refusal: null });
    const late = { latest: ticket({ state: 'followed_up', resolvedAt: new Date(NOW.getTime() - 8 * DAY), rating: 1 }), declines: 0 };
    expect(ticketStep('还没解决', late, NOW, RULES)).toMatchObject({ kind: 'reopen', refusal: expect.stringContaining('超过7天') });
    // Without an answered ticket there is nothing to reopen.
    expect(ticketStep('还没解决', none, NOW, RULES)).toBeNull();
  });
});

describe('what the user is told', () => {
  it('names the number and both deadlines in working days', () => {
    const due = deadlines('服务态度类', NOW, RULES, WEEKDAYS_ONLY);
    // Registered on a Sunday: Monday is the first working day, the tenth is Friday 12 December.
    expect(dayOf(due.firstResponseDueAt)).toBe('2026年11月30日');
    expect(dayOf(due.dueAt)).toBe('2026年12月11日');
    const text = formatOpened('CF-20261129-0001', 'complaint', '服务态度类', due);
    expect(text).toContain('已受理您的投诉（服务态度类），工单号 CF-20261129-0001');
    expect(text).toContain('2026年12月11日前答复办结');
  });

  it('lists tickets with their state', () => {
    expect(formatStatus([])).toContain('还没有工单');
    expect(formatStatus([ticket({ state: 'assigned' }), ticket({ number: 'CF-20261120-0003', state: 'followed_up', rating: 1 })])).toBe(
      '您的工单：\nCF-20261129-0001 已分派，答复期限 2026年12月2日\nCF-20261120-0003 已回访，评价：非常满意',
    );
  });
});
