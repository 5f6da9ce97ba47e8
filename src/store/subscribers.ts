import { sql, type ExpressionBuilder, type Kysely, type Transaction } from 'kysely';
import type { Audience } from '../core/notices/audience.js';
import { applyUpdate, type ChatRef, type Profile, type ValidProfile } from '../core/notices/profile.js';
import type { Candidate } from '../core/notices/recipients.js';
import { ALL_TOPICS, type TopicStates } from '../core/notices/topics.js';
import { placeOrder, type CreditGrade, type TaxpayerType } from '../core/notices/vocabulary.js';
import { newId } from './ids.js';
import { fromStored, toStored, type Database, type LinkVia, type Row } from './schema.js';

/** A chat linked to a profile, and how and when it was linked. */
export interface LinkedChat extends ChatRef {
  readonly via: LinkVia;
  readonly linkedAt: Date;
}

/** A stored profile with its store id and linked chats. */
export interface StoredProfile extends Profile {
  readonly id: string;
  readonly chats: readonly LinkedChat[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** What became of one import item: stored (new or updated), or refused with the reason. */
export type UpsertOutcome = { readonly ok: true; readonly created: boolean } | { readonly ok: false; readonly message: string };

/** The console's filters over the list of profiles; every one given must hold. */
export interface SubscriberFilter {
  /** Part of the name, or the start of the taxpayer id. */
  readonly q?: string;
  readonly taxpayerType?: TaxpayerType;
  readonly industry?: string;
  readonly credit?: CreditGrade;
  readonly office?: string;
  readonly region?: string;
  readonly tag?: string;
  /** true: only profiles with a linked chat; false: only those without. */
  readonly linked?: boolean;
}

/** How often each office, region and tag occurs: the choices of the console's filters and audience editor. */
export interface Facets {
  readonly offices: { value: string; count: number }[];
  readonly regions: { value: string; count: number }[];
  readonly tags: { value: string; count: number }[];
}

/** Taxpayer profiles, the chats linked to them and the chats' topic choices. */
export interface SubscriberRepository {
  /**
   * Stores import items by taxpayer id (new ones created, known ones updated with the fields the item
   * has) and links their chats, answering one outcome per item in order. An item whose chat is
   * linked to another profile is refused and writes nothing. Items are written in chunks, each in one
   * transaction: no item is ever half written.
   */
  upsert(items: readonly ValidProfile[], now?: Date): Promise<UpsertOutcome[]>;
  /** One profile by taxpayer id, or null. */
  get(taxpayerId: string): Promise<StoredProfile | null>;
  /** A page of profiles matching the filter, most recently updated first, and how many match in all. */
  list(filter: SubscriberFilter, offset: number, limit: number): Promise<{ total: number; profiles: StoredProfile[] }>;
  /** Offices, regions and tags in use, most frequent first. */
  facets(): Promise<Facets>;
  /**
   * Profiles that may be in `audience` (the store narrows by the plain fields; core/notices decides),
   * with their linked chats and those chats' choices about `topics` and about every topic.
   */
  candidates(audience: Audience, topics: readonly string[]): Promise<Candidate[]>;
  /** Records a chat's choice about a topic ({@link ALL_TOPICS} for every topic): true 订阅, false 退订. */
  setTopic(chat: ChatRef, topic: string, subscribed: boolean, now?: Date): Promise<void>;
  /** A chat's topic choices. */
  topics(chat: ChatRef): Promise<TopicStates>;
}

/** Items per transaction: big enough to make an import of thousands quick, small enough for both databases' parameter limits. */
const CHUNK = 400;

/** A LIKE pattern that finds `text` literally (with `escape '\'`). */
function literalLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function toProfile(row: Row<'subscribers'>, chats: readonly LinkedChat[]): StoredProfile {
  return {
    id: row.id,
    taxpayerId: row.taxpayer_id,
    name: row.name,
    taxpayerType: row.taxpayer_type,
    industry: row.industry,
    credit: row.credit,
    office: row.office,
    region: row.region,
    tags: JSON.parse(row.tags) as string[],
    chats,
    createdAt: fromStored(row.created_at),
    updatedAt: fromStored(row.updated_at),
  };
}

function toLinked(row: Row<'subscriber_chats'>): LinkedChat {
  return { channel: row.channel as ChatRef['channel'], chatId: row.channel_chat_id, via: row.via, linkedAt: fromStored(row.linked_at) };
}

/** The chats linked to the given profiles, by profile id. */
async function chatsOf(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, LinkedChat[]>> {
  const out = new Map<string, LinkedChat[]>();
  if (ids.length === 0) return out;
  const rows = await db.selectFrom('subscriber_chats').selectAll().where('subscriber_id', 'in', ids).orderBy('linked_at').execute();
  for (const row of rows) out.set(row.subscriber_id, [...(out.get(row.subscriber_id) ?? []), toLinked(row)]);
  return out;
}

/** Writes one chunk of items in the transaction `trx`; outcomes in the items' order. */
async function upsertChunk(trx: Transaction<Database>, items: readonly ValidProfile[], now: string): Promise<UpsertOutcome[]> {
  const ids = items.map((i) => i.update.taxpayerId);
  const existing = new Map((await trx.selectFrom('subscribers').selectAll().where('taxpayer_id', 'in', ids).execute()).map((r) => [r.taxpayer_id, r]));

  // Chats the items want, and whom they are linked to now.
  const wanted = items.flatMap((i) => i.chats);
  const linkedTo = new Map<string, { taxpayerId: string; name: string }>();
  if (wanted.length > 0) {
    const links = await trx
      .selectFrom('subscriber_chats')
      .innerJoin('subscribers', 'subscribers.id', 'subscriber_chats.subscriber_id')
      .select(['subscriber_chats.channel', 'subscriber_chats.channel_chat_id', 'subscribers.taxpayer_id', 'subscribers.name'])
      .where('subscriber_chats.channel_chat_id', 'in', [...new Set(wanted.map((c) => c.chatId))])
      .execute();
    for (const l of links) linkedTo.set(`${l.channel}:${l.channel_chat_id}`, { taxpayerId: l.taxpayer_id, name: l.name });
  }

  const outcomes: UpsertOutcome[] = [];
  const accepted: ValidProfile[] = [];
  for (const item of items) {
    const { taxpayerId } = item.update;
    const clash = item.chats.map((c) => ({ c, owner: linkedTo.get(`${c.channel}:${c.chatId}`) })).find((x) => x.owner && x.owner.taxpayerId !== taxpayerId);
    if (clash) {
      outcomes.push({ ok: false, message: `${clash.c.channel}:${clash.c.chatId} 已绑定纳税人“${clash.owner?.name ?? ''}”，一个聊天只能绑定一个纳税人` });
      continue;
    }
    for (const c of item.chats) linkedTo.set(`${c.channel}:${c.chatId}`, { taxpayerId, name: item.update.name });
    outcomes.push({ ok: true, created: !existing.has(taxpayerId) });
    accepted.push(item);
  }
  if (accepted.length === 0) return outcomes;

  const rows = accepted.map((item) => {
    const stored = existing.get(item.update.taxpayerId);
    const p = applyUpdate(stored ? toProfile(stored, []) : null, item.update);
    return {
      id: stored?.id ?? newId(),
      taxpayer_id: p.taxpayerId,
      name: p.name,
      taxpayer_type: p.taxpayerType,
      industry: p.industry,
      credit: p.credit,
      office: p.office,
      region: p.region,
      tags: JSON.stringify(p.tags),
      created_at: stored?.created_at ?? now,
      updated_at: now,
    };
  });
  const stored = await trx
    .insertInto('subscribers')
    .values(rows)
    .onConflict((oc) =>
      oc.column('taxpayer_id').doUpdateSet((eb) => ({
        name: eb.ref('excluded.name'),
        taxpayer_type: eb.ref('excluded.taxpayer_type'),
        industry: eb.ref('excluded.industry'),
        credit: eb.ref('excluded.credit'),
        office: eb.ref('excluded.office'),
        region: eb.ref('excluded.region'),
        tags: eb.ref('excluded.tags'),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .returning(['id', 'taxpayer_id'])
    .execute();
  const idOf = new Map(stored.map((r) => [r.taxpayer_id, r.id]));
  const links = accepted.flatMap((item) =>
    item.chats.map((c) => ({ channel: c.channel, channel_chat_id: c.chatId, subscriber_id: idOf.get(item.update.taxpayerId) as string, via: 'staff' as const, linked_at: now })),
  );
  if (links.length > 0) await trx.insertInto('subscriber_chats').values(links).onConflict((oc) => oc.columns(['channel', 'channel_chat_id']).doNothing()).execute();
  return outcomes;
}

/**
 * Profiles over SQL. Imports run a transaction per chunk of items: what is already stored and which
 * chats are linked to whom are read inside it, so refusals are decided on what the writes will meet.
 */
export function subscriberRepository(db: Kysely<Database>): SubscriberRepository {
  /** The WHERE of {@link SubscriberFilter} on `subscribers`. */
  const filtered = (filter: SubscriberFilter) => {
    let q = db.selectFrom('subscribers');
    const text = filter.q?.trim();
    if (text) {
      const pattern = literalLike(text);
      q = q.where((eb) => eb.or([sql<boolean>`${eb.ref('name')} like ${`%${pattern}%`} escape '\\'`, sql<boolean>`${eb.ref('taxpayer_id')} like ${`${pattern.toUpperCase()}%`} escape '\\'`]));
    }
    if (filter.taxpayerType) q = q.where('taxpayer_type', '=', filter.taxpayerType);
    if (filter.industry) q = q.where('industry', '=', filter.industry);
    if (filter.credit) q = q.where('credit', '=', filter.credit);
    if (filter.office) q = q.where('office', '=', filter.office);
    if (filter.region) q = q.where('region', '=', filter.region);
    // Tags are a JSON array of strings: a tag is in it exactly when its JSON form, quotes included, is.
    if (filter.tag) q = q.where(sql<boolean>`tags like ${`%${literalLike(JSON.stringify(filter.tag))}%`} escape '\\'`);
    if (filter.linked !== undefined) {
      const linked = (eb: ExpressionBuilder<Database, 'subscribers'>) => eb.exists(eb.selectFrom('subscriber_chats').select('subscriber_chats.subscriber_id').whereRef('subscriber_chats.subscriber_id', '=', 'subscribers.id'));
      q = q.where((eb) => (filter.linked ? linked(eb) : eb.not(linked(eb))));
    }
    return q;
  };

  return {
    async upsert(items, now = new Date()) {
      const at = toStored(now);
      const outcomes: UpsertOutcome[] = [];
      for (let i = 0; i < items.length; i += CHUNK) {
        const chunk = items.slice(i, i + CHUNK);
        outcomes.push(...(await db.transaction().execute((trx) => upsertChunk(trx, chunk, at))));
      }
      return outcomes;
    },

    async get(taxpayerId) {
      const row = await db.selectFrom('subscribers').selectAll().where('taxpayer_id', '=', taxpayerId).executeTakeFirst();
      if (!row) return null;
      return toProfile(row, (await chatsOf(db, [row.id])).get(row.id) ?? []);
    },

    async list(filter, offset, limit) {
      const [count, rows] = await Promise.all([
        filtered(filter).select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
        filtered(filter).selectAll('subscribers').orderBy('updated_at', 'desc').orderBy('taxpayer_id').offset(offset).limit(limit).execute(),
      ]);
      const chats = await chatsOf(db, rows.map((r) => r.id));
      return { total: Number(count.n), profiles: rows.map((r) => toProfile(r, chats.get(r.id) ?? [])) };
    },

    async facets() {
      const count = (column: 'office' | 'region') =>
        db.selectFrom('subscribers').select([column, (eb) => eb.fn.countAll<number | string>().as('n')]).where(column, 'is not', null).groupBy(column).execute();
      const [offices, regions, tagRows] = await Promise.all([count('office'), count('region'), db.selectFrom('subscribers').select('tags').where('tags', '!=', '[]').execute()]);
      const tagCounts = new Map<string, number>();
      for (const row of tagRows) for (const tag of JSON.parse(row.tags) as string[]) tagCounts.set(tag, (tagCounts.get(tag) ?? 0) + 1);
      const ranked = (pairs: Iterable<[string, number]>) =>
        [...pairs].map(([value, n]) => ({ value, count: n })).sort((a, b) => b.count - a.count || placeOrder(a.value, b.value));
      return {
        offices: ranked(offices.map((r) => [r.office as string, Number(r.n)])),
        regions: ranked(regions.map((r) => [r.region as string, Number(r.n)])),
        tags: ranked(tagCounts),
      };
    },

    async candidates(audience, topics) {
      let q = db
        .selectFrom('subscribers')
        .leftJoin('subscriber_chats', 'subscriber_chats.subscriber_id', 'subscribers.id')
        .selectAll('subscribers')
        .select(['subscriber_chats.channel', 'subscriber_chats.channel_chat_id']);
      if (audience.taxpayerType?.length) q = q.where('subscribers.taxpayer_type', 'in', audience.taxpayerType);
      if (audience.industry?.length) q = q.where('subscribers.industry', 'in', audience.industry);
      if (audience.credit?.length) q = q.where('subscribers.credit', 'in', audience.credit);
      if (audience.office?.length) q = q.where('subscribers.office', 'in', audience.office);
      if (audience.region?.length) q = q.where('subscribers.region', 'in', audience.region);
      const [rows, choices] = await Promise.all([
        q.orderBy('subscribers.taxpayer_id').execute(),
        db.selectFrom('chat_topics').selectAll().where('topic', 'in', [ALL_TOPICS, ...topics]).execute(),
      ]);
      const statesOf = new Map<string, Map<string, boolean>>();
      for (const c of choices) {
        const key = `${c.channel}:${c.channel_chat_id}`;
        statesOf.set(key, (statesOf.get(key) ?? new Map<string, boolean>()).set(c.topic, c.subscribed === 1));
      }
      const none: TopicStates = new Map();
      const byId = new Map<string, Candidate & { chats: Candidate['chats'][number][] }>();
      for (const row of rows) {
        let candidate = byId.get(row.id);
        if (!candidate) {
          candidate = { subscriberId: row.id, profile: toProfile(row, []), chats: [] };
          byId.set(row.id, candidate);
        }
        if (row.channel !== null && row.channel_chat_id !== null) {
          candidate.chats.push({ channel: row.channel as ChatRef['channel'], chatId: row.channel_chat_id, topics: statesOf.get(`${row.channel}:${row.channel_chat_id}`) ?? none });
        }
      }
      return [...byId.values()];
    },

    async setTopic(chat, topic, subscribed, now = new Date()) {
      await db
        .insertInto('chat_topics')
        .values({ channel: chat.channel, channel_chat_id: chat.chatId, topic, subscribed: subscribed ? 1 : 0, updated_at: toStored(now) })
        .onConflict((oc) => oc.columns(['channel', 'channel_chat_id', 'topic']).doUpdateSet((eb) => ({ subscribed: eb.ref('excluded.subscribed'), updated_at: eb.ref('excluded.updated_at') })))
        .execute();
    },

    async topics(chat) {
      const rows = await db.selectFrom('chat_topics').select(['topic', 'subscribed']).where('channel', '=', chat.channel).where('channel_chat_id', '=', chat.chatId).execute();
      return new Map(rows.map((r) => [r.topic, r.subscribed === 1]));
    },
  };
}
