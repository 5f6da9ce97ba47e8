import { reactive } from 'vue';
import type { Account, Ticket, TicketDetail } from '../../types';
import { call, session } from '../session';

/** The tickets routes of contracts.md, as the pages call them. */

/** GET /api/tickets: every ticket the account may see, newest first. */
export async function listTickets(): Promise<Ticket[]> {
  return (await call<{ tickets: Ticket[] }>('/api/tickets')).tickets;
}

/** GET /api/tickets/:id: one ticket with its transcript and audit trail. */
export function getTicket(id: string): Promise<TicketDetail> {
  return call<TicketDetail>(`/api/tickets/${encodeURIComponent(id)}`);
}

/** What an agent can do to a ticket, and the body each action takes. */
export type TicketAction = { type: 'claim' } | { type: 'reopen' } | { type: 'reply'; text: string } | { type: 'transfer'; to: string } | { type: 'resolve'; resolution: string };

/** POST /api/tickets/:id/ACTION. Throws ApiError: 409 with the service's Chinese reason when the ticket's state does not allow it. */
export function act(id: string, action: TicketAction): Promise<unknown> {
  const { type, ...body } = action;
  return call(`/api/tickets/${encodeURIComponent(id)}/${type}`, { method: 'POST', body });
}

/** The accounts the page can name, by id: the signed-in one, and every agent an admin can list. */
export const people = reactive<{ names: Map<string, string>; agents: Account[] }>({ names: new Map(), agents: [] });

/** Learns the names of accounts (for 处理人 and the audit trail) and the agents a ticket can go to. */
export async function loadPeople(): Promise<void> {
  const me = session.me;
  if (me) people.names.set(me.id, me.name);
  if (me?.role !== 'admin') return;
  const { accounts } = await call<{ accounts: Account[] }>('/api/accounts');
  for (const a of accounts) people.names.set(a.id, a.name);
  people.agents = accounts.filter((a) => a.disabledAt === null && a.role !== 'staff');
}
