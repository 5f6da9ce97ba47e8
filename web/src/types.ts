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
  readonly deferred: { readonly count: number; readonly until: string | null };
}
