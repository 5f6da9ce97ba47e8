import type { Insertable, Selectable } from 'kysely';
import type { AccountRole } from '../core/accounts.js';
import type { TicketState } from '../core/tickets/lifecycle.js';
import type { CreditGrade, TaxpayerType } from '../core/notices/vocabulary.js';

export type { AccountRole } from '../core/accounts.js';

/**
 * Timestamps are stored as ISO 8601 UTC text from `Date#toISOString()`
 * (`2026-11-22T08:30:00.000Z`), never as bigint milliseconds: the text reads the same in `sqlite3`
 * and `psql` during an incident, both drivers return it unchanged (pg returns int8 as a string and
 * SQLite has no date type, so numbers would need per-driver parsing), and because the format has a
 * fixed width and is always UTC, comparing and sorting the text compares and sorts the instants, so
 * `<`, ORDER BY and indexes work the same on both databases without date functions. The price: every
 * value must come from {@link toStored}, never from the database's own clock.
 */
export type StoredTime = string;

/** The stored form of an instant (see {@link StoredTime}); throws RangeError on an invalid Date. */
export function toStored(instant: Date): StoredTime {
  return instant.toISOString();
}

/** Reads back a value written by {@link toStored}. */
export function fromStored(text: StoredTime): Date {
  return new Date(text);
}

/** Whether a chat has two people (the user and the bot) or is a group. */
export type ChatKind = 'private' | 'group';

/** Whether the bot received a message or sent it. */
export type Direction = 'in' | 'out';

/** A person on one channel; the same person on WeChat and Telegram is two rows. */
export interface UsersTable {
  id: string;
  channel: string;
  channel_user_id: string;
  display_name: string | null;
  created_at: StoredTime;
}

/** A private or group chat on one channel. */
export interface ChatsTable {
  id: string;
  channel: string;
  channel_chat_id: string;
  kind: ChatKind;
  title: string | null;
  created_at: StoredTime;
  /** When the network last refused the bot this chat (Telegram 403); null while it is reachable. */
  unreachable_at: StoredTime | null;
  unreachable_reason: string | null;
}

/**
 * Every message in or out, with the bot's decision on inbound ones (which entry, how sure, whether it
 * answered and why not), so answers can be audited and the index tuned from real questions.
 */
export interface MessagesTable {
  id: string;
  channel: string;
  chat_id: string;
  user_id: string | null;
  direction: Direction;
  channel_message_id: string | null;
  text: string;
  created_at: StoredTime;
  entry_id: string | null;
  score: number | null;
  /** 1 or 0 (booleans are integers on both databases); null when no decision was made. */
  answered: number | null;
  reason: string | null;
  /** The analyzer's key of a question (core/insight/inbox.ts); null for chatter, small talk and the bot's messages. */
  question_key: string | null;
}

/** Where an outbox row is on its way: waiting, claimed by an instance, or finished one of four ways. */
export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'expired' | 'unreachable';

/**
 * Everything the bot sends, written in the same transaction as what caused it, and sent by the
 * dispatcher (channels/dispatcher.ts). Why each column is there: store/README.md.
 */
export interface OutboxTable {
  /** The id of the outgoing row in `messages` it delivers: the log shows whether each message arrived. */
  id: string;
  channel: string;
  chat_id: string;
  /** The chat as its network names it, so a send needs no join. */
  channel_chat_id: string;
  /** What it is (`reply`, `warning`; agent replies and notices later); the logs and metrics say it. */
  kind: string;
  /** Lower goes first: replies to a waiting person before broadcasts (see OUTBOX_PRIORITY). */
  priority: number;
  /** What caused it, as `kind:id` (the inbound message, a ticket message, a notice). */
  source: string | null;
  text: string;
  /** The network's id of the message to quote. */
  reply_to: string | null;
  /** JSON of {@link OutboxPayload}: what a channel renders beyond the text. */
  payload: string | null;
  /** Unique when set: a second row with the same key is never queued (one notice per recipient). */
  dedupe_key: string | null;
  state: OutboxState;
  /** Sends started; a row that used up OUTBOX_MAX_ATTEMPTS is failed. */
  attempts: number;
  /** Not sent before this time: back-off after a failure, a budget's next window, a pause. */
  not_before: StoredTime;
  /** Expired instead of sent once this has passed; null never. */
  expires_at: StoredTime | null;
  /** The instance that claimed it, and until when the claim holds unless renewed. */
  claimed_by: string | null;
  lease_until: StoredTime | null;
  created_at: StoredTime;
  sent_at: StoredTime | null;
  /** The network's id of the sent message (Telegram's message_id). */
  channel_message_id: string | null;
  /** Why the last attempt did not go through, or why the row was given up. */
  last_error: string | null;
}

