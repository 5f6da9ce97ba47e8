import { sql } from 'kysely';
import { accountRepository, type AccountRepository } from './accounts.js';
import { bindingRepository, type BindingRepository } from './bindings.js';
import { budgetRepository, type BudgetRepository } from './budget.js';
import { deliveryRepository, type DeliveryRepository } from './delivery.js';
import { connect, type ConnectOptions, type StoreKind } from './connect.js';
import { identityRepository, type IdentityRepository } from './identities.js';
import { insightRepository, type InsightRepository } from './insight.js';
import { intakeRepository, type IntakeRepository } from './intake.js';
import { messageRepository, type MessageRepository } from './messages.js';
import { noticeRepository, type NoticeRepository } from './notices.js';
import { outboxRepository, type OutboxRepository } from './outbox.js';
import { peopleRepository, type PeopleRepository } from './people.js';
import { reportRepository, type ReportRepository } from './report.js';
import { subscriberRepository, type SubscriberRepository } from './subscribers.js';
import { suggestionRepository, type SuggestionRepository } from './suggestions.js';
import { localFeed, postgresFeed } from './ticket-feed.js';
import { ticketRepository, type TicketRepository } from './tickets.js';

export type { Account, AccountRepository, CreatedAccount } from './accounts.js';
export { newToken } from './accounts.js';
export type { BindingRepository, IssuedCode, Redemption } from './bindings.js';
export { BINDING_LIMITS } from './bindings.js';
export type { BudgetRepository } from './budget.js';
export type { DeliveryRecord, DeliveryRepository, ReadOutcome, Round, Unqueued } from './delivery.js';
export type { ConnectOptions as StoreOptions, StoreKind } from './connect.js';
export type { Chat, ChatIdentity, IdentityRepository, User, UserIdentity } from './identities.js';
export type { BoardChat, BoardFilter, BoardMessage, InboxDecision, InsightRepository, KnowledgeRevision, NewInboxDecision } from './insight.js';
export type { Intake, IntakeRepository, IntakeResult } from './intake.js';
export type { Decision, MessageRepository, NewMessage, StoredMessage } from './messages.js';
export type { NoticeRepository, NoticeSummary, StoredNotice, StoredRecipient } from './notices.js';
export { OUTBOX_PRIORITY } from './outbox.js';
export type { DataRequest, PeopleRepository, PersonData, PersonKey, PersonMatch, RequestBy, RequestCounts } from './people.js';
export { maskUserId } from './people.js';
export type { ReportRepository } from './report.js';
export type { ClaimedItem, NewOutboxItem, Outcome, OutboxDepth, OutboxItem, OutboxPayload, OutboxRepository, Rate } from './outbox.js';
export type { AccountRole, ChatKind, Direction, LinkVia, OutboxState } from './schema.js';
export type { Facets, LinkedChat, StoredProfile, SubscriberFilter, SubscriberRepository, UpsertOutcome } from './subscribers.js';
export type { SuggestionKey, SuggestionRepository } from './suggestions.js';
export type { TicketPriority, TicketSource } from './schema.js';
export { NUMBER_PLACEHOLDER, isOpenConflict, isOverdue } from './tickets.js';
export type { ActionMessage, Applied, NewTicket, RequesterContext, StoredTicketEvent, Ticket, TicketDetail, TicketFilter, TicketMessage, TicketRepository } from './tickets.js';

/**
 * The service's persistent state, the same on SQLite and PostgreSQL. Each concern is a small
 * repository; the rest of the code sees these interfaces, never SQL or a driver.
 */
export interface Store {
  readonly kind: StoreKind;
  readonly identities: IdentityRepository;
  readonly messages: MessageRepository;
  /** Inbound messages with their decision and replies, stored as one unit. */
  readonly intake: IntakeRepository;
  /** Everything the bot sends, until it is sent or given up. */
  readonly outbox: OutboxRepository;
  readonly suggestions: SuggestionRepository;
  readonly budget: BudgetRepository;
  readonly accounts: AccountRepository;
  readonly subscribers: SubscriberRepository;
  readonly bindings: BindingRepository;
  readonly notices: NoticeRepository;
  /** The rows the service report is computed from. */
  readonly report: ReportRepository;
  /** A person's data on request: export, delete, and the log of both. */
  readonly people: PeopleRepository;
  /** Requests for a person, their conversation and audit trail. */
  readonly tickets: TicketRepository;
  /** Resolves once ticket changes are being heard (the live feed's connection on PostgreSQL). */
  listening(): Promise<void>;
  /** Sending notices: queueing, read receipts, reminder rounds, the report's rows. */
  readonly delivery: DeliveryRepository;
  /** The hot-questions board, the unanswered inbox, knowledge revisions and retention. */
  readonly insight: InsightRepository;
  /** Resolves when the database answers a query (for /readyz); rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the file or the connection pool; calling it again does nothing. */
  close(): Promise<void>;
}

/**
 * Opens the store at `sqlite:PATH` (creating the folder; `sqlite::memory:` for a throwaway one) or
 * `postgres://...` (the connection's first search_path schema holds the tables), and applies pending
 * migrations before it resolves. Open one store per database per process and share it.
 */
export async function openStore(databaseUrl: string, options: ConnectOptions = {}): Promise<Store> {
  const { db, kind, together } = await connect(databaseUrl, options);
  let closed: Promise<void> | null = null;
  const feed = kind === 'postgres' ? postgresFeed(databaseUrl, options.onPoolError) : localFeed();
  const tickets = ticketRepository(db, kind, together, feed);
  return {
    kind,
    identities: identityRepository(db),
    messages: messageRepository(db, together),
    insight: insightRepository(db, together),
    intake: intakeRepository(db, together, (ids) => feed.committed(ids)),
    outbox: outboxRepository(db, kind, together),
    suggestions: suggestionRepository(db),
    budget: budgetRepository(db),
    accounts: accountRepository(db),
    subscribers: subscriberRepository(db),
    bindings: bindingRepository(db),
    notices: noticeRepository(db),
    report: reportRepository(db, together),
    people: peopleRepository(db, together),
    tickets,
    listening: () => feed.listening(),
    delivery: deliveryRepository(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    close() {
      closed ??= feed.close().then(() => db.destroy());
      return closed;
    },
  };
}
