import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { ChatRef } from '../core/notices/profile.js';
import { budgetRepository } from './budget.js';
import { fromStored, toStored, type Database } from './schema.js';

/**
 * Failed redemptions allowed before binding is refused until the window ends: per chat (someone
 * mistyping gets a few tries) and over all chats together (someone guessing from many accounts).
 * A code is 6 digits, so with N codes waiting to be used a guess hits with odds N in 1,000,000: at
 * 100 failures an hour over everything, 1,000 waiting codes give a guesser about one hit in ten hours,
 * which is why a profile has only one waiting code at a time and codes expire.
 */
export const BINDING_LIMITS = {
  perChat: { limit: 5, windowMs: 3_600_000 },
  overall: { limit: 100, windowMs: 3_600_000 },
} as const;

/** A code issued for a profile. */
export interface IssuedCode {
  readonly code: string;
  readonly expiresAt: Date;
}

/** What sending a code did: the chat linked to the profile, or why not (and for `limited` until when). */
export type Redemption =
  | { readonly ok: true; readonly subscriberId: string; readonly taxpayerId: string; readonly name: string }
  | { readonly ok: false; readonly reason: 'unknown' | 'expired' | 'used' }
  | { readonly ok: false; readonly reason: 'limited'; readonly retryAt: Date };

/** One-time codes that link a chat to a profile. */
export interface BindingRepository {
  /**
   * A new 6-digit code for a profile, valid for `validMs`; a code the profile had waiting is void
   * from now on, so each profile has one at a time.
   */
  issue(subscriberId: string, validMs: number, createdBy: string | null, now?: Date): Promise<IssuedCode>;
  /**
   * Redeems a code sent from a chat: once only, before it expires. The chat is then linked to the
   * code's profile (moved from another profile if it was linked elsewhere: whoever holds the code
   * is that taxpayer). Every failure counts against the chat's and everybody's limits
   * ({@link BINDING_LIMITS}); past either, codes are not even looked at until the window ends.
   */
  redeem(code: string, chat: ChatRef, now?: Date): Promise<Redemption>;
}

/** A uniformly drawn 6-digit code (leading zeros kept). */
function drawCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, '0');
}

/**
 * Binding codes over SQL. A code is the primary key: issuing inserts a drawn code with ON CONFLICT
 * DO NOTHING after clearing that code's spent rows (used or expired), and draws again when a waiting
 * code holds it. Redeeming is one UPDATE ... WHERE unused and unexpired ... RETURNING, so two chats
 * sending the same code at once cannot both win. Codes are kept in the clear: six digits hashed
 * would be found again by trying all million.
 */
export function bindingRepository(db: Kysely<Database>): BindingRepository {
  const budget = budgetRepository(db);
  const chatKey = (chat: ChatRef): string => `binding:${chat.channel}:${chat.chatId}`;
  const OVERALL = 'binding:*';

  return {
    async issue(subscriberId, validMs, createdBy, now = new Date()) {
      const at = toStored(now);
      const expiresAt = new Date(now.getTime() + validMs);
      return db.transaction().execute(async (trx) => {
        await trx.deleteFrom('binding_codes').where('subscriber_id', '=', subscriberId).where('used_at', 'is', null).execute();
        for (let tries = 0; tries < 20; tries++) {
          const code = drawCode();
          await trx.deleteFrom('binding_codes').where('code', '=', code).where((eb) => eb.or([eb('used_at', 'is not', null), eb('expires_at', '<=', at)])).execute();
          const row = await trx
            .insertInto('binding_codes')
            .values({ code, subscriber_id: subscriberId, created_by: createdBy, created_at: at, expires_at: toStored(expiresAt), used_at: null, used_channel: null, used_chat_id: null })
            .onConflict((oc) => oc.column('code').doNothing())
            .returning('code')
            .executeTakeFirst();
          if (row) return { code, expiresAt };
        }
        throw new Error('无法生成不重复的绑定码：等待使用的绑定码太多');
      });
    },

    async redeem(code, chat, now = new Date()) {
      const { perChat, overall } = BINDING_LIMITS;
      const retryAt = (windowMs: number): Date => new Date(now.getTime() - (now.getTime() % windowMs) + windowMs);
      if (!(await budget.tryConsume(chatKey(chat), perChat.windowMs, perChat.limit, now))) return { ok: false, reason: 'limited', retryAt: retryAt(perChat.windowMs) };
      if (!(await budget.tryConsume(OVERALL, overall.windowMs, overall.limit, now))) {
        await budget.release(chatKey(chat), perChat.windowMs, now);
        return { ok: false, reason: 'limited', retryAt: retryAt(overall.windowMs) };
      }
      const at = toStored(now);
      const redeemed = await db.transaction().execute(async (trx) => {
        const used = await trx
          .updateTable('binding_codes')
          .set({ used_at: at, used_channel: chat.channel, used_chat_id: chat.chatId })
          .where('code', '=', code)
          .where('used_at', 'is', null)
          .where('expires_at', '>', at)
          .returning('subscriber_id')
          .executeTakeFirst();
        if (!used) return null;
        await trx
          .insertInto('subscriber_chats')
          .values({ channel: chat.channel, channel_chat_id: chat.chatId, subscriber_id: used.subscriber_id, via: 'code', linked_at: at })
          .onConflict((oc) => oc.columns(['channel', 'channel_chat_id']).doUpdateSet({ subscriber_id: used.subscriber_id, via: 'code', linked_at: at }))
          .execute();
        return trx.selectFrom('subscribers').select(['id', 'taxpayer_id', 'name']).where('id', '=', used.subscriber_id).executeTakeFirstOrThrow();
      });
      if (redeemed) {
        // A right code is not a failure: both counts are given back.
        await Promise.all([budget.release(chatKey(chat), perChat.windowMs, now), budget.release(OVERALL, overall.windowMs, now)]);
        return { ok: true, subscriberId: redeemed.id, taxpayerId: redeemed.taxpayer_id, name: redeemed.name };
      }
      const row = await db.selectFrom('binding_codes').select(['used_at', 'expires_at']).where('code', '=', code).executeTakeFirst();
      if (!row) return { ok: false, reason: 'unknown' };
      return { ok: false, reason: row.used_at !== null ? 'used' : fromStored(row.expires_at) <= now ? 'expired' : 'unknown' };
    },
  };
}
