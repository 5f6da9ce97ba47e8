/** The API's JSON shapes the pages read (OpenAPI at /docs is the reference). */

/** A close entry offered when the bot is not sure. */
export interface Suggestion {
  readonly id: string;
  readonly title: string;
  readonly score: number;
}

/** The answer to one question: POST /api/ask, the same object as one `chunfeng ask --json` line. */
export interface Answer {
  readonly q: string;
  readonly answered: boolean;
  readonly id: string | null;
  readonly title: string | null;
  readonly score: number;
  readonly answer: string | null;
  readonly suggestions: Suggestion[];
  readonly reason: 'answered' | 'referred' | 'uncertain' | 'no_match' | 'small_talk' | 'empty';
  readonly sources: string[];
  readonly citations: { readonly id: string; readonly title: string }[];
}

/** What an account may do. */
export type AccountRole = 'admin' | 'staff' | 'agent';

/** An account as GET /api/me and /api/accounts show it. */
export interface Account {
  readonly id: string;
  readonly name: string;
  readonly role: AccountRole;
  readonly createdAt: string;
  readonly disabledAt: string | null;
}

/** POST /api/accounts: the new account and its token, shown this once. */
export interface CreatedAccount extends Account {
  readonly token: string;
}

/** A chat linked to a taxpayer profile. */
export interface LinkedChat {
  readonly channel: 'telegram' | 'wechat';
  readonly chatId: string;
  readonly via: 'staff' | 'code';
  readonly linkedAt: string;
}

