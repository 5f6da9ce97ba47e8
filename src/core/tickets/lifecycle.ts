/**
 * The life of a ticket, as the offices' reports describe it: 受理登记 (registered) → 分派处理
 * (assigned, in_progress) → 已答复 (resolved) → 反馈回访 (followed_up) → 资料归档 (archived). Pure:
 * a transition takes the ticket as it stands and an action, and returns the new state with the audit
 * events to write, or throws {@link TicketConflict} with a message for the person who tried.
 */

/** Where a ticket stands. */
export type TicketState = 'registered' | 'assigned' | 'in_progress' | 'resolved' | 'followed_up' | 'archived';

/** The states in the order a ticket goes through them. */
export const TICKET_STATES: readonly TicketState[] = ['registered', 'assigned', 'in_progress', 'resolved', 'followed_up', 'archived'];

/** How staff read a state. */
export const STATE_LABELS: Readonly<Record<TicketState, string>> = {
  registered: '已登记', assigned: '已分派', in_progress: '处理中', resolved: '已答复', followed_up: '已回访', archived: '已归档',
};

/** A satisfaction rating: 1 非常满意, 2 满意, 3 不满意. */
export type Rating = 1 | 2 | 3;

/** What the lifecycle needs to know of a ticket. */
export interface TicketSnapshot {
  readonly state: TicketState;
  /** The account handling it. */
  readonly assignee: string | null;
  readonly resolvedAt: Date | null;
}

/** Who acts: an account (agent, staff, admin), the user the ticket is for, or the service itself (schedules). */
export type Actor = { readonly kind: 'account'; readonly id: string; readonly admin: boolean } | { readonly kind: 'user' } | { readonly kind: 'system' };

/** Something done to a ticket. */
export type TicketAction =
  | { readonly type: 'claim' }
  | { readonly type: 'transfer'; readonly to: string }
  | { readonly type: 'reply' }
  | { readonly type: 'resolve'; readonly resolution: string }
  | { readonly type: 'rate'; readonly rating: Rating }
  | { readonly type: 'follow_up' }
  | { readonly type: 'archive' }
  | { readonly type: 'reopen' };

/** An audit row to write: never updated, never deleted. */
export interface TicketEvent {
  readonly type: 'claimed' | 'transferred' | 'replied' | 'resolved' | 'rated' | 'flagged' | 'followed_up' | 'archived' | 'reopened';
  /** Details worth keeping: the account a ticket went to, the rating, the resolution. */
  readonly data: Readonly<Record<string, string | number>>;
}

/** The outcome of a transition. */
export interface Transition {
  readonly state: TicketState;
  readonly assignee: string | null;
  readonly events: TicketEvent[];
  /** Set by resolve; cleared by reopen. */
  readonly resolvedAt?: Date | null;
}

/** Rules of timing, from the knowledge's ticket configuration. */
export interface LifecycleRules {
  /** A resolved or followed-up ticket may be reopened within this many days of its answer. */
  readonly reopenDays: number;
}

/** An action the ticket's state does not allow (HTTP 409), with a message for whoever tried. */
export class TicketConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TicketConflict';
  }
}

const DAY_MS = 86_400_000;

/** What a ticket becomes after `action` by `actor` at `now`; throws {@link TicketConflict} when it may not. */
export function transition(ticket: TicketSnapshot, action: TicketAction, actor: Actor, now: Date, rules: LifecycleRules): Transition {
  const { state, assignee } = ticket;
  const who = actor.kind === 'account' ? actor.id : null;
  const holds = who !== null && who === assignee;
  const admin = actor.kind === 'account' && actor.admin;
  const refuse = (message: string): never => {
    throw new TicketConflict(message);
  };
  const stays = (events: TicketEvent[], next: TicketState = state, to: string | null = assignee): Transition => ({ state: next, assignee: to, events });

  switch (action.type) {
    case 'claim':
      if (who === null) return refuse('只有工作人员可以认领工单');
      if (state === 'registered') return stays([{ type: 'claimed', data: { account: who } }], 'assigned', who);
      if ((state === 'assigned' || state === 'in_progress') && holds) return stays([]);
      if (state === 'assigned' || state === 'in_progress') return refuse('工单已被其他工作人员认领');
      return refuse(`工单${stateLabel(state)}，不能认领`);
    case 'transfer':
      if (who === null) return refuse('只有工作人员可以转交工单');
      if (!['registered', 'assigned', 'in_progress'].includes(state)) return refuse(`工单${stateLabel(state)}，不能转交`);
      if (state !== 'registered' && !holds && !admin) return refuse('只有处理这张工单的工作人员或管理员可以转交');
      if (action.to === assignee) return refuse('工单已经在这位工作人员名下');
      return stays([{ type: 'transferred', data: { from: assignee ?? '', to: action.to } }], 'assigned', action.to);
    case 'reply':
      if (state === 'registered') return refuse('请先认领工单再回复');
      if (state !== 'assigned' && state !== 'in_progress') return refuse(`工单${stateLabel(state)}，不能再回复；如需继续处理请先重新打开`);
      if (!holds && !admin) return refuse('工单由其他工作人员处理，不能回复');
      return stays([{ type: 'replied', data: {} }], 'in_progress');
    case 'resolve':
      if (state !== 'assigned' && state !== 'in_progress') return refuse(`工单${stateLabel(state)}，不能办结`);
      if (!holds && !admin) return refuse('只有处理这张工单的工作人员或管理员可以办结');
      if (!action.resolution.trim()) return refuse('请填写答复意见');
      return { ...stays([{ type: 'resolved', data: { resolution: action.resolution.trim() } }], 'resolved'), resolvedAt: now };
    case 'rate':
      if (state !== 'resolved') return refuse('工单不在待评价状态');
      return stays(
        [{ type: 'rated', data: { rating: action.rating } }, ...(action.rating === 3 ? [{ type: 'flagged' as const, data: { reason: '不满意' } }] : []), { type: 'followed_up', data: { rated: 1 } }],
        'followed_up',
      );
    case 'follow_up':
      if (state !== 'resolved') return refuse('工单不在待回访状态');
      return stays([{ type: 'followed_up', data: { rated: 0 } }], 'followed_up');
    case 'archive':
      if (state !== 'followed_up') return refuse('只有已回访的工单可以归档');
      return stays([{ type: 'archived', data: {} }], 'archived');
    case 'reopen': {
      if (state !== 'resolved' && state !== 'followed_up') return refuse(`工单${stateLabel(state)}，不能重新打开`);
      const since = ticket.resolvedAt ? now.getTime() - ticket.resolvedAt.getTime() : 0;
      if (since > rules.reopenDays * DAY_MS) return refuse(`工单答复已超过${rules.reopenDays}天，不能重新打开，请重新发起“转人工”`);
      return { ...stays([{ type: 'reopened', data: {} }], assignee ? 'in_progress' : 'registered'), resolvedAt: null };
    }
  }
}

function stateLabel(state: TicketState): string {
  return STATE_LABELS[state];
}

/** Whether a ticket in this state still relays the user's messages to an agent (open, not yet answered). */
export function isOpen(state: TicketState): boolean {
  return state === 'registered' || state === 'assigned' || state === 'in_progress';
}

/** The ticket number users and staff quote: CF-20261129-0007 (China date, that day's sequence). */
export function ticketNumber(day: string, sequence: number): string {
  return `CF-${day.replaceAll('-', '')}-${String(sequence).padStart(4, '0')}`;
}
