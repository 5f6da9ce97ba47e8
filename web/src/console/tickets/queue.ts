import type { Ticket, TicketState } from '../../types';

/**
 * The queue's tabs and order. The service decides what a ticket is (state, overdue, repeat
 * requester); this only sorts and groups what GET /api/tickets answered, so the counts on the tabs
 * and the rows under them always agree.
 */

/** The tabs an agent works from: new tickets, mine, overdue, repeat requesters, and every ticket. */
export type QueueTab = 'new' | 'mine' | 'overdue' | 'repeat' | 'all';

/** The tabs in the order shown, with their labels. */
export const QUEUE_TABS: readonly { readonly name: QueueTab; readonly label: string }[] = [
  { name: 'new', label: '新工单' },
  { name: 'mine', label: '我的' },
  { name: 'overdue', label: '超时' },
  { name: 'repeat', label: '重复来访' },
  { name: 'all', label: '全部' },
];

/** Whether a ticket still waits on staff (not yet answered). */
export function isOpen(state: TicketState): boolean {
  return state === 'registered' || state === 'assigned' || state === 'in_progress';
}

/** Whether a ticket belongs under a tab, for the account `me`. */
export function inTab(ticket: Ticket, tab: QueueTab, me: string | null): boolean {
  switch (tab) {
    case 'new':
      return ticket.state === 'registered';
    case 'mine':
      return isOpen(ticket.state) && me !== null && ticket.assignee === me;
    case 'overdue':
      return isOpen(ticket.state) && ticket.overdue;
    case 'repeat':
      return ticket.repeatRequester === true;
    case 'all':
      return true;
  }
}

/** How many tickets each tab holds. */
export function tabCounts(tickets: readonly Ticket[], me: string | null): Record<QueueTab, number> {
  const counts: Record<QueueTab, number> = { new: 0, mine: 0, overdue: 0, repeat: 0, all: 0 };
  for (const t of tickets) for (const { name } of QUEUE_TABS) if (inTab(t, name, me)) counts[name]++;
  return counts;
}

/** The queue's order: overdue open tickets first, then the newest first (as the API lists them). */
export function queueOrder(a: Ticket, b: Ticket): number {
  const late = Number(isOpen(b.state) && b.overdue) - Number(isOpen(a.state) && a.overdue);
  return late !== 0 ? late : b.createdAt.localeCompare(a.createdAt);
}