/** A channel no instance may send on until `until` (Telegram's 429 retry_after applies to the bot). */
export interface ChannelPausesTable {
  channel: string;
  until: StoredTime;
  reason: string | null;
}

/** The suggestions last offered to one user in one chat, so "reply 1-3" works on any instance. */
export interface PendingSuggestionsTable {
  channel: string;
  chat_id: string;
  user_id: string;
  /** JSON array of entry ids, in the order they were offered. */
  suggestion_ids: string;
  created_at: StoredTime;
  expires_at: StoredTime;
}

/** Outgoing messages counted in the current fixed window of each budget key, shared by all instances. */
export interface SendBudgetTable {
  key: string;
  window_start: StoredTime;
  count: number;
}

/** The next free time (epoch ms) of a paced send budget: one row per key. */
export interface SendPaceTable {
  key: string;
  next_at: number;
}

/** Who may use the staff API and the console: bearer tokens are stored only as SHA-256 hashes. */
export interface AccountsTable {
  id: string;
  /** The name shown in the console and beside an agent's replies in the chats. */
  name: string;
  role: AccountRole;
  token_hash: string;
  created_at: StoredTime;
  /** When an admin disabled the account (its token is refused from then on); null while it is in use. */
  disabled_at: StoredTime | null;
}

/**
 * A taxpayer profile from a staff import, one row per taxpayer id. Vocabularies (type, credit grade,
 * industry section letter) are those of core/notices/vocabulary.ts; `tags` is a JSON array of text.
 */
export interface SubscribersTable {
  id: string;
  taxpayer_id: string;
  name: string;
  taxpayer_type: TaxpayerType;
  industry: string | null;
  credit: CreditGrade | null;
  office: string | null;
  region: string | null;
  tags: string;
  created_at: StoredTime;
  updated_at: StoredTime;
}

/** How a chat came to be linked: by staff (an import) or by the taxpayer sending a binding code. */
export type LinkVia = 'staff' | 'code';

/** A chat linked to a profile; a chat links to one profile at most (the primary key). */
export interface SubscriberChatsTable {
  channel: string;
  channel_chat_id: string;
  subscriber_id: string;
  via: LinkVia;
  linked_at: StoredTime;
}

/** A chat's choice about one topic (订阅 1 / 退订 0); `*` is every topic (core/notices/topics.ts). */
export interface ChatTopicsTable {
  channel: string;
  channel_chat_id: string;
  topic: string;
  subscribed: number;
  updated_at: StoredTime;
}

/** A one-time code a taxpayer sends to the bot (绑定 123456) to link their chat to a profile. */
export interface BindingCodesTable {
  code: string;
  subscriber_id: string;
  /** The account that issued it. */
  created_by: string | null;
  created_at: StoredTime;
  expires_at: StoredTime;
  /** When it was redeemed, and by which chat; null while unused. */
  used_at: StoredTime | null;
  used_channel: string | null;
  used_chat_id: string | null;
}

