import { matchesAudience, type Audience } from './audience.js';
import type { ChatRef, Profile } from './profile.js';
import { placeOrder } from './vocabulary.js';
import { receivesNotice, topicAllowed, type TopicStates } from './topics.js';

/** A profile as the store hands it to planning: its id, the profile, and its linked chats with their topic choices. */
export interface Candidate {
  readonly subscriberId: string;
  readonly profile: Profile;
  readonly chats: readonly (ChatRef & { readonly topics: TopicStates })[];
}

/** What planning needs of a notice: who it is for, its topics, and its items with their audiences and topics. */
export interface Targeting {
  readonly audience: Audience;
  readonly topics: readonly string[];
  readonly items: readonly { readonly entryId: string; readonly category: string; readonly audience: Audience }[];
}

/** One chat that gets the notice, and for a pack the items it gets (entry ids, in the pack's order). */
export interface Recipient {
  readonly subscriberId: string;
  readonly profile: Profile;
  readonly chat: ChatRef;
  readonly items: readonly string[];
}

/** Who gets a notice and why the others do not. Counts of profiles are 户 (households), of chats 聊天. */
export interface Plan {
  readonly recipients: readonly Recipient[];
  /** Profiles in the audience. */
  readonly matched: number;
  /** Profiles in the audience with no linked chat: nobody to send to. */
  readonly unlinked: number;
  /** Linked chats that turned the notice's topic (or every topic) off. */
  readonly optedOut: number;
  /** Linked chats of a pack for which no item is meant (no item's tags match, or their topics are off). */
  readonly withoutItems: number;
}

/**
 * Who gets a notice: every linked chat of every profile in the audience that takes its topics and,
 * for a pack (一户一策), gets at least one item: the items whose audience tags match the profile
 * (items without tags go to everyone) and whose topic the chat has not turned off. A chat of a
 * pack with no item for it gets nothing rather than a bare cover note.
 */
export function planRecipients(candidates: Iterable<Candidate>, notice: Targeting): Plan {
  const pack = notice.items.length > 0;
  const recipients: Recipient[] = [];
  let matched = 0;
  let unlinked = 0;
  let optedOut = 0;
  let withoutItems = 0;
  for (const c of candidates) {
    if (!matchesAudience(c.profile, notice.audience)) continue;
    matched++;
    if (c.chats.length === 0) unlinked++;
    const meant = notice.items.filter((i) => matchesAudience(c.profile, i.audience));
    for (const chat of c.chats) {
      if (!receivesNotice(chat.topics, notice.topics, pack)) {
        optedOut++;
        continue;
      }
      const items = meant.filter((i) => topicAllowed(chat.topics, i.category)).map((i) => i.entryId);
      if (pack && items.length === 0) {
        withoutItems++;
        continue;
      }
      recipients.push({ subscriberId: c.subscriberId, profile: c.profile, chat: { channel: chat.channel, chatId: chat.chatId }, items });
    }
  }
  return { recipients, matched, unlinked, optedOut, withoutItems };
}

/** Recipients of one office (null: profiles without one). */
export interface OfficeCount {
  readonly office: string | null;
  readonly households: number;
  readonly chats: number;
}

/** A plan's figures for staff: totals, by office (largest first), how many chats get each item, and a sample. */
export interface PlanSummary {
  /** Chats that get the notice: the rows a send will queue (the contract's `targeted`). */
  readonly targeted: number;
  /** Profiles (户) with at least one such chat. */
  readonly households: number;
  readonly matched: number;
  readonly unlinked: number;
  readonly optedOut: number;
  readonly withoutItems: number;
  readonly byOffice: readonly OfficeCount[];
  /** For a pack: each item's entry id and how many chats get it, in the pack's order. */
  readonly items: readonly { readonly entryId: string; readonly chats: number }[];
  /** Up to `sampleSize` recipients, one per profile, every different set of items shown first. */
  readonly sample: readonly Recipient[];
}

/** How many recipients a preview shows. */
export const SAMPLE_SIZE = 10;

/**
 * Sums a plan up. The sample shows one recipient per profile and, for a pack, first one recipient
 * of every distinct set of items (so staff see that two recipients get different messages), then
 * the others in the order they came.
 */
export function summarize(plan: Plan, itemIds: readonly string[], sampleSize = SAMPLE_SIZE): PlanSummary {
  const offices = new Map<string | null, { households: Set<string>; chats: number }>();
  const households = new Set<string>();
  const itemChats = new Map(itemIds.map((id) => [id, 0]));
  for (const r of plan.recipients) {
    households.add(r.subscriberId);
    const office = offices.get(r.profile.office) ?? { households: new Set<string>(), chats: 0 };
    office.households.add(r.subscriberId);
    office.chats++;
    offices.set(r.profile.office, office);
    for (const id of r.items) itemChats.set(id, (itemChats.get(id) ?? 0) + 1);
  }
  const byOffice = [...offices].map(([office, c]) => ({ office, households: c.households.size, chats: c.chats }))
    .sort((a, b) => b.households - a.households || b.chats - a.chats || (a.office === null ? 1 : b.office === null ? -1 : placeOrder(a.office, b.office)));

  const sample: Recipient[] = [];
  const sampled = new Set<string>();
  const sets = new Set<string>();
  const take = (r: Recipient): void => {
    if (sample.length >= sampleSize || sampled.has(r.subscriberId)) return;
    sample.push(r);
    sampled.add(r.subscriberId);
    sets.add(r.items.join('\n'));
  };
  for (const r of plan.recipients) if (!sets.has(r.items.join('\n'))) take(r);
  for (const r of plan.recipients) take(r);

  return {
    targeted: plan.recipients.length,
    households: households.size,
    matched: plan.matched,
    unlinked: plan.unlinked,
    optedOut: plan.optedOut,
    withoutItems: plan.withoutItems,
    byOffice,
    items: [...itemChats].map(([entryId, chats]) => ({ entryId, chats })),
    sample,
  };
}

/**
 * A taxpayer id as a preview shows it: the first six and last four characters (the region and the
 * check digits of an identity number), the rest hidden, as ID numbers are masked on Chinese forms.
 */
export function maskTaxpayerId(id: string): string {
  if (id.length <= 10) return `${id.slice(0, 2)}${'*'.repeat(Math.max(0, id.length - 4))}${id.slice(-2)}`;
  return `${id.slice(0, 6)}${'*'.repeat(id.length - 10)}${id.slice(-4)}`;
}

/** A name as a preview shows it: a natural person's name is a person's name, so only its first character stays; a business name is shown. */
export function maskName(profile: Pick<Profile, 'name' | 'taxpayerType'>): string {
  if (profile.taxpayerType !== '自然人') return profile.name;
  const chars = [...profile.name];
  return `${chars[0] ?? ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
}
