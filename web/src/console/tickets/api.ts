import { reactive } from 'vue';
import type { Account, Ticket, TicketDetail } from '../../types';
import { call } from '../session';

/** The tickets routes of contracts.md, as the pages call them. */

/** GET /api/tickets: the tickets (overdue first, then newest first); with a requester, that person's history. */
export async function listTickets(requester?: { channel: string; userId: string }): Promise<Ticket[]> {
  const query = requester ? `?${new URLSearchParams(requester).toString()}` : '';
  return (await call<{ tickets: Ticket[] }>(`/api/tickets${query}`)).tickets;
}

/** GET /api/tickets/:id: one ticket with its transcript and audit trail. */
export function getTicket(id: string): Promise<TicketDetail> {
  return call<TicketDetail>(`/api/tickets/${encodeURIComponent(id)}`);
}

/** What an agent can do to a ticket, and the body each action takes. */
export type TicketAction = { type: 'claim' } | { type: 'reopen' } | { type: 'reply'; text: string } | { type: 'transfer'; to: string } | { type: 'resolve'; resolution: string };

/** POST /api/tickets/:id/ACTION: the ticket as it now stands. Throws ApiError: 409 with the service's Chinese reason when the ticket's state does not allow it. */
export function act(id: string, action: TicketAction): Promise<TicketDetail> {
  const { type, ...body } = action;
  return call<TicketDetail>(`/api/tickets/${encodeURIComponent(id)}/${type}`, { method: 'POST', body });
}

/** POST /api/tickets/:id/messages/:messageId/resend: queues again a message the bot gave up on (the failed attempt stays on record). */
export function resend(ticketId: string, messageId: string): Promise<TicketDetail> {
  return call<TicketDetail>(`/api/tickets/${encodeURIComponent(ticketId)}/messages/${encodeURIComponent(messageId)}/resend`, { method: 'POST' });
}

/** POST /api/tickets: takes over a requester's chat (a new ticket held by the signed-in agent, or their open one). */
export function takeOver(of: Pick<Ticket, 'channel' | 'chatId' | 'userId'>): Promise<TicketDetail> {
  return call<TicketDetail>('/api/tickets', { method: 'POST', body: { channel: of.channel, chatId: of.chatId, userId: of.userId } });
}

/** The accounts a ticket can be transferred to (agents and admins in use), once known. */
export const colleagues = reactive<{ list: Colleague[]; known: boolean; failed: boolean }>({ list: [], known: false, failed: false });

/** An account a ticket can go to, as GET /api/agents lists it. */
export type Colleague = Pick<Account, 'id' | 'name' | 'role'>;

/** Learns who a ticket can go to: GET /api/agents. */
export async function loadColleagues(): Promise<void> {
  if (colleagues.known) return;
  try {
    colleagues.list = (await call<{ agents: Colleague[] }>('/api/agents')).agents;
    colleagues.known = true;
    colleagues.failed = false;
  } catch {
    colleagues.failed = true;
  }
}
