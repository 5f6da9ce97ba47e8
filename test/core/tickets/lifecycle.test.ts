import { describe, expect, it } from 'vitest';
import { TicketConflict, isOpen, ticketNumber, transition, type Actor, type TicketSnapshot } from '../../../src/core/tickets/lifecycle.js';

const rules = { reopenDays: 7 };
const li: Actor = { kind: 'account', id: 'li', admin: false };
const wang: Actor = { kind: 'account', id: 'wang', admin: false };
const admin: Actor = { kind: 'account', id: 'root', admin: true };
const user: Actor = { kind: 'user' };
const now = new Date('2026-11-29T02:00:00Z');
const at = (state: TicketSnapshot['state'], assignee: string | null = null, resolvedAt: Date | null = null): TicketSnapshot => ({ state, assignee, resolvedAt });

describe('ticket lifecycle', () => {
  it('goes registered -> assigned -> in_progress -> resolved -> followed_up -> archived, each step an event', () => {
    const claimed = transition(at('registered'), { type: 'claim' }, li, now, rules);
    expect(claimed).toEqual({ state: 'assigned', assignee: 'li', events: [{ type: 'claimed', data: { account: 'li' } }] });
    expect(transition(at('assigned', 'li'), { type: 'reply' }, li, now, rules).state).toBe('in_progress');
    const resolved = transition(at('in_progress', 'li'), { type: 'resolve', resolution: '已电话答复' }, li, now, rules);
    expect(resolved).toMatchObject({ state: 'resolved', resolvedAt: now, events: [{ type: 'resolved', data: { resolution: '已电话答复' } }] });
    expect(transition(at('resolved', 'li', now), { type: 'rate', rating: 2 }, user, now, rules).state).toBe('followed_up');
    expect(transition(at('followed_up', 'li', now), { type: 'archive' }, { kind: 'system' }, now, rules).state).toBe('archived');
  });

  it('lets exactly one agent claim: a second claim is a conflict with a Chinese message', () => {
    expect(() => transition(at('assigned', 'li'), { type: 'claim' }, wang, now, rules)).toThrow(new TicketConflict('工单已被其他工作人员认领'));
    expect(transition(at('assigned', 'li'), { type: 'claim' }, li, now, rules).events).toEqual([]);
  });

  it('refuses illegal transitions', () => {
    expect(() => transition(at('registered'), { type: 'reply' }, li, now, rules)).toThrow(/请先认领/);
    expect(() => transition(at('registered'), { type: 'resolve', resolution: 'x' }, li, now, rules)).toThrow(TicketConflict);
    expect(() => transition(at('in_progress', 'li'), { type: 'resolve', resolution: 'x' }, wang, now, rules)).toThrow(/只有处理/);
    expect(() => transition(at('in_progress', 'li'), { type: 'resolve', resolution: '  ' }, li, now, rules)).toThrow(/答复意见/);
    expect(() => transition(at('archived', 'li'), { type: 'reopen' }, user, now, rules)).toThrow(TicketConflict);
    expect(() => transition(at('in_progress', 'li'), { type: 'rate', rating: 1 }, user, now, rules)).toThrow(TicketConflict);
  });

  it('flags a 不满意 rating for a supervisor', () => {
    const rated = transition(at('resolved', 'li', now), { type: 'rate', rating: 3 }, user, now, rules);
    expect(rated.events.map((e) => e.type)).toEqual(['rated', 'flagged', 'followed_up']);
  });

  it('reopens within 7 days of the answer, not after', () => {
    const answered = new Date(now.getTime() - 6 * 86_400_000);
    expect(transition(at('followed_up', 'li', answered), { type: 'reopen' }, user, now, rules)).toMatchObject({ state: 'in_progress', assignee: 'li', resolvedAt: null });
    const long = new Date(now.getTime() - 8 * 86_400_000);
    expect(() => transition(at('resolved', 'li', long), { type: 'reopen' }, user, now, rules)).toThrow(/超过7天/);
  });

  it('transfers by the agent holding it or an admin, to someone else', () => {
    expect(transition(at('in_progress', 'li'), { type: 'transfer', to: 'wang' }, li, now, rules)).toMatchObject({ state: 'assigned', assignee: 'wang' });
    expect(transition(at('in_progress', 'li'), { type: 'transfer', to: 'wang' }, admin, now, rules).assignee).toBe('wang');
    expect(() => transition(at('in_progress', 'li'), { type: 'transfer', to: 'wang' }, wang, now, rules)).toThrow(TicketConflict);
  });

  it('numbers tickets per China day with four digits', () => {
    expect(ticketNumber('2026-11-29', 7)).toBe('CF-20261129-0007');
    expect(isOpen('in_progress')).toBe(true);
    expect(isOpen('resolved')).toBe(false);
  });
});