/** A taxpayer profile as GET /api/subscribers shows it. */
export interface Subscriber {
  readonly taxpayerId: string;
  readonly name: string;
  readonly taxpayerType: string;
  readonly industry: string | null;
  readonly industryName: string | null;
  readonly credit: string | null;
  readonly office: string | null;
  readonly region: string | null;
  readonly tags: string[];
  readonly chats: LinkedChat[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** GET /api/subscribers. */
export interface SubscriberPage {
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
  readonly subscribers: Subscriber[];
}

/** A value in use and how many profiles have it. */
export interface Facet {
  readonly value: string;
  readonly count: number;
}

/** GET /api/subscribers/options: the choices of filters and audiences. */
export interface SubscriberOptions {
  readonly taxpayerTypes: string[];
  readonly credits: string[];
  readonly industries: { readonly code: string; readonly name: string; readonly label: string }[];
  readonly offices: Facet[];
  readonly regions: Facet[];
  readonly tags: Facet[];
  readonly topics: string[];
  readonly columns: { readonly field: string; readonly label: string; readonly required: boolean; readonly synonyms: string[] }[];
}

/** POST /api/subscribers/import: what a CSV import did. */
export interface CsvImportReport {
  readonly encoding: string;
  readonly rows: number;
  readonly upserted: number;
  readonly created: number;
  readonly updated: number;
  readonly errors: { readonly row: number; readonly field: string | null; readonly column: string | null; readonly message: string }[];
  readonly unknownColumns: string[];
}

/** POST /api/subscribers/:taxpayerId/binding-code. */
export interface BindingCode {
  readonly taxpayerId: string;
  readonly name: string;
  readonly code: string;
  readonly expiresAt: string;
}

/** Who a notice is for: each field a list (any of them), all fields together. */
export type Audience = Partial<Record<'taxpayerType' | 'industry' | 'credit' | 'office' | 'region' | 'tags', string[]>>;

/** POST /api/audiences/preview, and the preview of GET /api/notices/:id. */
export interface Preview {
  readonly targeted: number;
  readonly households: number;
  readonly matched: number;
  readonly unlinked: number;
  readonly optedOut: number;
  readonly withoutItems: number;
  readonly byOffice: { readonly office: string | null; readonly households: number; readonly chats: number }[];
  readonly items: { readonly entryId: string; readonly title: string; readonly chats: number }[];
  readonly sample: {
    readonly taxpayerId: string;
    readonly name: string;
    readonly taxpayerType: string;
    readonly industry: string | null;
    readonly credit: string | null;
    readonly office: string | null;
    readonly region: string | null;
    readonly tags: string[];
    readonly channel: string;
    readonly items: string[];
  }[];
}

/** A knowledge entry a pack can hold (GET /api/entries). */
export interface EntryOption {
  readonly id: string;
  readonly title: string;
  readonly kind: string;
  readonly category: string;
  readonly audience: Record<string, string[]>;
  readonly validUntil: string | null;
}

/** A reminder round of a notice. */
export interface Reminder {
  readonly afterHours: number;
  readonly text: string | null;
}

/** A notice in GET /api/notices. */
export interface NoticeSummary {
  readonly id: string;
  readonly title: string;
  readonly kind: 'notice' | 'pack';
  /** draft 草稿, sending 正在排队, queued 已全部排队（进度见报告）. */
  readonly state: string;
  /** Given when sending starts (已读 12). */
  readonly number: number | null;
  readonly targeted: number;
  readonly topics: string[];
  readonly itemCount: number;
  readonly createdAt: string;
  readonly createdBy: { readonly id: string; readonly name: string } | null;
}

/** GET /api/notices/:id. */
export interface NoticeDetail extends Omit<NoticeSummary, 'itemCount'> {
  readonly text: string;
  readonly audience: Audience;
  readonly reminders: Reminder[];
  readonly items: { readonly entryId: string; readonly title: string; readonly category: string; readonly body: string; readonly sources: string[]; readonly audience: Audience }[];
  readonly preview: Preview;
}

/** Delivery and read figures of a group of recipients. */
export interface DeliveryCounts {
  readonly targeted: number;
  readonly sent: number;
  readonly delivered: number;
  readonly failed: number;
  readonly unreachable: number;
  readonly read: number;
  readonly readRate: number;
}

/** GET /api/notices/:id/report. */
export interface NoticeReport extends DeliveryCounts {
  readonly id: string;
  readonly number: number | null;
  readonly title: string;
  readonly state: string;
  readonly sentAt: string | null;
  readonly pending: number;
  readonly byOffice: (DeliveryCounts & { readonly office: string | null })[];
  readonly items: { readonly entryId: string; readonly title: string; readonly recipients: number }[];
  readonly reminders: { readonly round: number; readonly afterHours: number; readonly startedAt: string; readonly recipients: number; readonly finishedAt: string | null }[];
  /** The planned round still to come and when it will go: office hours on a working day (holidays skipped). */
  readonly nextReminder: { readonly round: number; readonly afterHours: number; readonly at: string } | null;
  readonly deferred: { readonly count: number; readonly until: string | null };
}

/** Where a ticket stands: 已登记 → 已分派 → 处理中 → 已答复 → 已回访 → 已归档. */
export type TicketState = 'registered' | 'assigned' | 'in_progress' | 'resolved' | 'followed_up' | 'archived';

/** How a message to the chat stands: pending, sending, sent, failed, expired, unreachable (blocked, removed from the group). */
export interface Delivery {
  readonly state: string;
  readonly attempts: number;
  readonly error: string | null;
}

/** One line of a ticket's conversation: what the user said, what the bot answered, what an agent replied. */
export interface TicketMessage {
  readonly id: string;
  readonly from: 'user' | 'agent' | 'bot';
  readonly text: string;
  readonly at: string;
  /** The agent who wrote it. */
  readonly agent: { readonly id: string; readonly name: string } | null;
  /** Said before the ticket opened (the conversation that led to it). */
  readonly transcript: boolean;
  /** For messages to the chat: whether the bot delivered it yet; null for the user's own. */
  readonly delivery: Delivery | null;
}

/** One audit row of a ticket: who did what, when. Never changed once written. */
export interface TicketEvent {
  readonly type: string;
  /** An account id, `user` (the requester) or `system` (the schedules). */
  readonly actor: string;
  readonly actorName: string | null;
  readonly at: string;
  /** What the event carries: the account a ticket went to, the rating, the resolution. */
  readonly data: Readonly<Record<string, string | number>>;
}

/** A ticket as GET /api/tickets lists it (contracts.md, and the fields OpenAPI at /docs adds). */
export interface Ticket {
  readonly id: string;
  readonly number: string;
  readonly state: TicketState;
  readonly channel: string;
  readonly chatId: string;
  readonly userId: string;
  readonly userName: string | null;
  readonly chatKind: 'private' | 'group';
  /** How it opened: 转人工, a complaint, the bot's offer after two misses, or an agent taking over the chat. */
  readonly source: 'human' | 'complaint' | 'offer' | 'agent';
  readonly category: string;
  readonly priority: 'normal' | 'high' | 'urgent';
  /** The id of the account handling it. */
  readonly assignee: string | null;
  readonly assigneeName: string | null;
  readonly dueAt: string;
  /** Working days left before dueAt, by the service's calendar: 0 on the last day, negative once past. */
  readonly workingDaysLeft: number;
  readonly overdue: boolean;
  readonly rating: 1 | 2 | 3 | null;
  readonly ratingComment: string | null;
  /** Rated 不满意: waits for a supervisor. */
  readonly flagged: boolean;
  /** 3 or more tickets from this requester in 30 days. */
  readonly repeatRequester: boolean;
  readonly recentTickets: number;
  readonly createdAt: string;
}

/** GET /api/tickets/:id, and what every action answers. */
export interface TicketDetail extends Ticket {
  readonly messages: TicketMessage[];
  readonly events: TicketEvent[];
}

/** A row of GET /api/insight/hot. */
export interface HotTopic {
  readonly id: string;
  readonly title: string;
  readonly count: number;
  readonly previous: number;
  readonly change: number;
}

/** GET /api/insight/hot. */
export interface HotBoard {
  readonly period: 'day' | 'week' | 'month';
  readonly from: string;
  readonly to: string;
  readonly previousFrom: string;
  readonly topics: HotTopic[];
}

/** GET /api/insight/filters. */
export interface BoardFilters {
  readonly offices: string[];
  readonly chats: { readonly id: string; readonly channel: string; readonly kind: string; readonly title: string | null; readonly office: string | null }[];
}

/** A question behind a board row. */
export interface BoardMessage {
  readonly id: string;
  readonly channel: string;
  readonly chat: { readonly id: string; readonly title: string | null };
  readonly text: string;
  readonly score: number | null;
  readonly at: string;
}

/** A group of GET /api/insight/unanswered. */
export interface InboxGroup {
  readonly id: string;
  readonly count: number;
  readonly examples: string[];
  readonly keys: string[];
  readonly firstAt: string;
  readonly lastAt: string;
}

/** A decision of GET /api/insight/decisions. */
export interface InboxDecision {
  readonly id: string;
  readonly state: 'attached' | 'dismissed';
  readonly entry: string | null;
  readonly title: string | null;
  readonly examples: string[];
  readonly decidedAt: string;
  readonly decidedBy: { readonly id: string; readonly name: string } | null;
  readonly answeredSince: number;
  readonly declinedSince: number;
}

/** A finding of POST /api/insight/drafts/check. */
export interface DraftProblem {
  readonly line: number;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** A share: count out of `of`; `rate` 0-1, null when there was nothing to count. */
export interface Share {
  readonly count: number;
  readonly of: number;
  readonly rate: number | null;
}

/** GET /api/insight/report: the service report of a period. */
export interface ServiceReport {
  readonly period: { readonly label: string; readonly from: string; readonly to: string; readonly firstDay: string; readonly lastDay: string };
  readonly generatedAt: string;
  readonly questions: {
    readonly total: number;
    readonly answered: number;
    readonly referred: number;
    readonly offered: number;
    readonly accepted: number;
    readonly declined: number;
    readonly deflection: Share;
    readonly acceptance: Share;
  };
  readonly tickets: {
    readonly total: number;
    readonly escalation: Share;
    readonly byCategory: { readonly key: string; readonly count: number }[];
    readonly byChannel: { readonly key: string; readonly count: number }[];
    readonly sla: { readonly firstResponse: Share & { readonly running: number }; readonly resolution: Share & { readonly running: number } };
    readonly medianFirstResponseMinutes: number | null;
    readonly medianResolutionMinutes: number | null;
    readonly csat: { readonly rating: number; readonly label: string; readonly count: number; readonly rate: number | null }[];
    readonly dissatisfied: { readonly number: string; readonly category: string; readonly assignee: string | null; readonly ratedAt: string; readonly followUpAt: string | null; readonly followUpBy: string | null }[];
    readonly repeatRequesters: { readonly userId: string; readonly userName: string | null; readonly channel: string; readonly tickets: number }[];
  };
  readonly reads: { readonly total: Share; readonly byOffice: { readonly office: string; readonly targeted: number; readonly read: number; readonly readRate: number | null }[] };
  readonly hours: number[];
  readonly busiest: { readonly hour: number; readonly count: number }[];
}

/** A person found by GET /api/people. */
export interface PersonMatch {
  readonly channel: string;
  readonly user: string;
  readonly displayName: string | null;
  readonly firstSeenAt: string;
}

/** One export or deletion in GET /api/people/requests. */
export interface DataRequest {
  readonly id: string;
  readonly kind: 'export' | 'delete';
  readonly channel: string;
  readonly subject: string;
  readonly by: string;
  readonly note: string | null;
  readonly counts: Record<string, number>;
  readonly at: string;
}