/** A notice or policy pack; `audience`, `topics` and `reminders` are JSON (core/notices/notice.ts). */
export interface NoticesTable {
  id: string;
  title: string;
  text: string;
  audience: string;
  topics: string;
  reminders: string;
  /**
   * `draft` until delivery starts; `sending` while its recipients are being queued in the outbox
   * (any instance finishes that after a crash); `queued` once every recipient has an outbox row.
   */
  state: string;
  /** Short number recipients name it by (已读 12), given when delivery starts; null for a draft. */
  number: number | null;
  /** Chats that would have got it when it was saved (the contract's `targeted` of POST /api/notices). */
  targeted: number;
  created_by: string | null;
  created_at: StoredTime;
  sent_at: StoredTime | null;
}

/** A knowledge entry as copied into a pack when it was saved; `sources` and `audience` are JSON. */
export interface NoticeItemsTable {
  notice_id: string;
  position: number;
  entry_id: string;
  title: string;
  category: string;
  body: string;
  sources: string;
  audience: string;
}

/**
 * One row per notice and recipient chat, filled when a notice is sent: the items this chat got (JSON
 * array of entry ids), the office at sending time for the report, the outbox row that carries it,
 * and its read receipt and reminder rounds.
 */
export interface NoticeRecipientsTable {
  notice_id: string;
  channel: string;
  channel_chat_id: string;
  subscriber_id: string;
  office: string | null;
  items: string;
  outbox_id: string | null;
  created_at: StoredTime;
  read_at: StoredTime | null;
  reminders_sent: number;
  last_reminded_at: StoredTime | null;
  /** How the reading was confirmed: `button` (Telegram's 已读) or `reply` (the text 已读). */
  read_via: string | null;
}

/** A reminder round of a notice: when it began, how many it went to, and when all were queued. */
export interface NoticeRoundsTable {
  notice_id: string;
  round: number;
  started_at: StoredTime;
  recipients: number;
  finished_at: StoredTime | null;
}

/** Answered questions of one Beijing day, by the chat's tax office ('' for none) and topic (the entry answered with). */
export interface QuestionDaysTable {
  day: string;
  office: string;
  entry_id: string;
  count: number;
}

/** Days whose questions are in `question_days`. */
export interface RolledDaysTable {
  day: string;
  rolled_at: StoredTime;
}

/** What staff did with a group of unanswered questions. */
export type InboxState = 'open' | 'attached' | 'dismissed';

/** Declined questions counted by analyzer key as they arrive; `decision_id` once staff acted on the key. */
export interface InboxKeysTable {
  key: string;
  count: number;
  first_at: StoredTime;
  last_at: StoredTime;
  state: InboxState;
  decision_id: string | null;
}

/** A group of unanswered questions attached to an entry or dismissed: its keys and example texts are JSON arrays. */
export interface InboxDecisionsTable {
  id: string;
  state: Exclude<InboxState, 'open'>;
  entry_id: string | null;
  keys: string;
  examples: string;
  decided_by: string | null;
  decided_at: StoredTime;
}

/** A file of the knowledge folder as written from the console (path relative to the folder). */
export interface KnowledgeRevisionsTable {
  id: string;
  path: string;
  content: string;
  summary: string;
  created_by: string | null;
  created_at: StoredTime;
}

/** One Beijing day's questions of one hour, reason and next step, counted once final (store/report.ts). */
export interface ReportDaysTable {
  day: string;
  /** Beijing time, 0-23. */
  hour: number;
  reason: string;
  picked: number;
  escalated: number;
  count: number;
}

/** The days whose counts are in `report_days` (a day without questions has no rows there, but is kept). */
export interface ReportKeptDaysTable {
  day: string;
  kept_at: StoredTime;
}

/** What was done with a person's data on request (个人信息保护法): exported, or deleted. */
export type DataRequestKind = 'export' | 'delete';

/**
 * One export or deletion of a person's data: who did it, when, and how many rows of each kind it
 * covered. The person is named by a SHA-256 of channel and user id (so staff can check whether a
 * given person's request was handled) and a masked hint, never in clear: the log outlives the data.
 */
