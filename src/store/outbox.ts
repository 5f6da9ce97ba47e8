import { sql, type CompiledQuery, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { OutboundMessage } from '../core/conversation/types.js';
import { violatedUnique, type StoreKind, type Together } from './connect.js';
import { newId } from './ids.js';
import { messageInsert } from './messages.js';
import { prepare, type PreparedQuery } from './prepared.js';
import { fromStored, toStored, type ChatKind, type Database, type OutboxState, type Row } from './schema.js';
import { maskPersonalData } from '../core/text/mask.js';

/** Lower goes first. Replies to someone waiting go before anything broadcast, whenever both wait. */
export const OUTBOX_PRIORITY = { reply: 0, broadcast: 10 } as const;

/** What a channel renders beyond the text (the same fields as on {@link OutboundMessage}). */
export type OutboxPayload = Pick<OutboundMessage, 'mention' | 'buttons'>;

/** A message to queue for sending. */
export interface NewOutboxItem {
  readonly channel: string;
  /** The store id from `identities.upsertChat`. */
  readonly chatId: string;
  /** The chat as its network names it. */
  readonly channelChatId: string;
  /** What it is: `reply`, `warning` (later `agent`, `notice`). */
  readonly kind: string;
  /** See {@link OUTBOX_PRIORITY}. */
  readonly priority: number;
  readonly text: string;
  /** The network's id of the message to quote. */
  readonly replyTo?: string | null;
  readonly payload?: OutboxPayload | null;
  /** What caused it, as `kind:id`. */
  readonly source?: string | null;
  /** Queued at most once ever under this key (one notice per recipient). */
  readonly dedupeKey?: string | null;
  /** Not sent before this time; now by default. */
  readonly notBefore?: Date;
  /** Expired rather than sent after this time; null or absent: never. */
  readonly expiresAt?: Date | null;
  /** When it was queued; now by default. */
  readonly at?: Date;
}

/** A queued message as stored, with where it is on its way. */
export interface OutboxItem {
  readonly id: string;
  readonly channel: string;
  readonly chatId: string;
  readonly channelChatId: string;
  readonly kind: string;
  readonly priority: number;
  readonly source: string | null;
  readonly text: string;
  readonly replyTo: string | null;
  readonly payload: OutboxPayload | null;
  readonly dedupeKey: string | null;
  readonly state: OutboxState;
  readonly attempts: number;
  readonly notBefore: Date;
  readonly expiresAt: Date | null;
  readonly createdAt: Date;
  readonly sentAt: Date | null;
  /** The network's id of the sent message. */
  readonly channelMessageId: string | null;
  /** Why the last attempt failed, or why the row was given up. */
  readonly lastError: string | null;
}

/** A row an instance has claimed for sending, with what the dispatcher needs to know of its chat. */
export interface ClaimedItem extends OutboxItem {
  /** The chat is marked unreachable (Telegram 403 earlier). */
  readonly chatUnreachable: boolean;
}

/** At most `limit` messages in any `windowMs`. */
export interface Rate {
  readonly limit: number;
  readonly windowMs: number;
  /** For a budget counted in fixed windows: where they start after the epoch's (8 hours for a Beijing day). */
  readonly offsetMs?: number;
}

/** What a claim asks for. */
export interface ClaimRequest {
  /** The claiming instance; only it can settle the rows. */
  readonly owner: string;
  /** Most rows to claim. */
  readonly limit: number;
  /** How long the claim holds unless renewed. */
  readonly leaseMs: number;
  /** Per chat kind, the rates a chat's sends must stay within (counted from the rows sent to it). */
  readonly pace: Readonly<Record<ChatKind, readonly Rate[]>>;
  /**
   * Only these rows, if they are claimable (the rows an intake has just queued): a claim that looks
   * up each by id instead of scanning everything that waits on the channel.
   */
  readonly ids?: readonly string[];
  readonly now?: Date;
}

/** Sizes of id lists a claim is compiled for; a list is padded to the next size. */
const ID_LIST_SIZES = [1, 4, 16, 64];

/** How a claimed row's attempt ended. */
export type Outcome =
  /** Delivered; `reachableAgain` clears the chat's unreachable mark. */
  | { readonly state: 'sent'; readonly at: Date; readonly channelMessageId: string | null; readonly reachableAgain?: boolean }
  /** Back to waiting until `notBefore`; `countsAsAttempt: false` gives the attempt back (a budget or a pause held it, not a failure). */
  | { readonly state: 'pending'; readonly notBefore: Date; readonly error: string | null; readonly countsAsAttempt: boolean }
  /** Given up. */
  | { readonly state: 'failed' | 'expired'; readonly error: string }
  /** The network refuses the chat (blocked, kicked): the chat is marked, and its waiting broadcasts given up too. */
  | { readonly state: 'unreachable'; readonly error: string; readonly at: Date };

/** Rows waiting or being sent on one channel. */
export interface OutboxDepth {
  readonly channel: string;
  readonly depth: number;
  /** When the oldest of them was queued. */
  readonly oldest: Date;
}

/** The outbox: every message the bot sends goes through it (see store/README.md). */
export interface OutboxRepository {
  /**
   * Queues messages, each recorded in the conversation log too (under the same id), each as a unit
   * of its own; returns each one's id, or null for one whose dedupe key was queued before (nothing
   * is stored for it).
   */
  enqueue(items: readonly NewOutboxItem[]): Promise<(string | null)[]>;
  /**
   * Claims up to `limit` rows of a channel that are due, for `leaseMs`: at most one per chat (the
   * first in priority and queue order, and none while another row of the chat is being sent), none
   * of a chat whose sends would exceed its pace, none while the channel is paused. Replies first,
   * then oldest first. Two instances never claim the same row (SKIP LOCKED on PostgreSQL, the one
   * writer on SQLite).
   */
  claim(channel: string, request: ClaimRequest): Promise<ClaimedItem[]>;
  /** Records how a claimed row's attempt ended; false when `owner` no longer holds the claim. */
  settle(item: Pick<OutboxItem, 'id' | 'chatId'>, owner: string, outcome: Outcome): Promise<boolean>;
  /** Extends the claims `owner` holds to `until`; returns how many. */
  renew(owner: string, until: Date): Promise<number>;
  /** Rows whose claim lapsed (their instance died) wait again; returns their channels, one per row. */
  recover(now?: Date): Promise<string[]>;
  /** Waiting rows past their expiry are expired; returns their channels, one per row. */
  expire(now?: Date): Promise<string[]>;
  /** Holds every instance's sends on `channel` until `until` (a later pause already set is kept). */
  pause(channel: string, until: Date, reason: string): Promise<void>;
  /**
   * Every row of `channel` waiting at `priority` or later (broadcasts) and due before `until` waits
   * until then: a day budget is spent, so the rest of a broadcast goes the next day while replies
   * keep going. Returns how many.
   */
  defer(channel: string, priority: number, until: Date): Promise<number>;
  /** Rows waiting or being sent, per channel. */
  depth(): Promise<OutboxDepth[]>;
  /**
   * One row by id, or null. A row's id is that of the outgoing message it delivers, so this also
   * says of a message in the conversation log whether and why it arrived.
   */
  get(id: string): Promise<OutboxItem | null>;
  /** Deletes finished rows queued before `before` that carry no dedupe key; returns how many. */
  prune(before: Date): Promise<number>;
}

/** The row's payload, or null; only what the stored JSON says. */
function parsePayload(json: string | null): OutboxPayload | null {
  return json === null ? null : (JSON.parse(json) as OutboxPayload);
}

function toItem(row: Row<'outbox'>): OutboxItem {
  return {
    id: row.id, channel: row.channel, chatId: row.chat_id, channelChatId: row.channel_chat_id, kind: row.kind, priority: Number(row.priority),
    source: row.source, text: row.text, replyTo: row.reply_to, payload: parsePayload(row.payload), dedupeKey: row.dedupe_key,
    state: row.state, attempts: Number(row.attempts), notBefore: fromStored(row.not_before), expiresAt: row.expires_at === null ? null : fromStored(row.expires_at),
    createdAt: fromStored(row.created_at), sentAt: row.sent_at === null ? null : fromStored(row.sent_at), channelMessageId: row.channel_message_id, lastError: row.last_error,
  };
}

/** The compiled statements that queue one item and record it in the conversation log, and its id (both rows'). */
export interface QueuedStatements {
  readonly id: string;
  readonly statements: CompiledQuery[];
}

/** Builds the statements that queue an item (used by the outbox and by intake, which adds them to its own unit). */
export function outboxInsert(db: Kysely<Database>): (item: NewOutboxItem) => QueuedStatements {
  const message = messageInsert(db);
  const insert = prepare(db, (r: Row<'outbox'>) =>
    db.insertInto('outbox').values({
      id: r.id, channel: r.channel, chat_id: r.chat_id, channel_chat_id: r.channel_chat_id, kind: r.kind, priority: r.priority,
      source: r.source, text: r.text, reply_to: r.reply_to, payload: r.payload, dedupe_key: r.dedupe_key, state: r.state, attempts: r.attempts,
      not_before: r.not_before, expires_at: r.expires_at, claimed_by: r.claimed_by, lease_until: r.lease_until, created_at: r.created_at, sent_at: r.sent_at,
      channel_message_id: r.channel_message_id, last_error: r.last_error,
    }));
  return (item) => {
    const at = item.at ?? new Date();
    const id = newId();
    const payload = item.payload && (item.payload.mention || item.payload.buttons) ? JSON.stringify(item.payload) : null;
    return {
      id,
      statements: [
        message.compile({ id, channel: item.channel, chat_id: item.chatId, user_id: null, direction: 'out', channel_message_id: null, text: maskPersonalData(item.text), created_at: toStored(at), entry_id: null, score: null, answered: null, reason: null, question_key: null }),
        insert.compile({
          id, channel: item.channel, chat_id: item.chatId, channel_chat_id: item.channelChatId, kind: item.kind, priority: item.priority,
          source: item.source ?? null, text: item.text, reply_to: item.replyTo ?? null, payload, dedupe_key: item.dedupeKey ?? null, state: 'pending', attempts: 0,
          not_before: toStored(item.notBefore ?? at), expires_at: item.expiresAt ? toStored(item.expiresAt) : null, claimed_by: null, lease_until: null,
          created_at: toStored(at), sent_at: null, channel_message_id: null, last_error: null,
        }),
      ],
    };
  };
}

/**
 * A state written into the SQL as a literal, not a parameter: the partial indexes (`WHERE state =
 * 'pending'`, `'sending'`) can only serve a statement whose text says the same state, on SQLite and
 * in PostgreSQL's prepared (generic) plans alike.
 */
function lit<S extends OutboxState>(state: S) {
  return sql.lit(state) as unknown as S;
}

/** Statement arguments keyed by name (the pace's arguments are numbered). */
type Args = Record<string, string | number>;

/**
 * The outbox over SQL. Every change of a row's state is one UPDATE guarded by the state it leaves
 * (and, for a claimed row, by its owner), so two instances never both move the same row. The claim
 * is the one statement that differs between the databases: PostgreSQL locks the rows it picks with
 * FOR UPDATE SKIP LOCKED, so a concurrent claim passes over them instead of waiting; SQLite runs it
 * under the one write lock.
 */
export function outboxRepository(db: Kysely<Database>, kind: StoreKind, together: Together): OutboxRepository {
  const queue = outboxInsert(db);
  const claims = new Map<string, PreparedQuery<Args, unknown>>();

  /**
   * Whether the row (`o` in the scanning claim, `outbox` in the claim of given rows) may be sent now:
   * due, its channel not paused, the head of its chat (nothing of the chat being sent, nothing
   * waiting before it in (priority, id) order: two lookups by (chat_id, state), so a chat's many
   * sent rows are never read), and its chat's sends within every rate of its kind's pace.
   */
  const claimable = (row: 'o' | 'outbox', a: Args, pace: ClaimRequest['pace']): RawBuilder<SqlBool> => {
    const r = (column: string) => sql.ref(`${row}.${column}`);
    const rates = (Object.keys(pace) as ChatKind[]).flatMap((chatKind) => pace[chatKind].map((_, i) => sql`((select c.kind from chats c where c.id = ${r('chat_id')}) <> ${a[`kind_${chatKind}`]}
      or (select count(*) from outbox s where s.chat_id = ${r('chat_id')} and s.state = ${lit('sent')} and s.sent_at > ${a[`since_${chatKind}_${i}`]}) < ${a[`limit_${chatKind}_${i}`]})`));
    return sql.join([
      sql`${r('not_before')} <= ${a.now}`,
      // Not correlated with the row: evaluated once per claim.
      sql`not exists (select 1 from channel_pauses cp where cp.channel = ${a.channel} and cp.until > ${a.now})`,
      sql`not exists (select 1 from outbox p where p.chat_id = ${r('chat_id')} and p.state = ${lit('sending')})`,
      sql`not exists (select 1 from outbox p where p.chat_id = ${r('chat_id')} and p.state = ${lit('pending')}
        and (p.priority < ${r('priority')} or (p.priority = ${r('priority')} and p.id < ${r('id')})))`,
      ...rates,
    ], sql` and `);
  };

  /**
   * The claim for one pace (its shape depends on how many rates there are) and, for a claim of given
   * rows, one size of id list, compiled once each. The scanning claim picks rows in order from the
   * partial index in a materialized CTE (locked FOR UPDATE SKIP LOCKED on PostgreSQL). The claim of
   * given rows is one plain UPDATE by id: as a CTE it took eight times as long per row on SQLite.
   * Both re-check the state in the UPDATE, against the latest version of a row another instance
   * changed meanwhile; there it is a parameter, so that no planner walks the partial index of every
   * waiting row to find the few claimed.
   */
  const claimFor = (pace: ClaimRequest['pace'], ids: number): PreparedQuery<Args, unknown> => {
    const shape = `${JSON.stringify(pace)}/${ids}`;
    let claim = claims.get(shape);
    if (claim) return claim;
    claim = prepare(db, (a: Args) => {
      const claimed = { state: 'sending' as const, claimed_by: a.owner as string, lease_until: a.leaseUntil as string };
      const unreachable = (e: ExpressionBuilder<Database, 'outbox'>) => e.selectFrom('chats').select('chats.unreachable_at').whereRef('chats.id', '=', 'outbox.chat_id').as('chat_unreachable_at');
      if (ids > 0) {
        return db
          .updateTable('outbox')
          .set((e) => ({ ...claimed, attempts: e(e.ref('attempts'), '+', 1) }))
          .where('id', 'in', Array.from({ length: ids }, (_, i) => a[`id_${i}`] as string))
          .where('state', '=', a.pending as 'pending')
          .where(claimable('outbox', a, pace))
          .returningAll()
          .returning((e) => [unreachable(e)]);
      }
      return db
        .with((w) => w('claimable').materialized(), (qc) => {
          const q = qc
            .selectFrom('outbox as o')
            .select('o.id')
            .where('o.channel', '=', a.channel as string)
            .where('o.state', '=', lit('pending'))
            .where(claimable('o', a, pace))
            .orderBy('o.priority')
            .orderBy('o.id')
            .limit(a.limit as number);
          return kind === 'postgres' ? q.forUpdate('o').skipLocked() : q;
        })
        .updateTable('outbox')
        .set((e) => ({ ...claimed, attempts: e(e.ref('attempts'), '+', 1) }))
        .where('id', 'in', (e) => e.selectFrom('claimable').select('claimable.id'))
        .where('state', '=', a.pending as 'pending')
        .returningAll()
        .returning((e) => [unreachable(e)]);
    });
    claims.set(shape, claim);
    return claim;
  };

  type Settle = { id: string; owner: string };
  const sent = prepare(db, (a: Settle & { at: string; mid: string | null }) =>
    db.updateTable('outbox').set({ state: 'sent', sent_at: a.at, channel_message_id: a.mid, last_error: null, claimed_by: null, lease_until: null })
      .where('id', '=', a.id).where('claimed_by', '=', a.owner).where('state', '=', lit('sending')).returning('id'));
  const waiting = prepare(db, (a: Settle & { notBefore: string; error: string | null; back: number }) =>
    db.updateTable('outbox')
      .set((e) => ({ state: 'pending', not_before: a.notBefore, last_error: a.error, attempts: e(e.ref('attempts'), '-', a.back), claimed_by: null, lease_until: null }))
      .where('id', '=', a.id).where('claimed_by', '=', a.owner).where('state', '=', lit('sending')).returning('id'));
  const finished = prepare(db, (a: Settle & { state: OutboxState; error: string }) =>
    db.updateTable('outbox').set({ state: a.state, last_error: a.error, claimed_by: null, lease_until: null })
      .where('id', '=', a.id).where('claimed_by', '=', a.owner).where('state', '=', lit('sending')).returning('id'));
  const markChat = prepare(db, (a: { chatId: string; at: string | null; reason: string | null }) =>
    db.updateTable('chats').set({ unreachable_at: a.at, unreachable_reason: a.reason }).where('id', '=', a.chatId));
  const dropBroadcasts = prepare(db, (a: { chatId: string; error: string; priority: number }) =>
    db.updateTable('outbox').set({ state: 'unreachable', last_error: a.error }).where('chat_id', '=', a.chatId).where('state', '=', lit('pending')).where('priority', '>=', a.priority));
  const renewal = prepare(db, (a: { owner: string; until: string }) =>
    db.updateTable('outbox').set({ lease_until: a.until }).where('claimed_by', '=', a.owner).where('state', '=', lit('sending')));
  const lapsed = prepare(db, (a: { now: string }) =>
    db.updateTable('outbox').set({ state: 'pending', claimed_by: null, lease_until: null, not_before: a.now })
      .where('state', '=', lit('sending')).where('lease_until', '<', a.now).returning('channel'));
  const overdue = prepare(db, (a: { now: string; error: string }) =>
    db.updateTable('outbox').set({ state: 'expired', last_error: a.error }).where('state', '=', lit('pending')).where('expires_at', '<=', a.now).returning('channel'));
  const hold = prepare(db, (a: { channel: string; until: string; reason: string }) =>
    db.insertInto('channel_pauses').values({ channel: a.channel, until: a.until, reason: a.reason })
      .onConflict((oc) => oc.column('channel').doUpdateSet((e) => ({
        until: e.case().when(e(e.ref('excluded.until'), '>', e.ref('channel_pauses.until'))).then(e.ref('excluded.until')).else(e.ref('channel_pauses.until')).end(),
        reason: e.case().when(e(e.ref('excluded.until'), '>', e.ref('channel_pauses.until'))).then(e.ref('excluded.reason')).else(e.ref('channel_pauses.reason')).end(),
      }))));

  const settled = (results: { rows: unknown[] }[]): boolean => (results[0]?.rows.length ?? 0) > 0;

  return {
    async enqueue(items) {
      return Promise.all(items.map(async (item) => {
        const queued = queue(item);
        try {
          await together(queued.statements);
        } catch (err) {
          if (item.dedupeKey && violatedUnique(err)?.includes('dedupe_key')) return null;
          throw err;
        }
        return queued.id;
      }));
    },

    async claim(channel, request) {
      const now = request.now ?? new Date();
      if (!Number.isInteger(request.limit) || request.limit <= 0) throw new RangeError(`limit 应为正整数，当前为 ${request.limit}`);
      const args: Args = { channel, now: toStored(now), owner: request.owner, leaseUntil: toStored(new Date(now.getTime() + request.leaseMs)), limit: request.limit, pending: 'pending' };
      for (const [chatKind, rates] of Object.entries(request.pace)) {
        args[`kind_${chatKind}`] = chatKind;
        rates.forEach((rate, i) => {
          args[`since_${chatKind}_${i}`] = toStored(new Date(now.getTime() - rate.windowMs));
          args[`limit_${chatKind}_${i}`] = rate.limit;
        });
      }
      const ids = request.ids ?? [];
      if (request.ids && ids.length === 0) return [];
      const size = ids.length === 0 ? 0 : (ID_LIST_SIZES.find((n) => n >= ids.length) ?? ids.length);
      // Padded with an id no row has: a lookup that finds nothing costs next to nothing, while a
      // repeated id would be checked and looked up again.
      for (let i = 0; i < size; i++) args[`id_${i}`] = ids[i] ?? '';
      const { rows } = await claimFor(request.pace, size).execute(args);
      return (rows as (Row<'outbox'> & { chat_unreachable_at: string | null })[])
        .map((row) => ({ ...toItem(row), chatUnreachable: row.chat_unreachable_at !== null }))
        .sort((x, y) => x.priority - y.priority || (x.id < y.id ? -1 : 1));
    },

    async settle(item, owner, outcome) {
      const who = { id: item.id, owner };
      switch (outcome.state) {
        case 'sent': {
          const statements: CompiledQuery[] = [sent.compile({ ...who, at: toStored(outcome.at), mid: outcome.channelMessageId })];
          if (outcome.reachableAgain) statements.push(markChat.compile({ chatId: item.chatId, at: null, reason: null }));
          return settled(await together(statements));
        }
        case 'pending':
          return settled(await together([waiting.compile({ ...who, notBefore: toStored(outcome.notBefore), error: outcome.error, back: outcome.countsAsAttempt ? 0 : 1 })]));
        case 'unreachable':
          return settled(await together([
            finished.compile({ ...who, state: 'unreachable', error: outcome.error }),
            markChat.compile({ chatId: item.chatId, at: toStored(outcome.at), reason: outcome.error }),
            dropBroadcasts.compile({ chatId: item.chatId, error: outcome.error, priority: OUTBOX_PRIORITY.broadcast }),
          ]));
        default:
          return settled(await together([finished.compile({ ...who, state: outcome.state, error: outcome.error })]));
      }
    },

    async renew(owner, until) {
      const result = await renewal.execute({ owner, until: toStored(until) });
      return Number(result.numAffectedRows ?? 0);
    },

    async recover(now = new Date()) {
      const { rows } = await lapsed.execute({ now: toStored(now) });
      return rows.map((r) => r.channel);
    },

    async expire(now = new Date()) {
      const { rows } = await overdue.execute({ now: toStored(now), error: '等待超过最长时限，不再发送' });
      return rows.map((r) => r.channel);
    },

    async pause(channel, until, reason) {
      await hold.execute({ channel, until: toStored(until), reason });
    },

    async defer(channel, priority, until) {
      const result = await db
        .updateTable('outbox')
        .set({ not_before: toStored(until) })
        .where('channel', '=', channel)
        .where('state', '=', lit('pending'))
        .where('priority', '>=', priority)
        .where('not_before', '<', toStored(until))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async depth() {
      const rows = await db
        .selectFrom('outbox')
        .select((e) => ['channel', e.fn.countAll().as('depth'), e.fn.min('created_at').as('oldest')])
        .where('state', 'in', [lit('pending'), lit('sending')])
        .groupBy('channel')
        .execute();
      return rows.map((r) => ({ channel: r.channel, depth: Number(r.depth), oldest: fromStored(String(r.oldest)) }));
    },

    async get(id) {
      const row = await db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toItem(row) : null;
    },

    async prune(before) {
      const result = await db
        .deleteFrom('outbox')
        .where('created_at', '<', toStored(before))
        .where('state', 'in', [lit('sent'), lit('failed'), lit('expired'), lit('unreachable')])
        .where('dedupe_key', 'is', null)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
