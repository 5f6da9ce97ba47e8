import type { CompiledQuery, Kysely } from 'kysely';
import { violatedUnique, type Together } from './connect.js';
import { newId } from './ids.js';
import { inboxCount } from './insight.js';
import { messageInsert, messageRow, type NewMessage } from './messages.js';
import { outboxInsert, type NewOutboxItem } from './outbox.js';
import type { Database } from './schema.js';
import { suggestionStatements, type SuggestionKey } from './suggestions.js';

/** What one inbound message leaves behind, stored together. */
export interface Intake {
  /** The message as received; its `channelMessageId` is what makes a second copy a duplicate. */
  readonly inbound: NewMessage & { readonly direction: 'in'; readonly channelMessageId: string };
  /** The replies to send, each also recorded in the conversation log. */
  readonly outbound: readonly NewOutboxItem[];
  /** The suggestions offered to the asker: replaced by new ones, or cleared (`null` ids); absent: left as they are. */
  readonly offer?: { readonly key: SuggestionKey; readonly ids: readonly string[] | null; readonly ttlMs: number; readonly now: Date };
  /**
   * What the message does to a ticket (opens one, adds to it, rates it), in the same unit: the
   * statements get the ids of the inbound message and of the queued replies. `ids` are the tickets
   * changed, told to the live feed once committed.
   */
  readonly ticket?: { readonly ids: readonly string[]; readonly statements: (inboundId: string, outboxIds: readonly string[]) => CompiledQuery[] };
}

/** How an intake ended. */
export type IntakeResult =
  | { readonly duplicate: true }
  | { readonly duplicate: false; readonly inboundId: string; readonly outboxIds: readonly string[] };

/**
 * The atomic intake: an inbound message, the bot's decision on it and everything it will send
 * commit in one unit, so that whatever a channel was told "received" is stored with its replies,
 * and whatever was not stored is handled afresh when the channel delivers it again.
 */
export interface IntakeRepository {
  /**
   * Stores the intake as one unit. `duplicate` when the chat already has an inbound message with the
   * same channel message id (a resent update, a repeated Wechaty event, another instance that got
   * it first): then nothing of this one is stored.
   */
  commit(intake: Intake): Promise<IntakeResult>;
}

/** The unique index that makes a second copy of an inbound message a duplicate (migration 0003). */
const INBOUND_KEY = /messages_inbound_key|messages\.channel, messages\.chat_id, messages\.channel_message_id/;

/** Intake over SQL: the message row is the dedupe marker, so the two cannot be apart. */
export function intakeRepository(db: Kysely<Database>, together: Together, changed: (ticketIds: readonly string[]) => void): IntakeRepository {
  const message = messageInsert(db);
  const queue = outboxInsert(db);
  const offers = suggestionStatements(db);
  const inbox = inboxCount(db);
  return {
    async commit(intake) {
      const inboundId = newId();
      const queued = intake.outbound.map(queue);
      const statements: CompiledQuery[] = [message.compile(messageRow(inboundId, intake.inbound)), ...queued.flatMap((q) => q.statements)];
      const counted = inbox(intake.inbound.decision, intake.inbound.at ?? new Date());
      if (counted) statements.push(counted);
      const offer = intake.offer;
      if (offer) statements.push(offer.ids ? offers.put(offer.key, offer.ids, offer.ttlMs, offer.now) : offers.take(offer.key));
      if (intake.ticket) statements.push(...intake.ticket.statements(inboundId, queued.map((q) => q.id)));
      try {
        await together(statements);
      } catch (err) {
        if (INBOUND_KEY.test(violatedUnique(err) ?? '')) return { duplicate: true };
        throw err;
      }
      if (intake.ticket) changed(intake.ticket.ids);
      return { duplicate: false, inboundId, outboxIds: queued.map((q) => q.id) };
    },
  };
}