export interface DataRequestsTable {
  id: string;
  kind: DataRequestKind;
  channel: string;
  subject_hash: string;
  subject_hint: string;
  /** `account:<id>` for the console and the API, `cli:<login>` for the command line. */
  actor: string;
  /** The request's reference or reason, as staff typed it. */
  note: string | null;
  /** JSON object: rows of each kind exported or deleted. */
  counts: string;
  created_at: StoredTime;
}

/** The whole schema as Kysely sees it; every row type in the store derives from this. */
export interface Database {
  users: UsersTable;
  chats: ChatsTable;
  messages: MessagesTable;
  outbox: OutboxTable;
  channel_pauses: ChannelPausesTable;
  pending_suggestions: PendingSuggestionsTable;
  send_budget: SendBudgetTable;
  send_pace: SendPaceTable;
  accounts: AccountsTable;
  subscribers: SubscribersTable;
  subscriber_chats: SubscriberChatsTable;
  chat_topics: ChatTopicsTable;
  binding_codes: BindingCodesTable;
  notices: NoticesTable;
  notice_items: NoticeItemsTable;
  notice_recipients: NoticeRecipientsTable;
  notice_rounds: NoticeRoundsTable;
  question_days: QuestionDaysTable;
  rolled_days: RolledDaysTable;
  inbox_keys: InboxKeysTable;
  inbox_decisions: InboxDecisionsTable;
  knowledge_revisions: KnowledgeRevisionsTable;
  report_days: ReportDaysTable;
  report_kept_days: ReportKeptDaysTable;
  data_requests: DataRequestsTable;
  ticket_counters: TicketCountersTable;
  tickets: TicketsTable;
  ticket_events: TicketEventsTable;
  ticket_messages: TicketMessagesTable;
}

/** The last ticket number given on a China day (migration 0005). */
export interface TicketCountersTable {
  day: string;
  last: number;
}

/** How a ticket came to be: 转人工, a complaint, the bot's offer after two misses, an agent taking over a chat. */
export type TicketSource = 'human' | 'complaint' | 'offer' | 'agent';

/** How urgent a ticket is. */
export type TicketPriority = 'normal' | 'high' | 'urgent';

/** A request for a person (see src/core/tickets/ and store/README.md). */
export interface TicketsTable {
  id: string;
  /** CF-YYYYMMDD-NNNN, made from `day` and `seq` inside the unit that opens the ticket. */
  number: string;
  day: string;
  seq: number;
  channel: string;
  chat_id: string;
  user_id: string;
  channel_chat_id: string;
  channel_user_id: string;
  chat_kind: ChatKind;
  user_name: string | null;
  source: TicketSource;
  category: string;
  priority: TicketPriority;
  state: TicketState;
  assignee: string | null;
  version: number;
  last_change: string;
  due_at: StoredTime;
  first_response_due_at: StoredTime;
  first_response_at: StoredTime | null;
  /** When the schedule found it past due (and wrote the audit event); null while on time. */
  overdue_at: StoredTime | null;
  resolved_at: StoredTime | null;
  rating: number | null;
  rating_comment: string | null;
  /** 1: a supervisor should look (rated 不满意). */
  flagged: number;
  created_at: StoredTime;
  updated_at: StoredTime;
}

/** The audit trail of tickets: written once, never updated or deleted (triggers refuse it). */
export interface TicketEventsTable {
  id: string;
  ticket_id: string;
  type: string;
  actor: string;
  /** JSON object of details. */
  data: string;
  at: StoredTime;
}

/** What was said on a ticket, both ways: written once, never updated or deleted. */
export interface TicketMessagesTable {
  id: string;
  ticket_id: string;
  sender: 'user' | 'agent' | 'bot';
  account_id: string | null;
  message_id: string | null;
  transcript: number;
  text: string;
  at: StoredTime;
}

/** A row as read from a table. */
export type Row<T extends keyof Database> = Selectable<Database[T]>;

/** A row as written to a table. */
export type NewRow<T extends keyof Database> = Insertable<Database[T]>;
