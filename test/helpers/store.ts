import { afterEach, beforeEach, it } from 'vitest';
import { join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import { TEST_PG_URL, freshPostgresSchema } from './databases.js';
import { removeDir, tempDir } from './knowledge.js';

/** A store on a fresh database of each kind, with a plain Kysely beside it for what no repository writes yet. */
export function storeOn(pgWanted: boolean): { open(): Promise<{ store: Store; raw: Kysely<Database> }>; close(): Promise<void> } {
  let cleanup: () => Promise<void> = async () => undefined;
  let store: Store | null = null;
  let raw: Kysely<Database> | null = null;
  return {
    async open() {
      if (pgWanted && TEST_PG_URL) {
        const schema = await freshPostgresSchema(TEST_PG_URL);
        store = await openStore(schema.url);
        raw = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: schema.url, max: 1 }) }) });
        cleanup = schema.cleanup;
      } else {
        const dir = tempDir('chunfeng-report-');
        const path = join(dir, 'db.sqlite');
        store = await openStore(`sqlite:${path}`);
        raw = new Kysely<Database>({ dialect: new SqliteDialect({ database: new Sqlite(path) }) });
        cleanup = async () => removeDir(dir);
      }
      return { store, raw };
    },
    async close() {
      await raw?.destroy();
      await store?.close();
      await cleanup();
    },
  };
}

/**
 * For the body of a `describe.each(BOTH_DATABASES)`: a fresh store (and raw connection) before each
 * test, closed after it, and `test`, skipped with its label when PostgreSQL is not configured.
 */
export function eachTestStore(onPg: boolean): { readonly store: Store; readonly raw: Kysely<Database>; readonly test: ReturnType<typeof it.skipIf> } {
  const target = storeOn(onPg);
  const skipped = onPg && !TEST_PG_URL;
  let opened: { store: Store; raw: Kysely<Database> } | null = null;
  beforeEach(async () => {
    if (!skipped) opened = await target.open();
  });
  afterEach(async () => {
    if (!skipped) await target.close();
  });
  const current = (): { store: Store; raw: Kysely<Database> } => {
    if (!opened) throw new Error('store not open');
    return opened;
  };
  return {
    get store() {
      return current().store;
    },
    get raw() {
      return current().raw;
    },
    test: it.skipIf(skipped),
  };
}

/** A ticket as the report and a person's deletion read it, written straight into the table. */
export interface TicketRow {
  readonly id: string;
  readonly number: string;
  readonly chatId: string;
  readonly userId: string;
  readonly channelChatId: string;
  readonly channelUserId: string;
  readonly chatKind?: 'private' | 'group';
  readonly category?: string;
  readonly channel?: string;
  readonly state?: 'registered' | 'assigned' | 'in_progress' | 'resolved' | 'followed_up' | 'archived';
  readonly assignee?: string | null;
  readonly createdAt: Date;
  readonly firstResponseAt?: Date | null;
  readonly resolvedAt?: Date | null;
  readonly rating?: number | null;
  readonly ratingComment?: string | null;
}

/** Writes a ticket row (what the ticket store's units write, without its numbering and audit). */
export async function insertTicket(raw: Kysely<Database>, t: TicketRow): Promise<void> {
  await raw.insertInto('tickets').values({
    id: t.id, number: t.number, day: t.createdAt.toISOString().slice(0, 10), seq: Number(t.number.slice(-4)), channel: t.channel ?? 'telegram',
    chat_id: t.chatId, user_id: t.userId, channel_chat_id: t.channelChatId, channel_user_id: t.channelUserId, chat_kind: t.chatKind ?? 'private',
    user_name: '王先生', source: 'human', category: t.category ?? '政策咨询类', priority: 'normal', state: t.state ?? 'registered', assignee: t.assignee ?? null,
    version: 1, last_change: t.id, due_at: t.createdAt.toISOString(), first_response_due_at: t.createdAt.toISOString(),
    first_response_at: t.firstResponseAt?.toISOString() ?? null, overdue_at: null, resolved_at: t.resolvedAt?.toISOString() ?? null, rating: t.rating ?? null,
    rating_comment: t.ratingComment ?? null, flagged: t.rating === 3 ? 1 : 0, created_at: t.createdAt.toISOString(), updated_at: t.createdAt.toISOString(),
  }).execute();
}

/** Writes one audit row of a ticket. */
export async function insertTicketEvent(raw: Kysely<Database>, ticketId: string, type: string, actor: string, at: Date, data: Record<string, unknown> = {}): Promise<void> {
  await raw.insertInto('ticket_events').values({ id: `${ticketId}:${type}:${at.getTime()}`, ticket_id: ticketId, type, actor, data: JSON.stringify(data), at: at.toISOString() }).execute();
}
