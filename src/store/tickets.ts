import { maskPersonalData } from '../core/text/mask.js';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { TicketConflict, isOpen, transition, type Actor, type LifecycleRules, type TicketAction, type TicketEvent, type TicketState } from '../core/tickets/lifecycle.js';
import { chinaDate } from '../core/tickets/workdays.js';
import { violatedUnique, type StoreKind, type Together } from './connect.js';
import { newId } from './ids.js';
import { outboxInsert, type NewOutboxItem, type OutboxPayload } from './outbox.js';
import { fromStored, toStored, type ChatKind, type Database, type OutboxState, type Row, type TicketPriority, type TicketSource } from './schema.js';
import type { TicketFeed } from './ticket-feed.js';

/** Written into a message's text where the ticket's number goes; the unit that opens the ticket fills it in. */
export const NUMBER_PLACEHOLDER = '{工单号}';

/** Unanswered questions older than this do not count toward offering a person. */
const DECLINE_WINDOW_MS = 30 * 60_000;

/** How many of the requester's last messages in the chat a new ticket copies as its transcript. */
export const TRANSCRIPT_LENGTH = 10;

/** A ticket as stored. */
export interface Ticket {
  readonly id: string;
  readonly number: string;
  readonly state: TicketState;
  readonly channel: string;
  /** The store's ids of the chat and user. */
  readonly chatRef: string;
  readonly userRef: string;
  /** The chat and user as their network names them. */
  readonly chatId: string;
  readonly userId: string;
  readonly chatKind: ChatKind;
  readonly userName: string | null;
  readonly source: TicketSource;
  readonly category: string;
  readonly priority: TicketPriority;
  readonly assignee: string | null;
  readonly version: number;
  readonly dueAt: Date;
  readonly firstResponseDueAt: Date;
  readonly firstResponseAt: Date | null;
  readonly overdueAt: Date | null;
  readonly resolvedAt: Date | null;
  readonly rating: 1 | 2 | 3 | null;
  readonly ratingComment: string | null;
  readonly flagged: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Whether a ticket is past a deadline while still open: the first reply's, or the resolution's. */
export function isOverdue(t: Pick<Ticket, 'state' | 'dueAt' | 'firstResponseAt' | 'firstResponseDueAt'>, now: Date): boolean {
  if (!isOpen(t.state)) return false;
  return now.getTime() > t.dueAt.getTime() || (t.firstResponseAt === null && now.getTime() > t.firstResponseDueAt.getTime());
}

/** What was said on a ticket, with how an agent's message is getting on. */
export interface TicketMessage {
  readonly id: string;
  readonly from: 'user' | 'agent' | 'bot';
  readonly accountId: string | null;
  readonly text: string;
  readonly at: Date;
  /** Said before the ticket opened. */
  readonly transcript: boolean;
  /** For messages sent to the chat: the outbox row's state, attempts and last error; null for the user's. */
  readonly delivery: { readonly state: OutboxState; readonly attempts: number; readonly error: string | null; readonly outboxId: string } | null;
}

/** One audit row. */
export interface StoredTicketEvent {
  readonly id: string;
  readonly type: string;
  readonly actor: string;
  readonly data: Readonly<Record<string, string | number>>;
  readonly at: Date;
}

/** A ticket with its conversation and audit trail. */
export interface TicketDetail extends Ticket {
  readonly messages: TicketMessage[];
  readonly events: StoredTicketEvent[];
}

/** A ticket to open. */
export interface NewTicket extends Pick<Ticket, 'channel' | 'chatRef' | 'userRef' | 'chatId' | 'userId' | 'chatKind' | 'userName' | 'source' | 'category' | 'priority' | 'dueAt' | 'firstResponseDueAt'> {
  /** Who opened it: 'user', or the account taking the chat over (it is then assigned to them). */
  readonly actor: string;
  readonly assignee?: string | null;
  readonly at: Date;
}

/** What the gateway needs to know of a user in a chat before deciding. */
export interface RequesterContext {
  /** The user's newest ticket in the chat, in any state. */
  readonly latest: Ticket | null;
  /** How many of the user's last two questions to the bot in a row went unanswered (0-2). */
  readonly declines: number;
}

/** Which tickets to list. */
export interface TicketFilter {
  readonly states?: readonly TicketState[];
  readonly assignee?: string;
  /** One requester's tickets (their history). */
  readonly requester?: { readonly channel: string; readonly userId: string };
  readonly limit?: number;
}

/** Something an action sends to the chat as part of its unit (an agent's reply, the rating request). */
export interface ActionMessage {
  readonly from: 'agent' | 'bot';
  /** The text kept on the ticket (without the signature). */
  readonly text: string;
  readonly outbound: NewOutboxItem;
}

/** An action applied: the ticket after it, and the outbox rows it queued. */
export interface Applied {
  readonly ticket: Ticket;
  readonly events: readonly TicketEvent[];
  readonly outboxIds: readonly string[];
}

/** Tickets: opened with an intake (gateway) or by an agent, changed only through the lifecycle. */
export interface TicketRepository {
  /** The user's latest ticket in the chat, and their unanswered questions of the last half hour. */
  context(channel: string, chatId: string, userId: string, now: Date): Promise<RequesterContext>;
  /**
   * The statements that open a ticket inside another unit (the intake of the message asking for
   * it): the day's counter, the ticket, its first audit row and its transcript (the requester's
   * last messages, including `inbound` when the unit stores it first). Fails the unit with
   * {@link isOpenConflict} when the user already has an open ticket in the chat.
   */
  openStatements(ticket: NewTicket, id?: string, notInTranscript?: readonly string[]): { readonly id: string; readonly statements: CompiledQuery[] };
  /** Statements replacing {@link NUMBER_PLACEHOLDER} with the ticket's number in queued messages of the same unit. */
  fillNumber(ticketId: string, messageIds: readonly string[]): CompiledQuery[];
  /** Statements adding a user's message (already in the unit as `messageId`) to the ticket. */
  relayStatements(ticketId: string, messageId: string, text: string, at: Date): CompiledQuery[];
  /**
   * Statements applying a user's action (rate, reopen) decided on `ticket` as read: the change
   * applies only if the ticket is still at that version, and its audit rows only with it.
   */
  userActionStatements(ticket: Ticket, action: TicketAction, now: Date, rules: LifecycleRules, comment?: string | null): CompiledQuery[];
  /** Opens a ticket on its own (an agent taking a chat over); the open one when the user already has one there. */
  open(ticket: NewTicket): Promise<{ readonly ticket: Ticket; readonly created: boolean }>;
  /**
   * Applies an action by an account or the schedule, with what it sends, as one unit on the version
   * it read; read again and decided again when another change came first. Throws
   * TicketConflict when the lifecycle refuses, null when there is no such ticket.
   */
  apply(id: string, action: TicketAction, actor: Actor, now: Date, rules: LifecycleRules, send?: (ticket: Ticket) => ActionMessage[]): Promise<Applied | null>;
  /**
   * Queues again a message of the ticket that was not delivered (failed, expired, unreachable), as a
   * new ticket message by `accountId` with an audit row; the id of the new one, or null when the
   * ticket has no such message. Throws TicketConflict when the message did not fail.
   */
  resend(ticketId: string, messageId: string, accountId: string, now: Date): Promise<string | null>;
  /** By id or number. */
  get(idOrNumber: string): Promise<TicketDetail | null>;
  /** By id or number, without its messages and events. */
  find(idOrNumber: string): Promise<Ticket | null>;
  /** Newest first. */
  list(filter?: TicketFilter): Promise<Ticket[]>;
  /** How many tickets each requester opened since `since`, by `channel\0userId`. */
  requesterCounts(since: Date): Promise<Map<string, number>>;
  /** Open tickets, and those of them past a deadline at `now` (for /metrics). */
  counts(now: Date): Promise<{ readonly open: number; readonly overdue: number }>;
  /** Open tickets past a deadline not yet flagged; resolved ones answered before `followUpBefore`; followed-up ones before `archiveBefore`. */
  due(now: Date, followUpBefore: Date, archiveBefore: Date): Promise<{ overdue: Ticket[]; followUp: Ticket[]; archive: Ticket[] }>;
  /** Records that a ticket was found past due (once). */
  flagOverdue(id: string, now: Date): Promise<boolean>;
  /** The chat and user as the store knows them (an agent takes over only a chat the bot has seen); null when either is unknown. */
  requester(channel: string, chatId: string, userId: string): Promise<{ chatRef: string; userRef: string; chatKind: ChatKind; userName: string | null } | null>;
  /** The network's id of the user's last message in the chat (to quote in a group). */
  lastInbound(chatRef: string, userRef: string): Promise<string | null>;
  /** Calls `listener` with a ticket's id whenever it changes, on any instance sharing the database; returns the unsubscribe. */
  watch(listener: (ticketId: string) => void): () => void;
  /** Tells local watchers of tickets changed by a unit this instance committed (SQLite; PostgreSQL's triggers tell everyone). */
  changed(ids: readonly string[]): void;
}

/** Whether a unit failed because the user already has an open ticket in the chat. */
export function isOpenConflict(err: unknown): boolean {
  return /tickets_open_key|tickets\.channel, tickets\.channel_chat_id, tickets\.channel_user_id/.test(violatedUnique(err) ?? '');
}

/** Whether a unit failed on a NOT NULL column: how a guarded change says another change applied first. */
function isNotNull(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : null;
  return code === '23502' || code === 'SQLITE_CONSTRAINT_NOTNULL';
}

const OPEN_STATES = sql`('registered', 'assigned', 'in_progress')`;

function toTicket(row: Row<'tickets'>): Ticket {
  const time = (t: string | null): Date | null => (t === null ? null : fromStored(t));
  return {
    id: row.id, number: row.number, state: row.state, channel: row.channel, chatRef: row.chat_id, userRef: row.user_id,
    chatId: row.channel_chat_id, userId: row.channel_user_id, chatKind: row.chat_kind, userName: row.user_name, source: row.source,
    category: row.category, priority: row.priority, assignee: row.assignee, version: Number(row.version),
    dueAt: fromStored(row.due_at), firstResponseDueAt: fromStored(row.first_response_due_at), firstResponseAt: time(row.first_response_at),
    overdueAt: time(row.overdue_at), resolvedAt: time(row.resolved_at), rating: row.rating === null ? null : (Number(row.rating) as 1 | 2 | 3),
    ratingComment: row.rating_comment, flagged: Number(row.flagged) === 1, createdAt: fromStored(row.created_at), updatedAt: fromStored(row.updated_at),
  };
}

/** Tickets over SQL. */
export function ticketRepository(db: Kysely<Database>, kind: StoreKind, together: Together, feed: TicketFeed): TicketRepository {
  const queue = outboxInsert(db);
  // CF-YYYYMMDD-NNNN from the counter row, in each database's own words.
  const padded = kind === 'postgres' ? sql`lpad(c.last::text, 4, '0')` : sql`printf('%04d', c.last)`;

  const eventStatement = (ticketId: string, type: string, actor: string, data: object, at: Date, onlyIfChange?: string): CompiledQuery => {
    const values = sql`${newId()}, ${ticketId}, ${type}, ${actor}, ${JSON.stringify(data)}, ${toStored(at)}`;
    return (onlyIfChange
      ? sql`insert into ticket_events (id, ticket_id, type, actor, data, at) select ${values} where exists (select 1 from tickets where id = ${ticketId} and last_change = ${onlyIfChange})`
      : sql`insert into ticket_events (id, ticket_id, type, actor, data, at) values (${values})`).compile(db);
  };
  const guardedEvent = (ticketId: string, type: string, actor: string, data: object, at: Date, change: string): CompiledQuery =>
    sql`insert into ticket_events (id, ticket_id, type, actor, data, at)
      values (${newId()}, (select id from tickets where id = ${ticketId} and last_change = ${change}), ${type}, ${actor}, ${JSON.stringify(data)}, ${toStored(at)})`.compile(db);
  const messageStatement = (ticketId: string, m: { sender: 'user' | 'agent' | 'bot'; accountId: string | null; messageId: string | null; text: string; at: Date }): CompiledQuery =>
    db.insertInto('ticket_messages').values({
      id: newId(), ticket_id: ticketId, sender: m.sender, account_id: m.accountId, message_id: m.messageId, transcript: 0, text: m.sender === 'user' ? maskPersonalData(m.text) : m.text, at: toStored(m.at),
    }).compile();

  /** The update of a ticket to what `t` decided, guarded by the version read; sets a fresh change id. */
  const changeStatement = (ticket: Ticket, t: { state: TicketState; assignee: string | null; resolvedAt?: Date | null }, change: string, now: Date, extra: Partial<Row<'tickets'>> = {}): CompiledQuery =>
    db.updateTable('tickets').set({
      state: t.state, assignee: t.assignee, version: ticket.version + 1, last_change: change, updated_at: toStored(now),
      ...(t.resolvedAt !== undefined ? { resolved_at: t.resolvedAt === null ? null : toStored(t.resolvedAt) } : {}),
      ...extra,
    }).where('id', '=', ticket.id).where('version', '=', ticket.version).compile();

  /** The columns an action sets besides state and assignee. */
  const extraFor = (ticket: Ticket, action: TicketAction, now: Date, comment: string | null): Partial<Row<'tickets'>> => {
    switch (action.type) {
      case 'reply':
        return ticket.firstResponseAt ? {} : { first_response_at: toStored(now) };
      case 'rate':
        return { rating: action.rating, rating_comment: comment === null ? null : maskPersonalData(comment), ...(action.rating === 3 ? { flagged: 1 } : {}) };
      case 'reopen':
        return { rating: null, rating_comment: null, overdue_at: null };
      default:
        return {};
    }
  };

  const actorName = (actor: Actor): string => (actor.kind === 'account' ? actor.id : actor.kind);

  const byId = async (id: string): Promise<Ticket | null> => {
    const row = await db.selectFrom('tickets').selectAll().where((eb) => eb.or([eb('id', '=', id), eb('number', '=', id)])).executeTakeFirst();
    return row ? toTicket(row) : null;
  };

  const openStatements: TicketRepository['openStatements'] = (t, id = newId(), notInTranscript = []) => {
    const at = toStored(t.at);
    const chinaDay = chinaDate(t.at);
    const change = newId();
    const statements: CompiledQuery[] = [
      sql`insert into ticket_counters (day, last) values (${chinaDay}, 1) on conflict (day) do update set last = ticket_counters.last + 1`.compile(db),
      sql`insert into tickets (id, number, day, seq, channel, chat_id, user_id, channel_chat_id, channel_user_id, chat_kind, user_name, source, category,
          priority, state, assignee, version, last_change, due_at, first_response_due_at, first_response_at, overdue_at, resolved_at, rating, rating_comment, flagged, created_at, updated_at)
        select ${id}, ${`CF-${chinaDay.replaceAll('-', '')}-`} || ${padded}, c.day, c.last, ${t.channel}, ${t.chatRef}, ${t.userRef}, ${t.chatId}, ${t.userId}, ${t.chatKind},
          ${t.userName}, ${t.source}, ${t.category}, ${t.priority}, ${t.assignee ? 'assigned' : 'registered'}, ${t.assignee ?? null}, 1, ${change}, ${toStored(t.dueAt)},
          ${toStored(t.firstResponseDueAt)}, null, null, null, null, null, 0, ${at}, ${at}
        from ticket_counters c where c.day = ${chinaDay}`.compile(db),
      eventStatement(id, 'registered', t.actor, { source: t.source, category: t.category, priority: t.priority }, t.at),
      ...(t.assignee ? [eventStatement(id, 'claimed', t.actor, { account: t.assignee }, t.at)] : []),
      // The transcript: the requester's last messages in the chat, and in a private chat the bot's answers between them.
      sql`insert into ticket_messages (id, ticket_id, sender, account_id, message_id, transcript, text, at)
        select ${`${id}:`} || m.id, ${id}, case when m.direction = 'in' then 'user' else 'bot' end, null, m.id, 1, m.text, m.created_at
        from (select id, direction, text, created_at from messages where chat_id = ${t.chatRef} and (user_id = ${t.userRef} or (direction = 'out' and ${t.chatKind} = 'private'))
          ${notInTranscript.length > 0 ? sql`and id not in (${sql.join(notInTranscript)})` : sql``}
          order by created_at desc, id desc limit ${TRANSCRIPT_LENGTH}) m`.compile(db),
    ];
    return { id, statements };
  };

  return {
    async context(channel, chatId, userId, now) {
      const [latest, recent] = await Promise.all([
        db.selectFrom('tickets').selectAll().where('channel', '=', channel).where('channel_user_id', '=', userId).where('channel_chat_id', '=', chatId)
          .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst(),
        db.selectFrom('messages as m').innerJoin('chats as c', 'c.id', 'm.chat_id').innerJoin('users as u', 'u.id', 'm.user_id')
          .select(['m.answered', 'm.reason'])
          .where('c.channel', '=', channel).where('c.channel_chat_id', '=', chatId).where('u.channel', '=', channel).where('u.channel_user_id', '=', userId)
          .where('m.direction', '=', 'in').where('m.answered', 'is not', null)
          // "In a row" within the conversation at hand: also bounds the scan of a busy group's messages.
          .where('m.created_at', '>=', toStored(new Date(now.getTime() - DECLINE_WINDOW_MS)))
          .orderBy('m.created_at', 'desc').orderBy('m.id', 'desc').limit(2).execute(),
      ]);
      let declines = 0;
      for (const m of recent) {
        if (Number(m.answered) === 1 || !(m.reason === 'uncertain' || m.reason === 'no_match' || m.reason === 'out_of_scope')) break;
        declines++;
      }
      return { latest: latest ? toTicket(latest) : null, declines };
    },

    openStatements,

    fillNumber(ticketId, messageIds) {
      const number = sql`(select number from tickets where id = ${ticketId})`;
      return messageIds.flatMap((id) => [
        sql`update messages set text = replace(text, ${NUMBER_PLACEHOLDER}, ${number}) where id = ${id}`.compile(db),
        sql`update outbox set text = replace(text, ${NUMBER_PLACEHOLDER}, ${number}) where id = ${id}`.compile(db),
      ]);
    },

    relayStatements(ticketId, messageId, text, at) {
      return [messageStatement(ticketId, { sender: 'user', accountId: null, messageId, text, at })];
    },

    userActionStatements(ticket, action, now, rules, comment = null) {
      const t = transition(ticket, action, { kind: 'user' }, now, rules);
      const change = newId();
      return [
        changeStatement(ticket, t, change, now, extraFor(ticket, action, now, comment)),
        ...t.events.map((e) => eventStatement(ticket.id, e.type, 'user', comment && e.type === 'rated' ? { ...e.data, comment } : e.data, now, change)),
      ];
    },

    async open(t) {
      const { id, statements } = openStatements(t);
      try {
        await together(statements);
      } catch (err) {
        if (!isOpenConflict(err)) throw err;
        const existing = await db.selectFrom('tickets').selectAll().where('channel', '=', t.channel).where('channel_chat_id', '=', t.chatId)
          .where('channel_user_id', '=', t.userId).where('state', 'in', ['registered', 'assigned', 'in_progress']).executeTakeFirst();
        if (existing) return { ticket: toTicket(existing), created: false };
        throw err;
      }
      feed.committed([id]);
      return { ticket: (await byId(id)) as Ticket, created: true };
    },

    async apply(id, action, actor, now, rules, send) {
      for (;;) {
        const ticket = await byId(id);
        if (!ticket) return null;
        const t = transition(ticket, action, actor, now, rules);
        const change = newId();
        const messages = send?.(ticket) ?? [];
        const queued = messages.map((m) => ({ m, q: queue(m.outbound) }));
        // Nothing to write (claiming what one holds): the ticket as it is.
        if (t.events.length === 0 && queued.length === 0) return { ticket, events: [], outboxIds: [] };
        const [first, ...others] = t.events.length > 0 ? t.events : [{ type: 'replied' as const, data: {} }];
        try {
          await together([
            changeStatement(ticket, t, change, now, extraFor(ticket, action, now, null)),
            // Fails the unit (ticket_id is NOT NULL) unless the change above applied: then nothing of it is written.
            guardedEvent(ticket.id, first!.type, actorName(actor), first!.data, now, change),
            ...others.map((e) => eventStatement(ticket.id, e.type, actorName(actor), e.data, now)),
            ...queued.flatMap(({ m, q }) => [
              ...q.statements,
              messageStatement(ticket.id, { sender: m.from, accountId: actor.kind === 'account' && m.from === 'agent' ? actor.id : null, messageId: q.id, text: m.text, at: now }),
            ]),
          ]);
        } catch (err) {
          if (isNotNull(err)) continue;
          if (isOpenConflict(err)) throw new TicketConflict('提问人在这个聊天中已有未办结的工单，不能再打开这一张');
          throw err;
        }
        feed.committed([ticket.id]);
        return { ticket: (await byId(ticket.id)) as Ticket, events: t.events, outboxIds: queued.map(({ q }) => q.id) };
      }
    },

    find: (idOrNumber) => byId(idOrNumber),

    async resend(ticketId, messageId, accountId, now) {
      const row = await db.selectFrom('ticket_messages as tm').innerJoin('outbox as o', 'o.id', 'tm.message_id')
        .select(['tm.sender', 'tm.text as kept', 'o.channel', 'o.chat_id', 'o.channel_chat_id', 'o.kind', 'o.priority', 'o.text', 'o.reply_to', 'o.payload', 'o.source', 'o.state'])
        .where('tm.id', '=', messageId).where('tm.ticket_id', '=', ticketId).executeTakeFirst();
      if (!row) return null;
      if (row.state !== 'failed' && row.state !== 'expired' && row.state !== 'unreachable') throw new TicketConflict('这条消息没有发送失败，不需要重发');
      const q = queue({
        channel: row.channel, chatId: row.chat_id, channelChatId: row.channel_chat_id, kind: row.kind, priority: Number(row.priority), text: row.text,
        replyTo: row.reply_to, payload: row.payload === null ? null : (JSON.parse(row.payload) as OutboxPayload), source: row.source, at: now, expiresAt: null,
        // Kept when finished rows are pruned, like the message it sends again.
        dedupeKey: `ticket:${ticketId}:${newId()}`,
      });
      const id = newId();
      await together([
        ...q.statements,
        db.insertInto('ticket_messages').values({ id, ticket_id: ticketId, sender: row.sender, account_id: accountId, message_id: q.id, transcript: 0, text: row.kept, at: toStored(now) }).compile(),
        eventStatement(ticketId, 'resent', accountId, { message: messageId }, now),
      ]);
      feed.committed([ticketId]);
      return q.id;
    },

    async get(idOrNumber) {
      const ticket = await byId(idOrNumber);
      if (!ticket) return null;
      const [messages, events] = await Promise.all([
        db.selectFrom('ticket_messages as tm').leftJoin('outbox as o', 'o.id', 'tm.message_id')
          .select(['tm.id', 'tm.sender', 'tm.account_id', 'tm.text', 'tm.at', 'tm.transcript', 'tm.message_id', 'o.state as o_state', 'o.attempts as o_attempts', 'o.last_error as o_error', 'o.id as o_id'])
          .where('tm.ticket_id', '=', ticket.id).orderBy('tm.at').orderBy('tm.id').execute(),
        db.selectFrom('ticket_events').selectAll().where('ticket_id', '=', ticket.id).orderBy('at').orderBy('id').execute(),
      ]);
      return {
        ...ticket,
        messages: messages.map((m) => ({
          id: m.id, from: m.sender, accountId: m.account_id, text: m.text, at: fromStored(m.at), transcript: Number(m.transcript) === 1,
          delivery: m.o_id && m.o_state ? { state: m.o_state, attempts: Number(m.o_attempts), error: m.o_error, outboxId: m.o_id } : null,
        })),
        events: events.map((e) => ({ id: e.id, type: e.type, actor: e.actor, data: JSON.parse(e.data) as Record<string, string | number>, at: fromStored(e.at) })),
      };
    },

    async list(filter = {}) {
      let q = db.selectFrom('tickets').selectAll();
      if (filter.states && filter.states.length > 0) q = q.where('state', 'in', [...filter.states]);
      if (filter.assignee) q = q.where('assignee', '=', filter.assignee);
      if (filter.requester) q = q.where('channel', '=', filter.requester.channel).where('channel_user_id', '=', filter.requester.userId);
      const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit ?? 500).execute();
      return rows.map(toTicket);
    },

    async requesterCounts(since) {
      const rows = await db.selectFrom('tickets').select(['channel', 'channel_user_id', (eb) => eb.fn.countAll<string | number>().as('n')])
        .where('created_at', '>=', toStored(since)).groupBy(['channel', 'channel_user_id']).execute();
      return new Map(rows.map((r) => [`${r.channel}\0${r.channel_user_id}`, Number(r.n)]));
    },

    async counts(now) {
      const open = await db.selectFrom('tickets').select(['state', 'due_at', 'first_response_at', 'first_response_due_at']).where(sql<boolean>`state in ${OPEN_STATES}`).execute();
      const overdue = open.filter((r) => isOverdue({ state: r.state, dueAt: fromStored(r.due_at), firstResponseAt: r.first_response_at ? fromStored(r.first_response_at) : null, firstResponseDueAt: fromStored(r.first_response_due_at) }, now));
      return { open: open.length, overdue: overdue.length };
    },

    async due(now, followUpBefore, archiveBefore) {
      const [open, resolved, followed] = await Promise.all([
        db.selectFrom('tickets').selectAll().where(sql<boolean>`state in ${OPEN_STATES}`).where('overdue_at', 'is', null).execute(),
        db.selectFrom('tickets').selectAll().where('state', '=', 'resolved').where('resolved_at', '<', toStored(followUpBefore)).execute(),
        db.selectFrom('tickets').selectAll().where('state', '=', 'followed_up').where('updated_at', '<', toStored(archiveBefore)).execute(),
      ]);
      return { overdue: open.map(toTicket).filter((t) => isOverdue(t, now)), followUp: resolved.map(toTicket), archive: followed.map(toTicket) };
    },

    async flagOverdue(id, now) {
      const change = newId();
      const [updated] = await together([
        db.updateTable('tickets').set({ overdue_at: toStored(now), last_change: change }).where('id', '=', id).where('overdue_at', 'is', null).compile(),
        eventStatement(id, 'overdue', 'system', {}, now, change),
      ]);
      const flagged = Number(updated?.numAffectedRows ?? 0) === 1;
      if (flagged) feed.committed([id]);
      return flagged;
    },

    async requester(channel, chatId, userId) {
      const [chat, user] = await Promise.all([
        db.selectFrom('chats').select(['id', 'kind']).where('channel', '=', channel).where('channel_chat_id', '=', chatId).executeTakeFirst(),
        db.selectFrom('users').select(['id', 'display_name']).where('channel', '=', channel).where('channel_user_id', '=', userId).executeTakeFirst(),
      ]);
      return chat && user ? { chatRef: chat.id, userRef: user.id, chatKind: chat.kind, userName: user.display_name } : null;
    },

    async lastInbound(chatRef, userRef) {
      const row = await db.selectFrom('messages').select('channel_message_id').where('chat_id', '=', chatRef).where('user_id', '=', userRef).where('direction', '=', 'in')
        .orderBy('created_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row?.channel_message_id ?? null;
    },

    watch(listener) {
      return feed.subscribe(listener);
    },

    changed(ids) {
      feed.committed(ids);
    },
  };
}
